//! Runs the `create` solution as a process, in a private IPC namespace per test, and checks its
//! output, exit status and what it leaves in the kernel against the spec.

use std::process::Output;

use assert_cmd::Command;
use grader::exercises::spec::create::{CREATED, EXISTS, KEY, SIZE};
use grader::exercises::spec::{fill_key, value};
use predicates::prelude::*;
use sysv::testing::{assert_no_segment, make_segment, segment_bytes, segment_count};
use sysv::{Mode, ShmId, ShmatFlag, ShmgetFlag};

fn create(args: &[&str]) -> Output {
    Command::cargo_bin("create-solution")
        .expect("the create-solution binary is built by cargo test")
        .args(args)
        .output()
        .expect("create-solution runs")
}

/// The id printed on the one line of stdout.
fn printed_id(output: &Output) -> ShmId {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let id = stdout
        .strip_suffix('\n')
        .and_then(|line| value(CREATED, line, "id"))
        .unwrap_or_else(|| panic!("unexpected stdout: {stdout:?}"));
    ShmId::from_raw(id.parse().expect("the id is a number"))
}

fn find_segment() -> nix::Result<ShmId> {
    sysv::shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty())
}

#[test]
fn creates_the_segment_and_finds_the_same_one_again() {
    sysv::testing::private_ipc_namespace();

    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("create-solution"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("create-solution runs");
    let pid = child.id();
    let first = child.wait_with_output().expect("create-solution ends");
    assert!(first.status.success(), "{first:?}");
    let id = printed_id(&first);

    let second = create(&[]);
    assert!(second.status.success(), "{second:?}");
    assert_eq!(
        printed_id(&second),
        id,
        "the second run must find the same segment"
    );

    assert_eq!(segment_count(), 1);
    assert_eq!(find_segment(), Ok(id));
    let status = sysv::shmctl_stat(id).expect("IPC_STAT");
    assert_eq!(status.key, KEY);
    assert_eq!(status.size, SIZE);
    assert_eq!(status.permissions(), 0o666);
    assert_eq!(
        status.cpid.as_raw(),
        pid as i32,
        "cpid is the first run's pid"
    );
    assert_eq!(status.nattch, 0);
}

#[test]
fn exclusive_creates_a_fresh_segment() {
    sysv::testing::private_ipc_namespace();

    let output = create(&["--exclusive"]);
    assert!(output.status.success(), "{output:?}");
    let id = printed_id(&output);
    assert_eq!(find_segment(), Ok(id));
    assert_eq!(sysv::shmctl_stat(id).expect("IPC_STAT").size, SIZE);
}

#[test]
fn exclusive_on_an_existing_segment_fails_and_leaves_it_alone() {
    sysv::testing::private_ipc_namespace();
    let id = make_segment(KEY, SIZE, 0o600);
    let attachment = sysv::shmat(id, ShmatFlag::empty()).expect("attach");
    attachment.write(0, b"mine");
    sysv::shmdt(attachment).expect("detach");
    let before = sysv::shmctl_stat(id).expect("IPC_STAT");

    Command::cargo_bin("create-solution")
        .expect("built")
        .arg("--exclusive")
        .assert()
        .code(1)
        .stdout("")
        .stderr(format!("{}\n", fill_key(EXISTS, KEY)));

    assert_eq!(segment_count(), 1);
    assert_eq!(find_segment(), Ok(id));
    assert_eq!(
        sysv::shmctl_stat(id).expect("IPC_STAT"),
        before,
        "untouched"
    );
    assert_eq!(segment_bytes(id, 5), b"mine\0");
}

#[test]
fn other_arguments_are_usage_errors() {
    sysv::testing::private_ipc_namespace();

    for args in [
        &["--exclusiv"][..],
        &["--exclusive", "--exclusive"],
        &["9990"],
    ] {
        Command::cargo_bin("create-solution")
            .expect("built")
            .args(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains("usage: create [--exclusive]"));
    }
    // A usage error creates nothing.
    assert_no_segment(KEY);
}
