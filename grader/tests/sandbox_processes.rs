//! The sandbox runs real programs (shell one-liners) and reports how they ended, what they
//! printed, and which processes they abandoned or left running — and nothing survives a run.

mod sandbox_common;

use std::time::{Duration, Instant};

use grader::scenario::{Exit, Input, Isolation};
use sandbox_common::*;

#[test]
fn exit_code_and_both_streams_are_reported() {
    let observation = run_once(&shell(&["echo out; echo err >&2; exit 7"]));
    assert_eq!(
        observation.isolation,
        Isolation::Namespaces { self_mapped: false }
    );
    let step = &observation.steps[0];
    assert_eq!(step.exit, Exit::Code(7));
    assert_eq!(step.stdout.text, "out\n");
    assert_eq!(step.stderr.text, "err\n");
    assert_eq!(step.pid, 2, "init is pid 1, the first program pid 2");
    assert!(step.left_running.is_empty() && step.not_waited_for.is_empty());
    assert!(observation.segments.is_empty());
}

#[test]
fn a_signal_is_reported_with_its_name() {
    let observation = run_once(&shell(&["kill -SEGV $$"]));
    assert_eq!(
        observation.steps[0].exit,
        Exit::Signal(11, "SIGSEGV".into())
    );
}

#[test]
fn steps_run_in_order_in_one_namespace_with_growing_pids() {
    let observation = run_once(&shell(&["exit 0", "echo $$", "exit 1"]));
    let pids: Vec<i32> = observation.steps.iter().map(|step| step.pid).collect();
    assert_eq!(pids, [2, 3, 4]);
    assert_eq!(observation.steps[1].stdout.text, "3\n");
    assert_eq!(observation.steps[2].exit, Exit::Code(1));
}

#[test]
fn stdin_is_at_end_of_file() {
    let observation = run_once(&shell(&["if read line; then echo got; else echo eof; fi"]));
    assert_eq!(observation.steps[0].stdout.text, "eof\n");
}

#[test]
fn the_timeout_kills_the_whole_tree() {
    let token = token();
    let mut scenario = shell(&[&format!("sleep 30 & sleep 31; : {token}")]);
    scenario.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let observation = run_once(&scenario);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let step = &observation.steps[0];
    assert_eq!(step.exit, Exit::TimedOut);
    assert!(step.duration >= Duration::from_millis(300));
    assert_eq!(
        processes_with(&token),
        Vec::<String>::new(),
        "a process of the run survived"
    );
}

#[test]
fn a_flood_of_output_is_capped_but_counted() {
    let observation = run_once(&shell(&["yes 0123456789 | head -c 1000000; echo done >&2"]));
    let step = &observation.steps[0];
    assert_eq!(step.exit, Exit::Code(0));
    assert_eq!(step.stdout.total_bytes, 1_000_000);
    assert!(step.stdout.truncated);
    assert!(
        step.stdout.text.len() < grader::sandbox::HEAD_BYTES + grader::sandbox::TAIL_BYTES + 100
    );
    assert!(step.stdout.text.starts_with("0123456789\n0123456789\n"));
    assert!(step.stdout.text.contains("bytes not kept ...]\n"));
    assert_eq!(step.stderr.text, "done\n");
    assert!(!step.stderr.truncated);
}

#[test]
fn an_endless_flood_times_out_quickly() {
    let mut scenario = shell(&["yes"]);
    scenario.timeout = Duration::from_millis(300);
    let observation = run_once(&scenario);
    let step = &observation.steps[0];
    assert_eq!(step.exit, Exit::TimedOut);
    assert!(
        step.stdout.total_bytes > 100_000,
        "the sandbox kept reading: {}",
        step.stdout.total_bytes
    );
    assert!(step.stdout.truncated);
}

#[test]
fn an_orphan_that_nobody_waited_for_is_reported() {
    // The subshell starts `/bin/true` in the background and exits at once; `true` is orphaned, and
    // the command substitution returns once it has ended (its stdout closed).
    let observation = run_once(&shell(&["x=$( (/bin/true &) ); exit 0"]));
    let step = &observation.steps[0];
    assert_eq!(step.exit, Exit::Code(0));
    let names: Vec<&str> = step
        .not_waited_for
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["true"], "{step:#?}");
    assert!(step.left_running.is_empty(), "{step:#?}");
}

#[test]
fn a_process_left_running_is_reported_and_killed() {
    let token = token();
    let observation = run_once(&shell(&[
        &format!("sleep 30 & exit 0; : {token}"),
        "echo next",
    ]));
    let step = &observation.steps[0];
    assert_eq!(step.exit, Exit::Code(0));
    assert_eq!(step.left_running.len(), 1, "{step:#?}");
    // Named `sh` if the program ended before its child got to exec `sleep`.
    assert!(
        ["sleep", "sh"].contains(&step.left_running[0].name.as_str()),
        "{step:#?}"
    );
    assert_eq!(step.left_running[0].pid, 3, "sh is pid 2, its child 3");
    assert!(step.duration < Duration::from_secs(2));
    assert_eq!(observation.steps[1].stdout.text, "next\n");
    assert!(observation.steps[1].left_running.is_empty());
    assert_eq!(processes_with(&token), Vec::<String>::new());
}

#[test]
fn a_fork_bomb_is_contained_and_ends_at_the_timeout() {
    let token = token();
    let mut scenario = shell(&[&format!("bomb() {{ bomb | bomb & }}; bomb; : {token}")]);
    scenario.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let observations = run_with(&scenario, grader::sandbox::Tier::Best);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    let step = &observations[0].steps[0];
    // Either the program ends (forks refused, `sh` gives up) or it is killed at the timeout.
    assert!(
        matches!(step.exit, Exit::TimedOut | Exit::Code(_)),
        "{:?}",
        step.exit
    );
    assert!(
        step.left_running.len() <= grader::sandbox::MAX_TASKS as usize,
        "more processes than the cap: {}",
        step.left_running.len()
    );
    assert_eq!(processes_with(&token), Vec::<String>::new());
}

#[test]
fn a_dialog_waits_for_the_prompt_then_types_the_reply() {
    let mut scenario = shell(&[r#"printf 'Size: '; read size; echo "got $size""#]);
    scenario.steps[0].input = Input::Dialog {
        prompt: "Size: ".into(),
        reply: "64\n".into(),
    };
    let observation = run_once(&scenario);
    let step = &observation.steps[0];
    assert_eq!(step.exit, Exit::Code(0));
    assert_eq!(step.stdout.text, "Size: got 64\n", "no echo, no \\r");
}

#[test]
fn a_dialog_reply_without_newline_ends_with_end_of_file() {
    let script = r#"printf 'Size: '; if read size; then echo "line $size"; else echo "eof [$size]"; fi; echo oops >&2"#;
    let mut scenario = shell(&[script, script]);
    scenario.steps[0].input = Input::Dialog {
        prompt: "Size: ".into(),
        reply: String::new(),
    };
    scenario.steps[1].input = Input::Dialog {
        prompt: "Size: ".into(),
        reply: "12".into(),
    };
    let observation = run_once(&scenario);
    assert_eq!(
        observation.steps[0].stdout.text, "Size: eof []\noops\n",
        "stderr is on the terminal too"
    );
    assert_eq!(observation.steps[1].stdout.text, "Size: eof [12]\noops\n");
    assert_eq!(observation.steps[1].stderr.text, "");
}

#[test]
fn a_dialog_whose_prompt_never_comes_times_out() {
    let mut scenario = shell(&["read x; echo never"]);
    scenario.steps[0].input = Input::Dialog {
        prompt: "Size: ".into(),
        reply: "1\n".into(),
    };
    scenario.timeout = Duration::from_millis(300);
    let observation = run_once(&scenario);
    assert_eq!(observation.steps[0].exit, Exit::TimedOut);
}

#[test]
fn the_program_is_pinned_to_the_cpu_asked_for() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut scenario = shell(&["grep Cpus_allowed_list /proc/self/status"]);
    scenario.pin_cpu = Some(cpus - 1);
    let observation = run_once(&scenario);
    assert_eq!(
        observation.steps[0].stdout.text,
        format!("Cpus_allowed_list:\t{}\n", cpus - 1)
    );
}

#[test]
fn the_program_runs_with_resource_limits() {
    let observation = run_once(&shell(&["ulimit -v; ulimit -c; ulimit -f"]));
    // 1 GiB of address space (KiB), no core, 1 MiB per file (dash counts 512-byte blocks).
    assert_eq!(observation.steps[0].stdout.text, "1048576\n0\n2048\n");
}

#[test]
fn a_program_that_cannot_start_is_a_sandbox_error() {
    let mut scenario = shell(&["exit 0"]);
    scenario.program = "/nonexistent/shmlab-program".into();
    let observations = run_with(&scenario, grader::sandbox::Tier::Best);
    let error = observations[0].error.as_deref().expect("an error");
    assert!(
        error.contains("/nonexistent/shmlab-program") && error.contains("ENOENT"),
        "{error}"
    );
    assert_ne!(
        observations[0].isolation,
        grader::scenario::Isolation::Host,
        "a missing program is no reason to leave the sandbox"
    );
    assert!(observations[0].steps.is_empty());
}

#[test]
fn each_repeat_is_a_fresh_namespace() {
    let mut scenario = shell(&["ipcmk -M 100 >/dev/null; echo $$"]);
    scenario.repeat = 3;
    let observations = run_with(&scenario, grader::sandbox::Tier::Best);
    assert_eq!(observations.len(), 3);
    for observation in &observations {
        assert_eq!(observation.error, None);
        assert_eq!(observation.steps[0].stdout.text, "2\n");
        assert_eq!(
            observation.segments.len(),
            1,
            "no segment carried over: {observation:#?}"
        );
    }
}

/// Waits up to 10 s for `condition`, checking every few milliseconds.
fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// If the grader dies (here: its sandbox is killed), the run dies with it: the worker and the
/// namespace's init have asked the kernel to be killed with their parent.
#[test]
fn killing_the_sandbox_ends_the_whole_run() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let token = token();
    let mut scenario = shell(&[&format!("sleep 60 & sleep 61; : {token}")]);
    scenario.timeout = Duration::from_secs(60);
    let mut sandbox = Command::new(grader_exe())
        .arg(grader::sandbox::SUBCOMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the sandbox");
    let input = serde_json::to_vec(&scenario).expect("encode");
    sandbox
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("send the scenario");
    eventually("the program runs", || !processes_with(&token).is_empty());
    sandbox.kill().expect("kill the sandbox");
    sandbox.wait().expect("reap the sandbox");
    eventually("every process of the run is gone", || {
        processes_with(&token).is_empty()
    });
}

/// Where this machine has the `pids` controller, as the sandbox looks for it (limits.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PidsHierarchy {
    /// Its own cgroup v1 mount, `/sys/fs/cgroup/pids`.
    V1,
    /// The cgroup v2 root, `/sys/fs/cgroup`, which hands `pids` down to its children.
    V2,
}

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

fn pids_hierarchy() -> Option<PidsHierarchy> {
    let root = std::path::Path::new(CGROUP_ROOT);
    if root.join("pids/cgroup.procs").exists() {
        return Some(PidsHierarchy::V1);
    }
    let handed_down = std::fs::read_to_string(root.join("cgroup.subtree_control"))
        .is_ok_and(|controllers| controllers.split_whitespace().any(|c| c == "pids"));
    handed_down.then_some(PidsHierarchy::V2)
}

/// The folder of process `pid`'s cgroup in the `pids` hierarchy.
fn pids_cgroup_of(pid: &str, hierarchy: PidsHierarchy) -> std::path::PathBuf {
    let membership = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
    let (prefix, mount) = match hierarchy {
        PidsHierarchy::V1 => (":pids:", format!("{CGROUP_ROOT}/pids")),
        PidsHierarchy::V2 => ("0::", CGROUP_ROOT.to_owned()),
    };
    let path = membership
        .lines()
        .find_map(|line| line.split_once(prefix))
        .map(|(_, path)| path.trim_start_matches('/').to_owned())
        .unwrap_or_else(|| panic!("a {prefix} line in {membership}"));
    std::path::Path::new(&mount).join(path)
}

/// As root the run goes into a pids cgroup of its own (seen from the machine: the program has
/// no /sys), which is gone afterwards, whether the sandbox was started by `run` or directly.
fn a_run_is_capped_by_a_pids_cgroup_removed_after(hierarchy: PidsHierarchy) {
    assert!(nix::unistd::geteuid().is_root(), "needs root");
    for by_run in [true, false] {
        let token = token();
        let mut scenario = shell(&[&format!("ls /sys/fs/cgroup; sleep 60; : {token}")]);
        scenario.timeout = Duration::from_millis(1500);
        let running = std::thread::spawn(move || {
            if by_run {
                run_once(&scenario)
            } else {
                run_wrapped(&["env"], &scenario)[0].clone()
            }
        });
        eventually("the program runs", || !processes_with(&token).is_empty());
        let pid = processes_with(&token)[0].clone();
        let dir = pids_cgroup_of(&pid, hierarchy);
        let name = dir.file_name().and_then(|name| name.to_str()).unwrap_or("");
        assert!(name.starts_with("shmlab-sandbox-"), "{}", dir.display());
        let max = std::fs::read_to_string(dir.join("pids.max")).expect("pids.max");
        assert_eq!(max.trim(), grader::sandbox::MAX_TASKS.to_string());
        let observation = running.join().expect("the run");
        assert_eq!(observation.steps[0].exit, Exit::TimedOut);
        assert!(
            observation.steps[0]
                .stderr
                .text
                .contains("No such file or directory"),
            "no /sys in the sandbox: {:?}",
            observation.steps[0].stderr.text
        );
        assert!(!dir.exists(), "{} was not removed", dir.display());
    }
}

/// On whichever hierarchy this machine has `pids` (here cgroup v1).
#[test]
fn as_root_the_run_is_capped_by_a_pids_cgroup_that_is_removed_after() {
    let hierarchy = pids_hierarchy().expect("a pids cgroup hierarchy (v1 or v2)");
    eprintln!("the pids controller is on cgroup {hierarchy:?}");
    a_run_is_capped_by_a_pids_cgroup_removed_after(hierarchy);
}

/// The cgroup v2 path on its own, for CI to run where it exists (`.ci/run` does). Tried on the
/// test machine: a new mount and cgroup namespace with a fresh cgroup2 mount lists only
/// `hugetlb` in `cgroup.controllers`, and writing `+pids` to its `cgroup.subtree_control`
/// fails: a controller cannot move to v2 while a v1 hierarchy holds it.
#[test]
#[ignore = "needs the pids controller on cgroup v2 (/sys/fs/cgroup/cgroup.subtree_control \
            lists pids); on the test machine pids is bound to cgroup v1 (/proc/cgroups), and a \
            controller bound to v1 cannot be enabled on v2"]
fn on_cgroup_v2_the_run_is_capped_by_a_pids_cgroup_that_is_removed_after() {
    assert_eq!(
        pids_hierarchy(),
        Some(PidsHierarchy::V2),
        "this machine has no pids controller on cgroup v2"
    );
    a_run_is_capped_by_a_pids_cgroup_removed_after(PidsHierarchy::V2);
}

/// The bomb's orphans keep coming while the program runs: the sandbox must still see the
/// deadline (reaping is bounded per turn of its event loop).
#[test]
fn a_fork_bomb_under_a_long_running_program_still_times_out() {
    let token = token();
    // The program forks once, before the bomb can fill the cap, then execs: it keeps running
    // (it cannot fail a fork), so the run must end at the timeout.
    let mut scenario = shell(&[&format!(
        "sh -c 'bomb() {{ bomb | bomb & }}; bomb; : {token}' & exec sleep 30"
    )]);
    scenario.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let observation = run_once(&scenario);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(observation.steps[0].exit, Exit::TimedOut);
    assert_eq!(processes_with(&token), Vec::<String>::new());
}
