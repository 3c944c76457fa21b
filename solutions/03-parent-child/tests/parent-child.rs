//! Runs the `parent-child` solution as a process, in a private IPC namespace per test, and checks
//! its output, exit status, and that it leaves neither a segment nor a process behind.

use assert_cmd::Command;
use predicates::prelude::*;
use sysv::testing::{other_processes_in_this_namespace, segment_count};
use sysv::{Errno, Mode, ShmatFlag, ShmgetFlag};

/// The key, as info.toml gives it (read through the grader: the spec is written once).
const KEY: sysv::Key = grader::exercises::spec::parent_child::KEY;

#[test]
fn the_child_writes_then_the_parent_reads_and_nothing_is_left() {
    sysv::testing::private_ipc_namespace();

    for _ in 0..5 {
        Command::cargo_bin("parent-child-solution")
            .expect("built")
            .assert()
            .success()
            .stdout("child: 37892\nparent: 37892\n")
            .stderr("");

        assert_eq!(
            sysv::shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty()),
            Err(Errno::ENOENT),
            "the segment is removed"
        );
        assert_eq!(segment_count(), 0);
        assert_eq!(other_processes_in_this_namespace(), Vec::<String>::new());
    }
}

#[test]
fn the_value_really_goes_through_the_segment() {
    sysv::testing::private_ipc_namespace();
    // Hold the segment the program will find, to look at it after the program removed it.
    let id = sysv::shmget(
        KEY,
        4,
        ShmgetFlag::IPC_CREAT,
        Mode::from_bits_truncate(0o644),
    )
    .expect("the test's segment");
    let attachment = sysv::shmat(id, ShmatFlag::SHM_RDONLY).expect("attach");

    Command::cargo_bin("parent-child-solution")
        .expect("built")
        .assert()
        .success()
        .stdout("child: 37892\nparent: 37892\n");

    let mut bytes = [0; 4];
    attachment.read(0, &mut bytes);
    assert_eq!(i32::from_ne_bytes(bytes), 37892);
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
    let id = sysv::shmget(
        KEY,
        2,
        ShmgetFlag::IPC_CREAT,
        Mode::from_bits_truncate(0o644),
    )
    .expect("the test's segment");

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
