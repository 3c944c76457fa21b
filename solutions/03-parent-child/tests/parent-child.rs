//! Runs the `parent-child` solution as a process, in a private IPC namespace per test, and checks
//! its output, exit status, and that it leaves neither a segment nor a process behind.

use assert_cmd::Command;
use grader::exercises::spec::fill;
use grader::exercises::spec::parent_child::{CHILD, KEY, PARENT, VALUE};
use predicates::prelude::*;
use sysv::ShmatFlag;
use sysv::testing::{
    assert_no_segment, make_segment, other_processes_in_this_namespace, segment_count,
};

/// The two lines, the child's then the parent's.
fn expected_output() -> String {
    format!(
        "{}\n{}\n",
        fill(CHILD, &[("value", &VALUE)]),
        fill(PARENT, &[("value", &VALUE)])
    )
}

#[test]
fn the_child_writes_then_the_parent_reads_and_nothing_is_left() {
    sysv::testing::private_ipc_namespace();

    for _ in 0..5 {
        Command::cargo_bin("parent-child-solution")
            .expect("built")
            .assert()
            .success()
            .stdout(expected_output())
            .stderr("");

        assert_no_segment(KEY);
        assert_eq!(other_processes_in_this_namespace(), Vec::<String>::new());
    }
}

#[test]
fn the_value_really_goes_through_the_segment() {
    sysv::testing::private_ipc_namespace();
    // Hold the segment the program will find, to look at it after the program removed it.
    let id = make_segment(KEY, 4, 0o644);
    let attachment = sysv::shmat(id, ShmatFlag::SHM_RDONLY).expect("attach");

    Command::cargo_bin("parent-child-solution")
        .expect("built")
        .assert()
        .success()
        .stdout(expected_output());

    let mut bytes = [0; 4];
    attachment.read(0, &mut bytes);
    assert_eq!(i32::from_ne_bytes(bytes), VALUE);
    let status = sysv::shmctl_stat(id).expect("still attached here");
    assert!(status.marked_for_destruction(), "the program removed it");
    assert_eq!(status.nattch, 1, "only this test's attachment is left");
    sysv::shmdt(attachment).expect("detach");
    assert_eq!(segment_count(), 0);
}

#[test]
fn a_refused_shmget_is_an_error_and_removes_nothing() {
    sysv::testing::private_ipc_namespace();
    // A segment with the key but too small for an int: shmget(24601, 4, ...) fails with EINVAL.
    let id = make_segment(KEY, 2, 0o644);

    Command::cargo_bin("parent-child-solution")
        .expect("built")
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            predicate::str::starts_with("error: shmget (key 0x6019): ")
                .and(predicate::str::ends_with("(EINVAL)\n")),
        );

    assert!(
        sysv::shmctl_stat(id).is_ok(),
        "a segment it did not create stays"
    );
    assert_eq!(other_processes_in_this_namespace(), Vec::<String>::new());
}
