//! The unprivileged tier: a user namespace first, then the same private IPC and PID namespaces.
//! As root the tier is forced; as an ordinary user (`nobody`) the sandbox must pick it itself.

mod sandbox_common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use grader::sandbox::Tier;
use grader::scenario::{Exit, Isolation, Observation, Scenario};
use sandbox_common::*;

const NOBODY: u32 = 65534;

#[test]
fn the_user_namespace_tier_isolates_like_the_root_one() {
    let marker = Marker::new(100);
    let mut scenario =
        shell(&["id -u; ipcmk -M 100 >/dev/null; ipcrm -M 9990; ipcrm --all=shm; echo $$"]);
    scenario.setup = vec![segment(9990, 64, 0o600, b"setup", true)];
    let observation = run_with(&scenario, Tier::UserNamespace).remove(0);
    assert_eq!(observation.error, None);
    assert_eq!(
        observation.isolation,
        Isolation::Namespaces {
            user_namespace: true
        }
    );
    assert_eq!(
        observation.steps[0].stdout.text, "0\n2\n",
        "root inside, pid 2"
    );
    assert_eq!(
        observation.segments.len(),
        1,
        "the held one, marked for destruction"
    );
    assert!(observation.segments[0].entry.marked_for_destruction());
    assert_eq!(&observation.segments[0].contents[..5], b"setup");
    assert_eq!(marker.current_bytes(), marker.bytes);
}

/// Runs `grader __sandbox` as `nobody`, as an ordinary user would.
fn run_as_nobody(scenario: &Scenario) -> Option<Vec<Observation>> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: only root can start a process as nobody");
        return None;
    }
    let child = Command::new(grader_exe())
        .arg(grader::sandbox::SUBCOMMAND)
        .uid(NOBODY)
        .gid(NOBODY)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the sandbox as nobody");
    Some(exchange(child, scenario))
}

#[test]
fn an_ordinary_user_gets_the_user_namespace_tier() {
    let mut scenario = shell(&["id -u; exec ipcmk -M 64"]);
    scenario.setup = vec![segment(9990, 64, 0o600, b"x", false)];
    let Some(observations) = run_as_nobody(&scenario) else {
        return;
    };
    let observation = &observations[0];
    assert_eq!(observation.error, None);
    assert_eq!(
        observation.isolation,
        Isolation::Namespaces {
            user_namespace: true
        }
    );
    assert_eq!(
        observation.steps[0].stdout.text, "0\nShared memory id: 1\n",
        "root inside"
    );
    assert_eq!(observation.segments.len(), 2);
    assert_eq!(observation.segments[1].entry.cpid, 2);
}

#[test]
fn an_ordinary_users_run_still_sees_orphans_and_processes_left_running() {
    let token = token();
    let scenario = shell(&[
        "x=$( (/bin/true &) ); exit 0",
        &format!("sleep 30 & exit 0; : {token}"),
    ]);
    let Some(observations) = run_as_nobody(&scenario) else {
        return;
    };
    let steps = &observations[0].steps;
    let orphans: Vec<&str> = steps[0]
        .not_waited_for
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(orphans, ["true"], "{:#?}", steps[0]);
    assert_eq!(steps[1].left_running.len(), 1, "{:#?}", steps[1]);
    assert_eq!(processes_with(&token), Vec::<String>::new());
}

#[test]
fn an_ordinary_users_fork_bomb_is_capped_by_rlimit_nproc() {
    let token = token();
    let mut scenario = shell(&[&format!("bomb() {{ bomb | bomb & }}; bomb; : {token}")]);
    scenario.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let Some(observations) = run_as_nobody(&scenario) else {
        return;
    };
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let step = &observations[0].steps[0];
    assert!(matches!(step.exit, Exit::TimedOut | Exit::Code(_)));
    assert_eq!(processes_with(&token), Vec::<String>::new());
}

/// Root without CAP_SYS_ADMIN (a common container setup) cannot unshare IPC and PID
/// namespaces directly: the sandbox tries, and falls back to a user namespace.
#[test]
fn root_without_cap_sys_admin_falls_back_to_a_user_namespace() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let wrapper = [
        "setpriv",
        "--inh-caps=-sys_admin",
        "--bounding-set=-sys_admin",
    ];
    let Some(observations) = run_wrapped(&wrapper, &shell(&["exec ipcmk -M 100"])) else {
        return;
    };
    let observation = &observations[0];
    assert_eq!(observation.error, None);
    assert_eq!(
        observation.isolation,
        Isolation::Namespaces {
            user_namespace: true
        }
    );
    assert_eq!(observation.segments.len(), 1);
}

/// An ordinary user following the test instructions (`unshare --user --map-root-user ...`):
/// uid 0 inside, but not the machine's root, so RLIMIT_NPROC applies and caps the bomb.
#[test]
fn a_fork_bomb_as_mapped_root_is_capped_and_times_out() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let token = token();
    // The program forks once, before the bomb can fill the cap, then execs: it keeps running
    // (it cannot fail a fork), so the run must end at the timeout.
    let mut scenario = shell(&[&format!(
        "sh -c 'bomb() {{ bomb | bomb & }}; bomb; : {token}' & exec sleep 30"
    )]);
    scenario.timeout = Duration::from_secs(1);
    let wrapper = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "unshare",
        "--user",
        "--map-root-user",
    ];
    let started = Instant::now();
    let Some(observations) = run_wrapped(&wrapper, &scenario) else {
        return;
    };
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(observations[0].steps[0].exit, Exit::TimedOut);
    assert_eq!(processes_with(&token), Vec::<String>::new());
}
