#![cfg(feature = "instructor")]
//! Programs that earn marks without doing the work (grader/fixtures/src/cheats.rs, and a few
//! one-flag variants of lib.rs): a hard-coded id, a value written by the wrong process, a
//! thread for a child, a clock for a turn. Each fails the check about its shortcut, exactly,
//! in every one of [`REGRADES`] gradings; grading leaves the machine as it found it
//! ([`grade_fixture`]). The shortcuts the grader cannot see yet are `#[ignore]`d as known
//! gaps, with what it would take to see them.

mod grading_common;

use grader::report::ExerciseResult;
use grading_common::*;

/// Gradings of each fixture: the verdict must be the same every time.
const REGRADES: usize = 20;

/// Grades `program` as `exercise_name` [`REGRADES`] times: it fails exactly `failing` each time.
fn fails_exactly_every_time(
    exercise_name: &str,
    program: &str,
    failing: &[&str],
) -> ExerciseResult {
    let mut last = None;
    for grading in 1..=REGRADES {
        let result = grade_fixture(exercise_name, program);
        assert_eq!(
            failed_checks(&result),
            failing,
            "{program}, grading {grading}: {result:#?}"
        );
        last = Some(result);
    }
    last.expect("at least one grading")
}

#[test]
fn attach_printing_a_hard_coded_id_fails_the_output_check() {
    // The grader's segment was the first of a fresh namespace, id 0, until it burnt ids first.
    let check = "prints the id and the sentence read back";
    let result = fails_exactly_every_time("attach", "attach-prints-zero", &[check]);
    let actual = check_named(&result, check).actual.as_deref().unwrap_or("");
    assert!(actual.contains("segment ID: 0\n"), "{actual}");
}

#[test]
fn remove_removing_a_guessed_id_fails_the_removal_checks() {
    // Segment id 0 is no longer the grader's: shmctl(0, IPC_RMID) fails, the segment stays.
    fails_exactly_every_time(
        "remove",
        "remove-guesses-id-zero",
        &[
            "exits with status 0",
            "says it removed the segment",
            "the segment is gone",
            "removes the segment of the key given, and only it",
        ],
    );
}

#[test]
fn a_parent_writing_the_childs_value_fails_the_childs_write_check() {
    let check = "the child wrote 37892 into the segment";
    // Its child also prints "child: 37892" with no segment attached, which the lens's read at
    // that write shows: a line about a write that the child never made.
    let printed = "the child prints its line once 37892 is in the segment";
    let result = fails_exactly_every_time(
        "parent-child",
        "parent-child-parent-writes",
        &[check, printed],
    );
    let check = check_named(&result, check);
    assert!(
        check
            .message
            .starts_with("the parent attached the segment before it forked"),
        "{}",
        check.message
    );
    let calls = check.trace.as_deref().unwrap_or_default();
    assert!(
        calls.contains("[the parent] shmat(") && calls.contains("[the parent] clone("),
        "{calls}"
    );
}

#[test]
fn a_parent_writing_the_value_after_the_fork_fails_the_childs_write_check() {
    // Its child attaches, waits for the value and prints it; the parent attaches after the
    // fork and writes it. Held at that shmat until its child ends, the parent shows it: the
    // child never sees the value before the parent attaches.
    let check = "the child wrote 37892 into the segment";
    let result = fails_exactly_every_time(
        "parent-child",
        "parent-child-parent-writes-after-fork",
        &[check],
    );
    let check = check_named(&result, check);
    assert!(
        check
            .message
            .starts_with("with the parent held at its shmat after the fork until child 1 ended"),
        "{}",
        check.message
    );
}

#[test]
fn a_thread_instead_of_a_child_fails_the_fork_checks_and_is_no_unwaited_child() {
    // The tracer tells a thread from a process (pidfd_open needs PIDFD_THREAD for a thread):
    // the thread is no fork, and no child left for init to reap.
    let fork_check = "forks one child, which prints the child's line";
    let result = fails_exactly_every_time(
        "parent-child",
        "parent-child-thread",
        &[
            fork_check,
            "reports a refused shmat or fork, exits 1 and leaves nothing",
        ],
    );
    let message = message_of(&result, fork_check);
    assert!(
        message.starts_with("the program forked no process"),
        "{message}"
    );
}

#[test]
fn ping_pong_spinning_on_the_clock_fails_the_order_check() {
    // With the vDSO hidden, its clock reads reach the kernel; once the grader holds a child,
    // the clocks jump 0.5 s ahead, and the spinner (50 ms, 150 ms) goes on while the held
    // child has not done its part.
    let order = "prints the four lines in causal order, with the real id";
    for grading in 1..=REGRADES {
        let result = grade_fixture("ping-pong", "ping-pong-spins-on-the-clock");
        // Only the order check every time: the spin is still a race, which other checks (the
        // end state, the unsteered run on its own) catch in some gradings, by luck.
        assert!(
            failed_checks(&result).contains(&order),
            "grading {grading}: {result:#?}"
        );
    }
}

#[test]
fn ping_pong_printing_an_unread_question_fails_the_order_check() {
    // The grader rewrites the question in the segment at the stop before child 1's line
    // (written, turn not yet passed): child 2 must print the rewritten one, which it read.
    let order = "prints the four lines in causal order, with the real id";
    let result =
        fails_exactly_every_time("ping-pong", "ping-pong-prints-unread-question", &[order]);
    let check = check_named(&result, order);
    assert!(
        check
            .message
            .contains("the grader changed the question in the segment"),
        "{}",
        check.message
    );
    let expected = check.expected.as_deref().unwrap_or_default();
    assert!(
        expected.contains("child 2 read: Is that the shared memory ID: "),
        "{expected}"
    );
}

#[test]
fn ping_pong_with_threads_fails_the_fork_check_only() {
    // Before threads were told from processes, the two threads passed for the two children,
    // and only "waits for both children" failed (the threads seemed left for init to reap).
    let fork_check = "forks two children, each printing its own lines";
    let result = fails_exactly_every_time("ping-pong", "ping-pong-threads", &[fork_check]);
    let message = message_of(&result, fork_check);
    assert!(
        message.starts_with("the program forked no process"),
        "{message}"
    );
}

#[test]
fn a_racy_program_that_exits_1_meets_the_schedules_all_the_same() {
    // The schedules used to follow only a baseline that exited 0: exiting 1 kept the race
    // hidden, and the order check's 4 points (17/20, where the same race exiting 0 got 16).
    let order = "prints the four lines in causal order, with the real id";
    let result = fails_exactly_every_time(
        "ping-pong",
        "ping-pong-turn-before-print-exits-1",
        &[
            "exits with status 0",
            order,
            "creates the segment itself and prints the four lines",
        ],
    );
    // The order failed under a schedule the grader steered, which the report names (child 1's
    // or child 2's write held: either exposes it, and the longest-held failing run is named).
    let message = message_of(&result, order);
    assert!(
        message.contains("with child 1's ") || message.contains("with child 2's "),
        "{message}"
    );
    assert!(message.contains(" held "), "{message}");
}
