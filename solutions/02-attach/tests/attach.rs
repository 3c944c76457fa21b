//! Runs the `attach` solution as a process, in a private IPC namespace per test, and checks its
//! output, exit status and the segment it leaves behind against the spec.

use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use grader::exercises::spec::attach::{ATTACHED, KEY, MISSING, READ_BACK, SENTENCE};
use grader::exercises::spec::{fill, fill_key};
use predicates::prelude::*;
use sysv::testing::{assert_no_segment, segment_bytes, segment_count};
use sysv::{ShmId, ShmatFlag};

/// Makes the segment `create` would make, filled with 0xff so that a missing NUL shows.
fn make_segment(size: usize) -> ShmId {
    let id = sysv::testing::make_segment(KEY, size, 0o666);
    let attachment = sysv::shmat(id, ShmatFlag::empty()).expect("attach");
    attachment.write(0, &vec![0xff; size]);
    sysv::shmdt(attachment).expect("detach");
    id
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
            "{}\n{}\n",
            fill(ATTACHED, &[("id", &id)]),
            fill(READ_BACK, &[("sentence", &SENTENCE)])
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
        segment_bytes(id, SENTENCE.len() + 2),
        [SENTENCE.as_bytes(), &[0, 0xff]].concat(),
        "the sentence and its NUL, nothing after"
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
        .stderr(format!("{}\n", fill_key(MISSING, KEY)));

    assert_no_segment(KEY);
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
