//! 07 guard: a segment that removes itself and an attachment that detaches itself, on every
//! path: the normal end, an error, a call the kernel refuses, a panic.
//!
//! The end state shows whether the segment was removed (the grader holds it attached, so it
//! survives as "marked for destruction"); the trace shows the rest: the address `shmat`
//! returned was detached, before the removal, and the removal happened once.

use super::spec::fill;
use super::spec::guard::{HOLDS, KEY, SIZE};
use crate::checks::lens::{events_where, render_events};
use crate::checks::{Failure, Run, Test, Verdict, c_string_at, describe_bytes, ensure};
use crate::scenario::{Call, SyscallKind};

const TEXT: &str = "hello, guard";
/// 70 bytes: with its NUL it does not fit in the 64-byte segment.
const TOO_LONG: &str = "this text is far too long to fit in a segment of sixty-four bytes, yes";

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("writes, detaches, removes", &[KEY])
            .held(KEY, SIZE, 0o666, &[0; SIZE])
            .run(&[TEXT])
            .check(1, "exits with status 0", "check what it printed on stderr", |run| {
                run.exited(0, 0)
            })
            .tidy()
            .check(
                3,
                "prints the line and writes the text into the segment",
                "write the text and a NUL at offset 0 through your Attachment, read it back, print `Segment <id> holds: <text>`",
                |run| {
                    let id = run.setup_id(0)?;
                    run.printed(0, &[fill(HOLDS, &[("id", &id), ("text", &TEXT)])])?;
                    let contents = &run.setup_segment(0)?.contents;
                    ensure(c_string_at(contents, 0) == TEXT.as_bytes(), || {
                        Failure::new("the segment does not hold the text")
                            .expected(TEXT)
                            .actual(describe_bytes(&contents[..TEXT.len().min(contents.len())]))
                    })
                },
            )
            .check(
                2,
                "detaches the address shmat returned before removing",
                "an Attachment must not outlive its Segment: let it borrow the segment (a lifetime), so the compiler drops it first; beware of struct fields, dropped in declaration order",
                |run| detached_before_removal(run, 0),
            )
            .check(
                1,
                "removes the segment exactly once",
                "only Segment's Drop calls shmctl_rmid: a second removal can hit a segment that another program made with the same id since",
                |run| removed_once(run, 0),
            ),
        Test::new("a text too long: the error path", &[KEY])
            .held(KEY, SIZE, 0o666, &[0; SIZE])
            .run(&[TOO_LONG])
            .check(
                2,
                "on an error, reports it and still detaches and removes",
                "return the error with `?` and let the drops clean up: no cleanup code on the error path, no process::exit before the drops",
                |run| {
                    run.exited(0, 1)?;
                    run.stderr_mentions(0, &["error:", "0x1b5f"])?;
                    left_nothing_attached(run)
                },
            ),
        Test::new("the kernel refuses shmat", &[KEY])
            .run(&[TEXT])
            .inject(SyscallKind::Shmat, libc::ENOMEM, None)
            .check(
                2,
                "when shmat fails, reports it and removes the segment",
                "make the Segment before attaching: when shmat fails, `?` returns and Segment's Drop removes it",
                |run| {
                    run.refusal_reported(0, "shmat", "0x1b5f")?;
                    run.nothing_left(0)
                },
            ),
        Test::new("a panic half-way", &[KEY])
            .held(KEY, SIZE, 0o666, &[0; SIZE])
            .run(&["--panic", TEXT])
            .check(
                3,
                "a panic still detaches and removes",
                "a panic unwinds and runs every drop on its way out; do not end the process from a panic hook, and keep panic = \"unwind\"",
                |run| {
                    run.exited(0, 101)?;
                    left_nothing_attached(run)
                },
            ),
        Test::new("on its own, without a segment before", &[KEY])
            .run(&[TEXT])
            .check(
                1,
                "leaves nothing behind",
                "shmget with IPC_CREAT makes the segment; your Segment removes it",
                |run| run.nothing_left(0),
            )
            .tidy(),
    ]
}

/// The grader's segment was removed, and the program detached what it attached.
fn left_nothing_attached(run: &Run) -> Verdict {
    run.setup_segment_removed(0)?;
    run.detached_before_exit(0)
}

/// Every address a successful `shmat` of the grader's segment returned was detached (by the
/// same process) before the first `shmctl(IPC_RMID)` of it. Without a trace: only the end state.
fn detached_before_removal(run: &Run, index: usize) -> Verdict {
    let id = run.setup_id(0)?;
    let Ok(trace) = run.traced(index) else {
        return left_nothing_attached(run);
    };
    let removal = trace
        .events
        .iter()
        .position(|event| is_removal(&event.call, id));
    let mut attachments = 0;
    for (at, event) in trace.events.iter().enumerate() {
        let Call::Shmat {
            id: attached,
            result: Ok(addr),
            ..
        } = event.call
        else {
            continue;
        };
        if attached != id {
            continue;
        }
        attachments += 1;
        let detached = trace.events[at..].iter().position(|later| {
            later.process == event.process
                && matches!(later.call, Call::Shmdt { addr: gone, result: Ok(()) } if gone == addr)
        });
        let in_order = match (detached.map(|offset| at + offset), removal) {
            (Some(detached), Some(removal)) => detached < removal,
            (Some(_), None) => true,
            (None, _) => false,
        };
        ensure(in_order, || {
            let shown = events_where(trace, |event| {
                matches!(
                    event.call,
                    Call::Shmat { .. } | Call::Shmdt { .. } | Call::Shmctl { .. }
                )
            });
            Failure::new(match detached {
                Some(_) => format!("the segment was removed before address {addr:#x} was detached"),
                None => format!("address {addr:#x}, which shmat returned, was never detached"),
            })
            .expected("shmdt(address), then shmctl(id, IPC_RMID)")
            .trace(render_events(trace, &shown))
            .step(index)
        })?;
    }
    // Nothing attached is nothing detached in order: a program that never attached (an empty
    // one, one that hangs first) must not pass.
    ensure(attachments > 0, || {
        Failure::new(format!(
            "the program never attached segment {id} (no shmat of it)"
        ))
        .expected("shmat(id), then shmdt(address), then shmctl(id, IPC_RMID)")
        .step(index)
    })
}

/// The grader's segment was removed, by exactly one `shmctl(IPC_RMID)` (end state without a
/// trace).
fn removed_once(run: &Run, index: usize) -> Verdict {
    let id = run.setup_id(0)?;
    run.setup_segment_removed(0)?;
    let Ok(trace) = run.traced(index) else {
        return Ok(());
    };
    let removals = events_where(trace, |event| is_removal(&event.call, id));
    ensure(removals.len() == 1, || {
        Failure::new(format!("the segment was removed {} times", removals.len()))
            .expected("one shmctl(IPC_RMID)")
            .trace(render_events(trace, &removals))
            .step(index)
    })
}

fn is_removal(call: &Call, segment: i32) -> bool {
    matches!(call, Call::Shmctl { id, cmd, .. } if *id == segment && *cmd == libc::IPC_RMID)
}
