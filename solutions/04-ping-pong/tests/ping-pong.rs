//! Runs the `ping-pong` solution as a process, in a private IPC namespace per test, and checks
//! that its four lines always come in causal order (also with every process on one CPU), what it
//! leaves in the segment, and that it leaves neither a segment nor a process behind.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use grader::exercises::spec::ping_pong::{
    ANSWER, CHILD_1_READ, CHILD_1_WROTE, CHILD_2_READ, CHILD_2_WROTE, KEY, QUESTION, SIZE,
};
use grader::exercises::spec::{fill, value};
use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;
use predicates::prelude::*;
use sysv::testing::{
    assert_no_segment, make_segment, other_processes_in_this_namespace, segment_count,
};
use sysv::{ShmId, ShmatFlag};

/// Pins this test's thread, and so every process it starts, to one CPU: the children can then
/// only take turns if each gives the CPU away while it waits.
fn pin_to_one_cpu() {
    let allowed = sched_getaffinity(Pid::from_raw(0)).expect("sched_getaffinity");
    let cpu = (0..CpuSet::count())
        .find(|&cpu| allowed.is_set(cpu).unwrap_or(false))
        .expect("some CPU is allowed");
    let mut one = CpuSet::new();
    one.set(cpu).expect("a valid CPU number");
    // Pid 0: the calling thread only, so other tests keep their CPUs.
    sched_setaffinity(Pid::from_raw(0), &one).expect("sched_setaffinity");
}

fn expected_output(id: ShmId) -> String {
    let question = fill(QUESTION, &[("id", &id)]);
    let answer = fill(ANSWER, &[("id", &id)]);
    [
        fill(CHILD_1_WROTE, &[("question", &question)]),
        fill(CHILD_2_READ, &[("question", &question)]),
        fill(CHILD_2_WROTE, &[("answer", &answer)]),
        fill(CHILD_1_READ, &[("answer", &answer)]),
    ]
    .map(|line| line + "\n")
    .concat()
}

/// The id the program printed in its first line.
fn printed_id(stdout: &str) -> ShmId {
    let id = stdout
        .lines()
        .next()
        .and_then(|line| value(CHILD_1_WROTE, line, "question"))
        .and_then(|question| value(QUESTION, question, "id"))
        .unwrap_or_else(|| panic!("unexpected first line in {stdout:?}"));
    ShmId::from_raw(id.parse().expect("the id is a number"))
}

#[test]
fn the_lines_come_in_causal_order_every_time_even_on_one_cpu() {
    sysv::testing::private_ipc_namespace();
    pin_to_one_cpu();

    // No sleep anywhere: the notes' version sleeps 1 s and 2 s on every run, a program that
    // waits for the turn takes milliseconds. The fastest of the runs is compared, not each:
    // a loaded machine can delay some runs, but not a sleep away.
    let mut fastest = Duration::MAX;
    for run in 0..20 {
        let started = Instant::now();
        let output = Command::cargo_bin("ping-pong-solution")
            .expect("built")
            .timeout(Duration::from_secs(30))
            .output()
            .expect("ping-pong-solution runs");
        let took = started.elapsed();

        assert!(output.status.success(), "run {run}: {output:?}");
        assert!(output.stderr.is_empty(), "run {run}: {output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(stdout, expected_output(printed_id(&stdout)), "run {run}");
        fastest = fastest.min(took);

        assert_no_segment(KEY);
        assert_eq!(
            other_processes_in_this_namespace(),
            Vec::<String>::new(),
            "run {run}"
        );
    }
    assert!(
        fastest < Duration::from_secs(1),
        "even the fastest of 20 runs took {fastest:?}: a sleep somewhere?"
    );
}

#[test]
fn a_stale_turn_is_reset_and_the_answer_is_left_in_the_segment() {
    sysv::testing::private_ipc_namespace();
    pin_to_one_cpu();
    // A segment left by an interrupted run: turn 1 and an old question. If the program did not
    // reset the turn, child 2 would read this stale question at once.
    let id = make_segment(KEY, SIZE, 0o666);
    let attachment = sysv::shmat(id, ShmatFlag::empty()).expect("attach");
    attachment
        .atomic_u32(0)
        .store(1, std::sync::atomic::Ordering::SeqCst);
    attachment.write(4, b"a stale question\0");

    Command::cargo_bin("ping-pong-solution")
        .expect("built")
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .stdout(expected_output(id))
        .stderr("");

    assert_eq!(
        attachment
            .atomic_u32(0)
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    assert_eq!(
        attachment.read_c_string(4),
        fill(ANSWER, &[("id", &id)]).as_bytes()
    );
    let status = sysv::shmctl_stat(id).expect("still attached here");
    assert!(status.marked_for_destruction(), "the program removed it");
    assert_eq!(status.nattch, 1, "only this test's attachment is left");
    sysv::shmdt(attachment).expect("detach");
    assert_eq!(segment_count(), 0);
    assert_eq!(other_processes_in_this_namespace(), Vec::<String>::new());
}

#[test]
fn a_refused_shmget_is_an_error_and_removes_nothing() {
    sysv::testing::private_ipc_namespace();
    // The key has a segment too small for 512 bytes: shmget fails with EINVAL.
    let id = make_segment(KEY, 100, 0o666);

    Command::cargo_bin("ping-pong-solution")
        .expect("built")
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            predicate::str::starts_with("error: shmget (key 0x3e9): ")
                .and(predicate::str::ends_with("(EINVAL)\n")),
        );

    assert!(
        sysv::shmctl_stat(id).is_ok(),
        "a segment it did not create stays"
    );
    assert_eq!(other_processes_in_this_namespace(), Vec::<String>::new());
}
