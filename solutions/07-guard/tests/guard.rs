//! Runs the `guard` solution as a process, in a private IPC namespace per test, on every path
//! it can take (the end, an error, a panic, bad usage) and checks that each leaves no segment:
//! the owners' drops ran.

use assert_cmd::Command;
use predicates::prelude::*;
use sysv::testing::segment_count;
use sysv::{Errno, Mode, ShmgetFlag};

/// The key, as info.toml gives it (read through the grader: the spec is written once).
const KEY: sysv::Key = grader::exercises::spec::guard::KEY;
const SIZE: usize = grader::exercises::spec::guard::SIZE;

fn guard() -> Command {
    Command::cargo_bin("guard-solution").expect("built")
}

/// The segment with the key is gone (not just marked: nobody else had it attached).
fn removed() {
    assert_eq!(
        sysv::shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty()),
        Err(Errno::ENOENT)
    );
    assert_eq!(segment_count(), 0, "a segment was left behind");
}

#[test]
fn the_normal_path_prints_the_text_and_removes_the_segment() {
    sysv::testing::private_ipc_namespace();
    guard()
        .arg("hello, guard")
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"^Segment \d+ holds: hello, guard\n$").expect("regex"));
    removed();
}

#[test]
fn a_segment_made_before_is_used_and_removed() {
    sysv::testing::private_ipc_namespace();
    let id = sysv::shmget(
        KEY,
        SIZE,
        ShmgetFlag::IPC_CREAT,
        Mode::from_bits_truncate(0o600),
    )
    .expect("shmget");
    guard()
        .arg("again")
        .assert()
        .success()
        .stdout(format!("Segment {id} holds: again\n"));
    removed();
}

#[test]
fn the_error_path_reports_and_removes() {
    sysv::testing::private_ipc_namespace();
    guard()
        .arg("x".repeat(64))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "error: writing the message (key 0x1b5f): 64 bytes and a NUL do not fit in 64 bytes",
        ));
    removed();
}

#[test]
fn a_panic_unwinds_through_the_drops() {
    sysv::testing::private_ipc_namespace();
    guard()
        .args(["--panic", "hello"])
        .assert()
        .code(101)
        .stderr(predicate::str::contains("asked to panic half-way"));
    removed();
}

#[test]
fn bad_usage_makes_no_segment() {
    sysv::testing::private_ipc_namespace();
    for args in [&[][..], &["a", "b"], &["--panic"]] {
        guard()
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("usage: guard [--panic] TEXT"));
    }
    assert_eq!(segment_count(), 0);
}
