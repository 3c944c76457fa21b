//! Host mode, forced, in an IPC namespace of the test's own (standing in for the machine's):
//! the run refuses keys already in use, and afterwards removes exactly the segments it made.

mod sandbox_common;

use std::time::Duration;

use grader::sandbox::Tier;
use grader::scenario::{Exit, Isolation, Observation};
use sandbox_common::*;

fn run_in_host_mode(scenario: &grader::scenario::Scenario) -> Observation {
    let mut observations = run_with(scenario, Tier::Host);
    assert_eq!(observations.len(), 1);
    let observation = observations.remove(0);
    assert_eq!(observation.isolation, Isolation::Host);
    observation
}

#[test]
fn a_key_already_in_use_is_refused_and_left_alone() {
    sysv::testing::private_ipc_namespace();
    let existing = sysv::shmget(
        9990,
        64,
        sysv::ShmgetFlag::IPC_CREAT,
        sysv::Mode::from_bits_truncate(0o644),
    )
    .expect("the machine's key 9990 segment");
    let before = table();
    let mut scenario = shell(&["exec ipcrm -M 9990"]);
    scenario.keys = vec![9990];
    let observation = run_in_host_mode(&scenario);
    let error = observation.error.as_deref().expect("refused");
    assert!(
        error.contains("key 0x2706 (9990) already names segment"),
        "{error}"
    );
    assert!(observation.steps.is_empty(), "nothing ran");
    assert_eq!(table(), before);

    // Setup keys count too.
    let mut scenario = shell(&["exit 0"]);
    scenario.setup = vec![segment(9990, 10, 0o666, b"", false)];
    let error = run_in_host_mode(&scenario).error.expect("refused");
    assert!(error.contains("0x2706"), "{error}");
    assert_eq!(table(), before);
    sysv::shmctl_rmid(existing).expect("remove");
}

#[test]
fn only_the_runs_own_segments_are_reported_and_removed() {
    sysv::testing::private_ipc_namespace();
    let marker = Marker::new(700);
    let foreign = sysv::shmget(
        4242,
        64,
        sysv::ShmgetFlag::IPC_CREAT,
        sysv::Mode::from_bits_truncate(0o600),
    )
    .expect("a foreign segment with a key");
    let before = table();
    let token = token();
    let mut scenario = shell(&[
        "exec ipcmk -M 300 -p 0600",
        &format!("ipcrm -M 1001; sleep 30 & exit 0; : {token}"),
        "x=$( (exec ipcmk -M 400 &) ); exit 0",
    ]);
    scenario.setup = vec![
        segment(1001, 512, 0o666, b"held", true),
        segment(9990, 1024, 0o666, b"", false),
    ];
    scenario.keys = vec![1001, 9990];
    let observation = run_in_host_mode(&scenario);
    assert_eq!(observation.error, None);
    assert_eq!(observation.steps[0].exit, Exit::Code(0));
    assert_eq!(
        observation.steps[1].left_running.len(),
        1,
        "{:#?}",
        observation.steps[1]
    );
    assert_eq!(
        observation.steps[2].not_waited_for.len(),
        1,
        "{:#?}",
        observation.steps[2]
    );

    let entries: Vec<_> = observation
        .segments
        .iter()
        .map(|segment| &segment.entry)
        .collect();
    let sizes: Vec<u64> = entries.iter().map(|entry| entry.size).collect();
    assert_eq!(
        sizes,
        [512, 1024, 300, 400],
        "the run's segments only: {entries:#?}"
    );
    assert!(entries[0].marked_for_destruction() && observation.segments[0].held_by_grader);
    assert_eq!(&observation.segments[0].contents[..4], b"held");
    assert_eq!(
        entries[2].cpid, observation.steps[0].pid,
        "host pids in host mode"
    );

    assert_eq!(table(), before, "exactly the foreign segments are left");
    assert_eq!(marker.current_bytes(), marker.bytes);
    assert_eq!(processes_with(&token), Vec::<String>::new());
    sysv::shmctl_rmid(foreign).expect("remove");
}

#[test]
fn the_timeout_kills_the_whole_tree_in_host_mode_too() {
    sysv::testing::private_ipc_namespace();
    let token = token();
    let mut scenario = shell(&[&format!("sleep 30 & (sleep 31 &); sleep 32; : {token}")]);
    scenario.timeout = Duration::from_millis(300);
    let observation = run_in_host_mode(&scenario);
    assert_eq!(observation.error, None);
    assert_eq!(observation.steps[0].exit, Exit::TimedOut);
    assert_eq!(processes_with(&token), Vec::<String>::new());
}

#[test]
fn a_fork_bomb_is_contained_in_host_mode_too() {
    sysv::testing::private_ipc_namespace();
    let token = token();
    let mut scenario = shell(&[&format!("bomb() {{ bomb | bomb & }}; bomb; : {token}")]);
    scenario.timeout = Duration::from_secs(1);
    let observation = run_in_host_mode(&scenario);
    assert_eq!(observation.error, None);
    assert_eq!(processes_with(&token), Vec::<String>::new());
}

/// Where the kernel allows no namespace at all (here: a user namespace whose limits on new
/// user, IPC and PID namespaces are 0), the sandbox falls back to host mode by itself.
#[test]
fn the_sandbox_falls_back_to_host_mode_when_no_namespace_is_allowed() {
    // The outer `unshare --ipc` gives the run a "machine" namespace of its own.
    let limit = "for kind in user ipc pid; do echo 0 > /proc/sys/user/max_${kind}_namespaces; done; exec \"$@\"";
    let wrapper = [
        "unshare",
        "--user",
        "--map-root-user",
        "--ipc",
        "sh",
        "-c",
        limit,
        "sh",
    ];
    let mut scenario = shell(&["exec ipcmk -M 100"]);
    scenario.setup = vec![segment(9990, 10, 0o666, b"", false)];
    let observations = run_wrapped(&wrapper, &scenario);
    let observation = &observations[0];
    assert_eq!(observation.isolation, Isolation::Host);
    assert_eq!(observation.error, None);
    assert_eq!(observation.steps[0].exit, Exit::Code(0));
    assert_eq!(observation.segments.len(), 2);
}

/// Host mode is no sandbox: `--submission` refuses to run where no namespace is allowed,
/// before building anything, and says why and what to do, unless `--unsafe-host` is given.
#[test]
fn a_submission_is_refused_in_host_mode_without_unsafe_host() {
    let submission = tempfile::tempdir().expect("a folder");
    std::fs::write(submission.path().join("Cargo.toml"), "[workspace]\n").expect("Cargo.toml");
    std::fs::create_dir(submission.path().join("exercises")).expect("exercises/");
    let limit = "for kind in user ipc pid mnt net; do echo 0 > /proc/sys/user/max_${kind}_namespaces; done; exec \"$@\"";
    let output = std::process::Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--ipc",
            "sh",
            "-c",
            limit,
            "sh",
        ])
        .arg(grader_exe())
        .arg("--submission")
        .arg(submission.path())
        .output()
        .expect("unshare is installed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Refusing to grade a submission without a sandbox")
            && stderr.contains("--unsafe-host"),
        "{stderr}"
    );
    assert!(
        !submission.path().join("target").exists(),
        "nothing was built"
    );
}
