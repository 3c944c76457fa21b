//! Runs the `attach` solution as a process, in a private IPC namespace per test, and checks its
//! output, exit status and the segment it leaves behind against the spec.

use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;
use sysv::testing::segment_count;
use sysv::{Errno, Mode, ShmId, ShmatFlag, ShmgetFlag};

/// The key, as info.toml gives it (read through the grader: the spec is written once).
const KEY: sysv::Key = grader::exercises::spec::attach::KEY;
const SENTENCE: &[u8] = b"This is our shared memory segment.\0";

/// Makes the segment `create` would make, filled with 0xff so that a missing NUL shows.
fn make_segment(size: usize) -> ShmId {
    let id = sysv::shmget(
        KEY,
        size,
        ShmgetFlag::IPC_CREAT,
        Mode::from_bits_truncate(0o666),
    )
    .expect("the test's segment");
    let attachment = sysv::shmat(id, ShmatFlag::empty()).expect("attach");
    attachment.write(0, &vec![0xff; size]);
    sysv::shmdt(attachment).expect("detach");
    id
}

fn segment_bytes(id: ShmId, len: usize) -> Vec<u8> {
    let attachment = sysv::shmat(id, ShmatFlag::SHM_RDONLY).expect("attach");
    let mut bytes = vec![0; len];
    attachment.read(0, &mut bytes);
    sysv::shmdt(attachment).expect("detach");
    bytes
}

#[test]
fn writes_the_sentence_and_reads_it_back() {
    sysv::testing::private_ipc_namespace();
    let id = make_segment(1024);

    let child = StdCommand::new(assert_cmd::cargo::cargo_bin("attach-solution"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("attach-solution runs");
    let pid = child.id();
    let output = child.wait_with_output().expect("attach-solution ends");

    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "Attached shared memory segment ID: {id}\n\
             Read back: This is our shared memory segment.\n"
        )
    );
    assert!(output.stderr.is_empty(), "{output:?}");

    let status = sysv::shmctl_stat(id).expect("the segment is still there");
    assert_eq!(status.nattch, 0, "detached");
    assert_eq!(
        status.lpid.as_raw(),
        pid as i32,
        "the program attached and detached it"
    );
    assert!(!status.marked_for_destruction());
    assert_eq!(
        segment_bytes(id, SENTENCE.len() + 1),
        [SENTENCE, &[0xff]].concat()
    );
    assert_eq!(segment_count(), 1);
}

#[test]
fn without_a_segment_it_says_to_run_create_and_creates_nothing() {
    sysv::testing::private_ipc_namespace();

    Command::cargo_bin("attach-solution")
        .expect("built")
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            predicate::str::starts_with("error: shmget (key 0x2706): ")
                .and(predicate::str::contains("(ENOENT)"))
                .and(predicate::str::contains("run create first"))
                .and(predicate::str::contains("\n").count(1)),
        );

    assert_eq!(
        sysv::shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty()),
        Err(Errno::ENOENT)
    );
    assert_eq!(segment_count(), 0);
}

#[test]
fn a_segment_too_small_for_the_sentence_is_an_error_not_an_overflow() {
    sysv::testing::private_ipc_namespace();
    let id = make_segment(10);

    Command::cargo_bin("attach-solution")
        .expect("built")
        .assert()
        .code(1)
        .stderr(
            predicate::str::starts_with("error: writing the sentence (key 0x2706): ")
                .and(predicate::str::contains("10 bytes")),
        );

    assert_eq!(segment_bytes(id, 10), [0xff; 10], "nothing written");
    assert_eq!(
        sysv::shmctl_stat(id).expect("still there").nattch,
        0,
        "detached"
    );
}
