//! 04 ping-pong: two children take turns through a flag in key 1001, without sleep.

use std::time::Duration;

use crate::checks::{
    Failure, Run, Test, Verdict, c_string_at, describe_bytes, ensure, unpredictable,
};

const KEY: i32 = 1001;
/// Without a trace, only the clock can tell sleeping: a run this long slept (the notes' version
/// sleeps 1 s and 2 s to order the children, while a program that waits for the flag takes
/// milliseconds, even pinned to one CPU). A short sleep escapes it; the trace sees every one.
const CLOCK_LIMIT: Duration = Duration::from_millis(900);
/// Lines in the wrong order mean the children are not synchronised, whatever the check.
const ORDERING_ADVICE: &str = "the lines are right but in the wrong order: a synchronisation \
    problem, not a segment one. Print before you pass the turn (child 1 prints `wrote` before \
    storing 1, child 2 before storing 2), wait for the turn with an Acquire load in a loop, \
    never sleep, and reset the turn to 0 before forking";

fn question(id: i64) -> String {
    format!("Is this the shared memory ID: {id}?")
}

fn answer(id: i64) -> String {
    format!("Yes, this is shared memory ID: {id}.")
}

/// The four lines, in the only order causality allows.
fn expected_lines(id: i64) -> Vec<String> {
    vec![
        format!("child 1 wrote: {}", question(id)),
        format!("child 2 read: {}", question(id)),
        format!("child 2 wrote: {}", answer(id)),
        format!("child 1 read: {}", answer(id)),
    ]
}

/// A segment left by an earlier run that died mid-way: turn 1 and an old question. A parent
/// that does not reset the turn lets child 2 go at once and read the old question (id -1)
/// whenever it runs before child 1 has written: the schedule that holds child 1 at its `shmat`
/// makes that happen in every grading.
/// (A stale turn 2 would catch nothing: child 1 stores 1 whatever it finds.)
fn stale_contents() -> Vec<u8> {
    let mut contents = 1u32.to_ne_bytes().to_vec();
    contents.extend_from_slice(b"Is this the shared memory ID: -1?\0");
    contents
}

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("the children take turns", &[KEY])
            // Not id 0: a hard-coded id fails.
            .burn_ids(1 + unpredictable(8))
            .held(KEY, 512, 0o666, &stale_contents())
            .run(&[])
            .race()
            .check(
                1,
                "exits with status 0",
                "check what it printed on stderr: every error path exits 1",
                |run| run.exited(0, 0),
            )
            .tidy()
            .check(
                4,
                "prints the four lines in causal order, with the real id",
                "print before you pass the turn: child 1 prints `wrote` before storing 1, child 2 prints `wrote` before storing 2; and reset the turn to 0 before forking",
                |run| {
                    let id = i64::from(run.setup_id(0)?);
                    run.printed(0, &expected_lines(id))
                        .map_err(|failure| ordering_advice(run.with_writes(0, failure)))
                },
            )
            .check(
                3,
                "forks two children, each printing its own lines",
                "fork child 1 (it writes the question and reads the answer), then child 2 (it reads the question and writes the answer); the parent prints nothing",
                |run| {
                    run.lines_from_their_processes(
                        0,
                        2,
                        &[("child 1 ", &[0]), ("child 2 ", &[1])],
                    )
                },
            )
            .check(
                3,
                "the segment ends with turn 2 and the answer",
                "child 2 writes the answer (with its NUL) at offset 4, then stores 2 into atomic_u32(0)",
                final_contents,
            )
            .check(
                2,
                "removes the segment",
                "the parent removes the segment with shmctl_rmid after waiting for both children",
                |run| run.setup_segment_removed(0),
            )
            .check(
                1,
                "waits for both children",
                "waitpid for each child and check that each exited with status 0",
                |run| run.children_waited_for(),
            )
            .tidy()
            .check(
                2,
                "takes turns without sleeping",
                "wait for the turn in a loop on atomic_u32(0).load(Ordering::Acquire) with std::thread::yield_now(); never sleep",
                |run| run.slept_nowhere(0, CLOCK_LIMIT),
            )
            .tidy()
            .check(
                1,
                "leaves no process running",
                "every process you fork must exit",
                |run| run.nothing_left_running(),
            )
            .tidy(),
        Test::new("on its own, without a segment before", &[KEY])
            .run(&[])
            .check(
                2,
                "creates the segment itself and prints the four lines",
                "shmget with IPC_CREAT (512 bytes, mode 0o666) before forking",
                |run| {
                    run.exited(0, 0)?;
                    let id = run.printed_number(0, "child 1 wrote: Is this the shared memory ID: ")?;
                    run.printed_in_any_order(0, &expected_lines(id))
                },
            )
            .check(
                1,
                "leaves no segment behind",
                "remove the segment with shmctl_rmid once both children are done",
                |run| run.no_segment_left(),
            )
            .tidy(),
    ]
}

fn final_contents(run: &Run) -> Verdict {
    let segment = run.setup_segment(0)?;
    let id = i64::from(run.setup_id(0)?);
    let turn = segment
        .contents
        .get(..4)
        .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
        .map(u32::from_ne_bytes);
    ensure(turn == Some(2), || {
        Failure::new("the turn (bytes 0..4) is not 2 at the end")
            .expected("turn 2")
            .actual(turn.map_or("no bytes".to_string(), |turn| format!("turn {turn}")))
    })?;
    let message = c_string_at(&segment.contents, 4);
    ensure(message == answer(id).as_bytes(), || {
        Failure::new("the message at offset 4 is not child 2's answer")
            .expected(answer(id))
            .actual(describe_bytes(&message))
    })
}

/// Lines in the wrong order: the advice is about synchronisation, not about the check's topic.
fn ordering_advice(failure: Failure) -> Failure {
    if failure.message.ends_with("in the wrong order") {
        failure.advice(ORDERING_ADVICE)
    } else {
        failure
    }
}
