//! Runs the `guard` solution as a process, in a private IPC namespace per test, on every path
//! it can take (the end, an error, a panic, bad usage) and checks that each leaves no segment:
//! the owners' drops ran.

use assert_cmd::Command;
use grader::exercises::spec::guard::{HOLDS, KEY, SIZE};
use grader::exercises::spec::{fill, value};
use predicates::prelude::*;
use sysv::testing::{assert_no_segment, make_segment, segment_count};

fn guard() -> Command {
    Command::cargo_bin("guard-solution").expect("built")
}

#[test]
fn the_normal_path_prints_the_text_and_removes_the_segment() {
    sysv::testing::private_ipc_namespace();
    let output = guard().arg("hello, guard").assert().success();
    let stdout = String::from_utf8_lossy(&output.get_output().stdout);
    let line = stdout.strip_suffix('\n').unwrap_or(&stdout);
    let id = value(HOLDS, line, "id").unwrap_or_else(|| panic!("unexpected stdout {stdout:?}"));
    assert!(id.parse::<i32>().is_ok(), "the id is a number: {id:?}");
    assert_eq!(line, fill(HOLDS, &[("id", &id), ("text", &"hello, guard")]));
    assert_no_segment(KEY);
}

#[test]
fn a_segment_made_before_is_used_and_removed() {
    sysv::testing::private_ipc_namespace();
    let id = make_segment(KEY, SIZE, 0o600);
    guard().arg("again").assert().success().stdout(format!(
        "{}\n",
        fill(HOLDS, &[("id", &id), ("text", &"again")])
    ));
    assert_no_segment(KEY);
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
    assert_no_segment(KEY);
}

#[test]
fn a_panic_unwinds_through_the_drops() {
    sysv::testing::private_ipc_namespace();
    guard()
        .args(["--panic", "hello"])
        .assert()
        .code(101)
        .stderr(predicate::str::contains("asked to panic half-way"));
    assert_no_segment(KEY);
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
