//! 04 ping-pong: two children take turns through a flag in key 1001, without sleep.

use std::time::Duration;

use crate::checks::lens::{
    PrintedLine, describe_lineage, describe_process, events_where, lines_by_process,
    process_with_lineage, render_events, seen_at_line,
};
use crate::checks::{
    Failure, Run, Test, Verdict, c_string_at, describe_bytes, ensure, unpredictable,
};
use crate::scenario::{Call, Exit, SyscallKind};

use super::spec::ping_pong::{
    ANSWER, CHILD_1_READ, CHILD_1_WROTE, CHILD_2_READ, CHILD_2_WROTE, KEY, QUESTION,
};
use super::spec::{fill, prefix};
/// The children, by descent: the program's first and second forks.
const CHILD_1: &[u32] = &[0];
const CHILD_2: &[u32] = &[1];
/// Where the message starts, after the turn.
const MESSAGE: usize = 4;
/// The lines that say a message was written.
const WROTE: [&str; 2] = [prefix(CHILD_1_WROTE), prefix(CHILD_2_WROTE)];
/// Without a trace, only the clock can tell sleeping: a run this long slept (the notes' version
/// sleeps 1 s and 2 s to order the children, while a program that waits for the flag takes
/// milliseconds, even pinned to one CPU). A short sleep escapes it; the trace sees every one.
const CLOCK_LIMIT: Duration = Duration::from_millis(900);
/// How far the clocks jump once the grader holds a process: a child that waits by spinning on
/// the clock for less than that, until the other must be done, goes on at once. Well below the
/// stub's `PATIENCE` (10 s) and the fixtures' (1 s), so a child that waits for its turn does not
/// give up. A spin longer than this is still unseen (the grader reference says so).
const CLOCKS_JUMP: Duration = Duration::from_millis(500);
/// Lines in the wrong order mean the children are not synchronised, whatever the check.
const ORDERING_ADVICE: &str = "the lines are right but in the wrong order: a synchronisation \
    problem, not a segment one. Print before you pass the turn (child 1 prints `wrote` before \
    storing 1, child 2 before storing 2), wait for the turn with an Acquire load in a loop, \
    never sleep, and reset the turn to 0 before forking";

fn question(id: i64) -> String {
    fill(QUESTION, &[("id", &id)])
}

/// The word of the question the grader changes, and to what: "Is this" becomes "Is that"
/// ([`question_variant`]). Same length, so the rest of the segment stays as it was.
const WORD: &str = "this";
const VARIANT: &str = "that";

/// Where [`WORD`] is in the question (the spec's, so the two cannot drift apart).
fn variant_at() -> usize {
    QUESTION
        .find(WORD)
        .expect("the spec's ping-pong question has the word the grader rewrites")
}

/// The question as the grader rewrites it in the segment, at the stop before child 1's first
/// line: child 1 has written its question and, printing before it passes the turn, has not let
/// child 2 read yet. Same length, still a question: child 2 must print the one it reads. Only
/// made while the turn is 0 and the word is there (a question, not yet answered): a child 1
/// that passed the turn sooner may have had child 2 answer already.
fn question_variant(id: i64) -> String {
    let mut question = question(id).into_bytes();
    question[variant_at()..variant_at() + VARIANT.len()].copy_from_slice(VARIANT.as_bytes());
    String::from_utf8_lossy(&question).into_owned()
}

fn answer(id: i64) -> String {
    fill(ANSWER, &[("id", &id)])
}

/// The four lines, in the only order causality allows.
fn expected_lines(id: i64) -> Vec<String> {
    let (question, answer) = (question(id), answer(id));
    vec![
        fill(CHILD_1_WROTE, &[("question", &question)]),
        fill(CHILD_2_READ, &[("question", &question)]),
        fill(CHILD_2_WROTE, &[("answer", &answer)]),
        fill(CHILD_1_READ, &[("answer", &answer)]),
    ]
}

/// A segment left by an earlier run that died mid-way: turn 1 and an old question. A parent
/// that does not reset the turn lets child 2 go at once and read the old question (id -1)
/// whenever it runs before child 1 has written: the schedule that holds child 1 at its `shmat`
/// makes that happen in every grading.
/// (A stale turn 2 would catch nothing: child 1 stores 1 whatever it finds.)
fn stale_contents() -> Vec<u8> {
    let mut contents = 1u32.to_ne_bytes().to_vec();
    contents.extend_from_slice(question(-1).as_bytes());
    contents.push(0);
    contents
}

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("the children take turns", &[KEY])
            // Not id 0: a hard-coded id fails.
            .burn_ids(1 + unpredictable(8))
            .held(KEY, 512, 0o666, &stale_contents())
            .poke_before(
                0,
                (MESSAGE + variant_at(), VARIANT.as_bytes()),
                CHILD_1,
                (SyscallKind::Write, 1),
                &[(0, &0u32.to_ne_bytes()), (MESSAGE + variant_at(), WORD.as_bytes())],
            )
            .run(&[])
            .race()
            // A child spinning on the clock until the other must be done goes at once while
            // the other is held (see `CLOCKS_JUMP`).
            .clocks_jump_at_holds(CLOCKS_JUMP)
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
                    let (expected, rewritten) = lines_after_rewrite(run, id);
                    run.printed(0, &expected).map_err(|failure| {
                        ordering_advice(run.with_writes(0, rewritten_question(failure, rewritten)))
                    })
                },
            )
            .check(
                2,
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
                2,
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
                "wait for the turn in a loop: an Acquire load of the turn word (`Attachment::atomic_u32`), yielding the CPU between tries (`std::thread::yield_now`); never sleep",
                |run| run.slept_nowhere(0, CLOCK_LIMIT),
            )
            .tidy()
            .check(
                1,
                "leaves no process running",
                "every process you fork must exit",
                |run| run.nothing_left_running(),
            )
            .tidy()
            .check(
                1,
                "writes each message before printing the line that says so",
                "write the message (and its NUL) at offset 4 first, then print the line that says you wrote it, then pass the turn",
                wrote_after_writing,
            )
            // A program printing nothing passes it: it counts once the main scenario did work.
            .tidy()
            .check(
                1,
                "waits on the segment with atomic loads (a plain read loop hangs once optimised)",
                "wait for the turn with atomic_u32(0).load(Ordering::Acquire) in the loop; a plain read through as_ptr() is made once, before the loop, by the optimiser",
                turn_read_again,
            )
            // Only a hang can show it: a program that ends (or does nothing) passes, so it
            // counts once the main scenario did work.
            .tidy(),
        Test::new("on its own, without a segment before", &[KEY])
            .run(&[])
            .check(
                2,
                "creates the segment itself and prints the four lines",
                "shmget with IPC_CREAT (512 bytes, mode 0o666) before forking",
                |run| {
                    run.exited(0, 0)?;
                    let id = run.printed_number(0, &fill(CHILD_1_WROTE, &[("question", &prefix(QUESTION))]))?;
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

/// The four lines once the grader rewrote the question ([`question_variant`]), and whether
/// child 2 had to read the rewritten one. It had when child 1's first line was its first write
/// and, at its stop, the segment held turn 0 and child 1's question (the lens read them just
/// before the rewrite): a program that takes turns gives child 2 no chance to read before. A
/// program that passed the turn sooner, or printed before writing, may have child 2 read either
/// question (a race, or a flaw, that other runs and checks judge): either is accepted then.
fn lines_after_rewrite(run: &Run, id: i64) -> (Vec<String>, bool) {
    let mut lines = expected_lines(id);
    let Ok(trace) = run.traced(0) else {
        return (lines, false);
    };
    if run.observation.poked.is_empty() {
        return (lines, false);
    }
    let rewritten = fill(CHILD_2_READ, &[("question", &question_variant(id))]);
    let child_1 = process_with_lineage(trace, CHILD_1);
    let first_write = trace.events.iter().position(|event| {
        Some(event.process) == child_1 && matches!(event.call, Call::Write { .. })
    });
    let before_the_turn = lines_by_process(trace)
        .into_iter()
        .find(|line| Some(line.process) == child_1)
        .filter(|line| Some(line.event) == first_write)
        .and_then(|line| seen_at_line(trace, &line).last().cloned())
        .is_some_and(|shared| {
            shared.bytes.get(..4) == Some(&0u32.to_ne_bytes()[..])
                && c_string_at(&shared.bytes, MESSAGE) == question(id).as_bytes()
        });
    let printed_it = run
        .output_lines(0)
        .is_ok_and(|printed| printed.contains(&rewritten));
    if before_the_turn || printed_it {
        lines[1] = rewritten;
    }
    (lines, before_the_turn)
}

/// Says why child 2's expected question is not child 1's, when the grader rewrote it.
fn rewritten_question(failure: Failure, rewritten: bool) -> Failure {
    if !rewritten || failure.message.ends_with("in the wrong order") {
        return failure;
    }
    Failure {
        message: format!(
            "{}: after child 1 wrote its question, before it passed the turn, the grader \
             changed the question in the segment ({WORD:?} to {VARIANT:?}); child 2 must \
             print the question it read there, not one it built",
            failure.message
        ),
        ..failure
    }
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

/// A child that waits for a turn the segment already holds, until the grader's timeout: its
/// loop does not read the turn again. ping-pong is built optimised (Cargo.toml's profile), as
/// every build of it is, so a plain read of the turn (through `as_ptr`) in a loop that makes no
/// call is done once, before the loop, and the child spins forever; sysv's reads are atomic
/// and re-read. Judged only when the run timed out with that child still there.
fn turn_read_again(run: &Run) -> Verdict {
    let step = run.step(0)?;
    if step.exit != Exit::TimedOut {
        return Ok(());
    }
    let Ok(trace) = run.traced(0) else {
        // Without a trace, which child was still there cannot be told: the hang is reported
        // by the other checks.
        return Ok(());
    };
    let turn = run
        .setup_segment(0)?
        .contents
        .get(..4)
        .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
        .map(u32::from_ne_bytes);
    let lines = lines_by_process(trace);
    let printed = |prefix: &str| lines.iter().any(|line| line.text.starts_with(prefix));
    // Child 2 waits for turn 1 before its `read` line; child 1 waits for turn 2 after its
    // `wrote` line, before its `read` line.
    let waiting = if !printed(prefix(CHILD_2_READ)) {
        (CHILD_2, 1)
    } else if !printed(prefix(CHILD_1_READ)) {
        (CHILD_1, 2)
    } else {
        return Ok(());
    };
    let (lineage, wanted) = waiting;
    let Some(child) = process_with_lineage(trace, lineage) else {
        return Ok(());
    };
    let ended = trace
        .events
        .iter()
        .any(|event| event.process == child && matches!(event.call, Call::Exit(_)));
    if ended || turn != Some(wanted) {
        return Ok(());
    }
    let who = describe_lineage(lineage);
    let shown = events_where(trace, |event| {
        matches!(event.call, Call::Write { fd: 1, .. })
    });
    Err(Failure::new(format!(
        "{who} was still waiting for turn {wanted} when the grader stopped the program after \
         {} ms, though the segment held turn {wanted}: its loop never read the turn again. \
         ping-pong is built optimised, and the optimiser reads a plain (non-atomic) value once, \
         before the loop",
        step.duration.as_millis()
    ))
    .expected(format!("{who} sees turn {wanted} and goes on"))
    .actual(format!("{who} still waiting, turn {wanted} in the segment"))
    .trace(render_events(trace, &shown))
    .step(0))
}

/// Each `wrote` line was printed after its process wrote a message: the message its process saw
/// in the segment when it printed the line (read by the lens at that write) is not the one it
/// saw at its previous line, nor, at its first line, the stale one the grader left there. Not
/// "is the line's message": in a program whose children do not take turns, the other child
/// may write between a child's write and its line, and the check would then fail by luck;
/// "changed" holds whatever the other does, since each child writes the message once.
fn wrote_after_writing(run: &Run) -> Verdict {
    let Ok(trace) = run.traced(0) else {
        // Without a trace nothing was read: the lines and the end state are the other checks'.
        return Ok(());
    };
    let stale = run
        .scenario
        .setup
        .first()
        .map(|segment| c_string_at(&segment.contents, MESSAGE))
        .unwrap_or_default();
    let message_at = |line: &PrintedLine| {
        seen_at_line(trace, line)
            .last()
            .map(|shared| c_string_at(&shared.bytes, MESSAGE))
    };
    let lines = lines_by_process(trace);
    for (position, line) in lines.iter().enumerate() {
        if !WROTE.iter().any(|prefix| line.text.starts_with(prefix)) {
            continue;
        }
        let before = lines[..position]
            .iter()
            .rev()
            .find(|earlier| earlier.process == line.process)
            .and_then(message_at)
            .unwrap_or_else(|| stale.clone());
        let now = message_at(line);
        if now.as_ref().is_some_and(|now| *now != before) {
            continue;
        }
        let who = describe_process(trace, line.process);
        let held = match now {
            None => "no segment attached".to_string(),
            Some(now) if now.is_empty() => "no message (a NUL at offset 4)".to_string(),
            Some(now) => describe_bytes(&now),
        };
        let shown = events_where(trace, |event| {
            event.process == line.process
                && matches!(event.call, Call::Shmat { .. } | Call::Write { fd: 1, .. })
        });
        return Err(Failure::new(format!(
            "{who} printed {:?} while the segment still held {held}: it printed that it wrote \
             before it wrote",
            line.text
        ))
        .expected("the line's message at offset 4 when it is printed")
        .actual(held)
        .trace(render_events(trace, &shown))
        .step(0));
    }
    Ok(())
}

/// Lines in the wrong order: the advice is about synchronisation, not about the check's topic.
fn ordering_advice(failure: Failure) -> Failure {
    if failure.message.ends_with("in the wrong order") {
        failure.advice(ORDERING_ADVICE)
    } else {
        failure
    }
}
