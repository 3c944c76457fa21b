//! 03 parent-child: the child writes 37892 into key 24601, the parent waits, reads and removes.

use super::spec::parent_child::{CHILD as CHILD_LINE, KEY, PARENT as PARENT_LINE, VALUE};
use super::spec::{fill, prefix};
use std::time::Duration;

use crate::checks::lens::{describe_lineage, events_where, process_with_lineage, render_events};
use crate::checks::{Failure, Run, Test, Verdict, describe_bytes, ensure, unpredictable};
use crate::scenario::{Call, Event, SyscallKind};

/// The child, by descent: the program's first fork.
const CHILD: &[u32] = &[0];
/// Without a trace, a run this long slept (see ping-pong's).
const CLOCK_LIMIT: Duration = Duration::from_millis(900);
/// Lines in the wrong order mean the processes are not synchronised, whatever the check.
const ORDERING_ADVICE: &str = "the parent printed before its child's value was there: a \
    synchronisation problem. The parent must waitpid for its child before it attaches, reads \
    and prints";

fn expected_lines() -> Vec<String> {
    vec![child_line(), parent_line(VALUE)]
}

/// The child's line, `child: 37892`.
fn child_line() -> String {
    fill(CHILD_LINE, &[("value", &VALUE)])
}

/// The parent's line when it read `value`.
fn parent_line(value: i32) -> String {
    fill(PARENT_LINE, &[("value", &value)])
}

pub fn tests() -> Vec<Test> {
    // A number the program cannot know: the grader writes it into the segment when the child
    // exits, so only a parent that reads after waitpid prints it.
    let poked = 1_000_000 + unpredictable(1_000_000) as i32;
    vec![
        Test::new("the child's value reaches the parent", &[KEY])
            .held(KEY, 4, 0o644, &[0; 4])
            .run(&[])
            .race()
            .hold_until_children_end(SyscallKind::Shmat)
            .check(
                1,
                "exits with status 0",
                "check what it printed on stderr: every error path exits 1",
                |run| run.exited(0, 0),
            )
            .tidy()
            .check(
                2,
                "prints the child's line, then the parent's",
                "the parent must waitpid for the child before it reads and prints",
                |run| {
                    run.printed(0, &expected_lines())
                        .map_err(|failure| parent_child_advice(run.with_writes(0, failure)))
                },
            )
            .check(
                1,
                "forks one child, which prints the child's line",
                "fork once; the child attaches, writes, prints `child: ...`, detaches and exits; the parent prints `parent: ...`",
                |run| run.lines_from_their_processes(0, 1, &[(prefix(CHILD_LINE), CHILD), (prefix(PARENT_LINE), &[])]),
            )
            .check(
                1,
                "the child wrote 37892 into the segment",
                "in the child: attach, write the int 37892 at offset 0 in the machine's byte order (`i32::to_ne_bytes`), detach",
                value_in_segment,
            )
            .check(
                1,
                "the child prints its line once 37892 is in the segment",
                "in the child: write the value into the segment first, then print the line that says so",
                |run| {
                    run.reported_once_written(
                        0,
                        prefix(CHILD_LINE),
                        (0, &VALUE.to_ne_bytes()),
                        render_int,
                        value_in_segment,
                    )
                },
            )
            // A program printing nothing passes it: it counts once the main scenario did work.
            .tidy()
            .check(
                1,
                "removes the segment",
                "the parent removes the segment with shmctl_rmid after reading it",
                |run| run.setup_segment_removed(0),
            )
            .check(
                1,
                "waits for its child",
                "call waitpid on the child's pid, and check that it exited with status 0",
                |run| run.children_waited_for(),
            )
            .tidy()
            .check(
                1,
                "synchronises without sleeping",
                "the parent waits for its child with waitpid; never sleep to order processes",
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
        Test::new("the grader changes the value once the child has ended", &[KEY])
            .held(KEY, 4, 0o644, &[0; 4])
            .run(&[])
            .poke_after_exit(0, 0, &poked.to_ne_bytes(), CHILD)
            // Under every schedule too: a parent that reads before waitpid may still read
            // after the child ended when the kernel happens to run the child first.
            .explore()
            .check(
                2,
                "the parent reads the segment after waitpid",
                "after waitpid returns, attach and read the int from the segment; print what you read, not the number you expect",
                move |run| parent_read_after_waiting(run, poked),
            ),
        Test::new("on its own, without a segment before", &[KEY])
            .run(&[])
            .check(
                1,
                "creates the segment itself and prints both lines",
                "shmget with IPC_CREAT (mode 0o644) before fork",
                |run| {
                    run.exited(0, 0)?;
                    // The lines, in any order and with any number read: order and value are
                    // the first tests' business, where the grader steers the schedule.
                    let lines = run.output_lines(0)?;
                    ensure(
                        lines.len() == 2
                            && lines.contains(&child_line())
                            && lines.iter().any(|line| line.starts_with(prefix(PARENT_LINE))),
                        || {
                            Failure::new("the program did not print the child's line and the parent's")
                                .expected(expected_lines().join("\n"))
                                .actual(lines.join("\n"))
                                .step(0)
                        },
                    )
                },
            )
            .check(
                1,
                "leaves no segment behind",
                "remove the segment with shmctl_rmid once the parent has read it",
                |run| run.no_segment_left(),
            )
            .tidy(),
        Test::new("the kernel refuses shmat, then fork", &[KEY])
            .run(&[])
            .run(&[])
            .inject(SyscallKind::Shmat, libc::ENOMEM, Some(0))
            .inject(SyscallKind::Fork, libc::EAGAIN, Some(1))
            .check(
                1,
                "reports a refused shmat or fork, exits 1 and leaves nothing",
                "check every call: print `error: <call> (key 0x6019): <reason>`, exit 1, and remove the segment on that path too",
                |run| run.refusals_reported(&[("shmat", "0x6019"), ("fork", "")]),
            ),
    ]
}

/// Both lines there but the parent's value wrong (or the order): the parent read before the
/// child wrote, a synchronisation problem too.
fn parent_child_advice(failure: Failure) -> Failure {
    let actual = failure.actual.clone().unwrap_or_default();
    let read_too_early = actual.lines().any(|line| line == child_line())
        && actual
            .lines()
            .any(|line| line.starts_with(prefix(PARENT_LINE)));
    if read_too_early {
        failure.advice(ORDERING_ADVICE)
    } else {
        failure
    }
}

fn value_in_segment(run: &Run) -> Verdict {
    let segment = run.setup_segment(0)?;
    let expected = VALUE.to_ne_bytes();
    let actual = segment.contents.get(..4).unwrap_or(&segment.contents);
    ensure(actual == expected, || {
        Failure::new("the segment does not hold 37892")
            .expected(VALUE.to_string())
            .actual(render_int(actual))
    })?;
    child_attached_the_segment(run)
}

/// The 37892 in the segment is the child's: child 1 attached the segment itself, the parent
/// did not attach it before forking (it could have written the value then, leaving the child
/// only a number to print), and the child saw the value before the parent attached after the
/// fork (the parent could have written it then, while the child waited for it). Without a
/// trace, or without a child (the fork check's business), nothing more can be seen.
fn child_attached_the_segment(run: &Run) -> Verdict {
    let Ok(trace) = run.traced(0) else {
        return Ok(());
    };
    let Some(child) = process_with_lineage(trace, CHILD) else {
        return Ok(());
    };
    let id = run.setup_id(0)?;
    let attaches = events_where(
        trace,
        |event| matches!(event.call, Call::Shmat { id: attached, result: Ok(_), .. } if attached == id),
    );
    let forked = trace
        .events
        .iter()
        .position(|event| event.process == 0 && matches!(event.call, Call::Fork { .. }))
        .unwrap_or(usize::MAX);
    let mut shown = attaches.clone();
    if forked != usize::MAX {
        shown.push(forked);
        shown.sort_unstable();
    }
    let parent_first = attaches
        .iter()
        .any(|&event| trace.events[event].process == 0 && event < forked);
    ensure(!parent_first, || {
        Failure::new(
            "the parent attached the segment before it forked: the child must attach it and \
             write 37892 itself; the parent attaches only after waitpid",
        )
        .expected(format!(
            "{} attaches the segment, after the fork",
            describe_lineage(CHILD)
        ))
        .actual("the parent attached it first")
        .trace(render_events(trace, &shown))
        .step(0)
    })?;
    let child_attached = attaches
        .iter()
        .any(|&event| trace.events[event].process == child);
    ensure(child_attached, || {
        Failure::new(format!(
            "{} never attached the segment, so the 37892 in it is not the child's: the child \
             must attach it and write the value itself",
            describe_lineage(CHILD)
        ))
        .expected(format!("shmat({id}, ...) by {}", describe_lineage(CHILD)))
        .actual(format!("no shmat by {}", describe_lineage(CHILD)))
        .trace(render_events(trace, &shown))
        .step(0)
    })?;
    // A parent that attaches after the fork, while its child lives, is held there until the
    // child has ended (the schedule of `hold_until_children_end`): a child that writes the
    // value itself had it in the segment, as the lens read it at its line or its shmdt, before
    // the parent attached; a child waiting for the parent to write it sees it only after.
    let Some(parent_attached) = attaches
        .iter()
        .copied()
        .find(|&event| trace.events[event].process == 0 && event > forked)
        .filter(|&event| trace.events[event].held.is_some())
    else {
        return Ok(());
    };
    let holds_value = |event: &Event| {
        event
            .shared
            .iter()
            .any(|shared| shared.bytes.get(..4) == Some(&VALUE.to_ne_bytes()[..]))
    };
    let in_time = trace.events[..parent_attached]
        .iter()
        .any(|event| event.process == child && holds_value(event));
    ensure(in_time, || {
        let child_name = describe_lineage(CHILD);
        let mut shown = shown.clone();
        shown.extend(events_where(trace, |event| {
            event.process == child && !event.shared.is_empty()
        }));
        shown.sort_unstable();
        shown.dedup();
        let held = trace.events[parent_attached].held.unwrap_or_default();
        Failure::new(format!(
            "with the parent held at its shmat after the fork until {child_name} ended, \
             {child_name} never had 37892 in the segment before the parent attached: the value \
             is the parent's; the child must write it, and the parent attach only after waitpid"
        ))
        .expected(format!(
            "37892 in the segment when {child_name} prints or detaches, before the parent \
             attaches"
        ))
        .actual(format!(
            "{child_name} saw it only after the parent attached (held {} ms)",
            held.as_millis()
        ))
        .trace(render_events(trace, &shown))
        .step(0)
    })
}

/// The int at the start of `bytes` (native endian), or the bytes when there are fewer than 4.
fn render_int(bytes: &[u8]) -> String {
    bytes
        .get(..4)
        .and_then(|int| <[u8; 4]>::try_from(int).ok())
        .map_or_else(
            || describe_bytes(bytes),
            |int| i32::from_ne_bytes(int).to_string(),
        )
}

/// The parent printed `parent: <poked>`: the value the grader wrote when the child ended.
fn parent_read_after_waiting(run: &Run, poked: i32) -> Verdict {
    if run.observation.poked.is_empty() {
        // No poke: no trace, or no child ever exited (the fork check says why). Then the
        // value is the one the program wrote, as in the first test.
        return run.printed(0, &expected_lines());
    }
    let lines = run.output_lines(0)?;
    let expected = parent_line(poked);
    ensure(lines.last() == Some(&expected), || {
        let trace = run.traced(0).ok().map(|trace| {
            let shown = events_where(trace, |event| {
                matches!(
                    event.call,
                    Call::Shmat { .. }
                        | Call::Wait { .. }
                        | Call::Write { fd: 1, .. }
                        | Call::Exit(_)
                )
            });
            render_events(trace, &shown)
        });
        let failure = Failure::new(format!(
            "the grader wrote {poked} into the segment when {} ended; the parent did not print \
             it: it read the segment before waitpid returned, or printed a number it did not \
             read",
            describe_lineage(CHILD)
        ))
        .expected(expected.clone())
        .actual(lines.last().cloned().unwrap_or_default())
        .step(0);
        match trace {
            Some(trace) => failure.trace(trace),
            None => failure,
        }
    })
}
