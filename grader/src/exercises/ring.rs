//! 08 ring: N messages from a parent to its child through a ring buffer in one segment.
//!
//! What the grader sees: the child's line with the count and a checksum of every byte it
//! received, which the grader recomputes from N and SIZE (a message lost, doubled, out of order
//! or torn changes it); from the trace, that the child printed it, that the segment was
//! smaller than the transfer (so the ring wrapped), and that nobody slept; from the compiled
//! code ([`orderings`]), that some atomic access publishes with Release and some waits with
//! Acquire. What it cannot see: the loads and stores as they happen, nor which counter each
//! access is for. Any other ordering bug shows only when it damages a message in one of the
//! runs; the chapter says which bugs those are.

mod orderings;

use std::io::Write;
use std::time::{Duration, Instant};

use super::spec::ring::{RECEIVED, SENT};
use super::spec::{fill, prefix, value};
use crate::checks::lens::{events_where, lines_by_process, process_with_lineage, render_events};
use crate::checks::{Failure, Run, Test, Verdict, ensure};
use crate::scenario::{Call, Explore, Schedules, SyscallKind};

/// Slots in the spec's ring.
const CAPACITY: u64 = 256;
/// The check that reads the compiled code.
const ORDERING: &str = "publishes with Release and waits with Acquire (in the compiled code)";
const DELIVERY: &str = "the child receives every message once, in order, intact";
/// Without a trace only the clock tells sleeping; the transfers here take milliseconds.
const CLOCK_LIMIT: Duration = Duration::from_millis(900);

/// Word `i` of message `seq`, as the spec (and the stub's `word`) define it; word 0 is `seq`.
fn word(seq: u64, i: u64) -> u64 {
    if i == 0 {
        seq
    } else {
        seq.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(i)
    }
}

/// The checksum of `count` intact messages of `size` bytes, as the stub's `Checksum` folds it.
fn checksum(count: u64, size: u64) -> u64 {
    let mut sum: u64 = 0;
    for seq in 0..count {
        for i in 0..size / 8 {
            sum = (sum.rotate_left(5) ^ word(seq, i)).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    sum
}

fn received_line(count: u64, size: u64) -> String {
    let checksum = format!("{:#018x}", checksum(count, size));
    fill(
        RECEIVED,
        &[("count", &count), ("size", &size), ("checksum", &checksum)],
    )
}

pub fn tests() -> Vec<Test> {
    vec![
        held_before_producing(Test::new("3000 messages of 64 bytes", &[]).run(&["3000", "64"]))
            .measure(|run| throughput(run, 3000, 64))
            .check(1, "exits with status 0", "check what it printed on stderr", |run| {
                run.exited(0, 0)
            })
            .tidy()
            .check(
                5,
                DELIVERY,
                "wait for `written` > seq with an Acquire load before reading slot seq % 256; free the slot (Release store of `read`) only after copying it out; never write a slot that is not free",
                |run| delivered(run, 0, 3000, 64),
            )
            .check(
                1,
                ORDERING,
                "store `written` (after writing a slot) and `read` (after copying one out) with Ordering::Release, and load them with Ordering::Acquire where you wait: with Relaxed nothing makes a slot's bytes visible before the counter that publishes them. x86 keeps stores in order anyway, so it works here; on an ARM machine the consumer would read slots before their bytes arrive",
                published_and_acquired,
            )
            .check(
                1,
                "the ring is smaller than the transfer, so it wraps",
                "make the segment 128 + 256 × SIZE bytes: 256 slots, reused in a circle",
                |run| wraps(run, 0, 3000 * 64),
            )
            .check(
                1,
                "the parent reports its throughput",
                "after waiting for the child, print `sent N messages of SIZE bytes in T ms: R MB/s`",
                |run| {
                    let lines = run.output_lines(0)?;
                    let sent = fill(SENT, &[("count", &3000), ("size", &64)]);
                    ensure(lines.iter().any(|line| value(&sent, line, "ms").is_some()), || {
                        Failure::new(format!("no line `{}`", fill(&sent, &[("ms", &"T"), ("rate", &"R")])))
                            .actual(lines.join("\n"))
                            .step(0)
                    })
                },
            )
            .check(
                1,
                "waits with atomics, never sleeps",
                "spin on the counter, yielding the CPU between tries (`std::thread::yield_now`); a sleep only hides a missing synchronisation and costs milliseconds per message",
                |run| run.slept_nowhere(0, CLOCK_LIMIT),
            )
            .tidy()
            .check(
                1,
                "waits for the child and leaves nothing behind",
                "waitpid for the child; mark the segment for removal once both processes have attached it",
                |run| {
                    run.children_waited_for()?;
                    run.nothing_left(0)
                },
            )
            .tidy(),
        Test::new("1000 messages of 4096 bytes", &[])
            .run(&["1000", "4096"])
            .measure(|run| throughput(run, 1000, 4096))
            .check(
                2,
                "large messages arrive intact too",
                "a slot is SIZE bytes: slot i starts at 128 + i × SIZE",
                |run| delivered(run, 0, 1000, 4096),
            ),
        Test::new("bad arguments", &[])
            .run(&["0", "64"])
            .run(&["10", "60"])
            .run(&["10"])
            .check(
                2,
                "rejects bad arguments with status 2, making no segment",
                "N from 1, SIZE a multiple of 8 from 8 to 65536, exactly two arguments: else a usage error (exit 2) before any shmget",
                |run| {
                    run.all_exited(2)?;
                    run.no_segment_left()
                },
            ),
    ]
}

/// After a first run, the lens's schedules, holding a process at its `shmctl` (the parent marks
/// the segment for removal right after the fork, before producing: held there, it lets the
/// consumer run first on an empty ring, which shows a consumer that reads a slot before it is
/// published, in every grading), at its `wait` and at its exit.
fn held_before_producing(test: Test) -> Test {
    let mut test = test.explore();
    test.lens.schedules = Schedules::Explore(Explore {
        at: vec![SyscallKind::Shmctl, SyscallKind::Wait, SyscallKind::Exit],
        ..Explore::default()
    });
    test
}

/// Step `index` exited 0 and its child printed the line with the recomputed checksum.
fn delivered(run: &Run, index: usize, count: u64, size: u64) -> Verdict {
    let expected = received_line(count, size);
    let lines = run.output_lines(index)?;
    let printed = lines.iter().find(|line| line.starts_with(prefix(RECEIVED)));
    ensure(printed == Some(&expected), || {
        let message = match printed {
            None => "the child printed no `received ...` line".to_string(),
            Some(_) => format!(
                "the checksum of what the child received is not that of the {count} messages in order: one was lost, read twice, overwritten or read before it was complete"
            ),
        };
        Failure::new(message)
            .expected(expected.clone())
            .actual(lines.join("\n"))
            .step(index)
    })?;
    let Ok(trace) = run.traced(index) else {
        return Ok(());
    };
    let by_child = lines_by_process(trace)
        .into_iter()
        .any(|line| line.text == expected && trace.processes[line.process].lineage == [0]);
    ensure(by_child, || {
        Failure::new("the `received` line was not printed by the child (the consumer)")
            .expected("the parent produces, its child consumes and prints")
            .step(index)
    })
}

/// The program's compiled code (its LLVM IR, which the build leaves beside it) has an atomic
/// access that publishes (Release or stronger) and one that waits (Acquire or stronger).
fn published_and_acquired(run: &Run) -> Verdict {
    let ir = crate::build::compiled::ir_path(&run.scenario.program);
    let found = orderings::Orderings::of_file(&ir).map_err(|error| {
        Failure::new(format!(
            "the grader has no compiled code of this program to read ({}: {error}); grade it \
             with `cargo grade`, which writes it",
            ir.display()
        ))
    })?;
    let missing = match (found.releasing > 0, found.acquiring > 0) {
        (true, true) => return Ok(()),
        (false, false) => "no atomic access with Release and none with Acquire",
        (false, true) => "no atomic store with Release (nothing publishes)",
        (true, false) => "no atomic load with Acquire (nothing waits for what was published)",
    };
    Err(Failure::new(format!(
        "the compiled program has {missing}; its {} Relaxed atomic accesses order nothing \
         around them",
        found.relaxed
    ))
    .expected("a Release store of each counter and an Acquire load where the other side waits")
    .actual(format!(
        "{} Release, {} Acquire, {} Relaxed atomic accesses",
        found.releasing, found.acquiring, found.relaxed
    )))
}

/// Every segment step `index` made is smaller than the `transfer` (in bytes).
fn wraps(run: &Run, index: usize, transfer: u64) -> Verdict {
    let Ok(trace) = run.traced(index) else {
        return Ok(());
    };
    let made = events_where(trace, |event| {
        matches!(event.call, Call::Shmget { result: Ok(_), .. })
    });
    ensure(!made.is_empty(), || {
        Failure::new("the program made no segment").step(index)
    })?;
    let too_big = made.iter().any(|&at| {
        matches!(trace.events[at].call, Call::Shmget { size, .. } if size >= transfer || size > 128 + CAPACITY * 65536)
    });
    ensure(!too_big, || {
        Failure::new(format!(
            "the segment holds the whole transfer ({transfer} bytes): the ring never wraps"
        ))
        .expected(format!("a segment of 128 + {CAPACITY} × SIZE bytes"))
        .trace(render_events(trace, &made))
        .step(index)
    })
}

/// The ring's throughput in the run, beside a pipe's for the same messages, both timed the
/// same way, from the fork to the child's exit (the child's start and end included, the
/// program's own start not): `64 B × 3000, fork to exit: ring 45 MB/s, pipe 20 MB/s`. The
/// ring's span is read from the trace; the pipe's is [`pipe_reference`]'s.
fn throughput(run: &Run, count: usize, size: usize) -> Option<String> {
    let trace = run.traced(0).ok()?;
    let forked = trace
        .events
        .iter()
        .find(|event| matches!(event.call, Call::Fork { result: Ok(_), .. }))?
        .at;
    let child = process_with_lineage(trace, &[0])?;
    let ended = trace
        .events
        .iter()
        .find(|event| event.process == child && matches!(event.call, Call::Exit(_)))?
        .at;
    let bytes = (count * size) as f64;
    let ring = bytes / ended.checked_sub(forked)?.as_secs_f64().max(1e-6) / 1e6;
    let pipe = bytes / pipe_reference(count, size)?.as_secs_f64().max(1e-6) / 1e6;
    Some(format!(
        "{size} B × {count}, fork to exit: ring {ring:.0} MB/s, pipe {pipe:.0} MB/s"
    ))
}

/// How long `count` messages of `size` bytes take through a pipe between two processes, as
/// the ring's program moves them: the grader forks a child that reads them (one `read` per
/// message) and exits, and writes them itself (one `write` each). Timed from just before the
/// fork to the child's exit (`waitpid`), as the ring is.
/// `None` if a call failed (the report then shows no figures).
fn pipe_reference(count: usize, size: usize) -> Option<Duration> {
    use nix::unistd::{ForkResult, fork, read};
    // Close-on-exec: a program another thread of the grader starts meanwhile must not get it.
    let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ok()?;
    // Allocated before the fork: the child of a process with threads may not allocate.
    let mut received = vec![0; size];
    let message = vec![0x5a; size];
    let started = Instant::now();
    // SAFETY: the grader has threads, so the child may only make async-signal-safe calls
    // until it exits: it makes read(2), close(2) and _exit(2), on memory allocated before.
    let child = match unsafe { fork() }.ok()? {
        ForkResult::Child => {
            drop(writer);
            let status = (0..count).try_for_each(|_| {
                let mut got = 0;
                while got < size {
                    match read(&reader, &mut received[got..]) {
                        Ok(0) | Err(_) => return Err(()),
                        Ok(more) => got += more,
                    }
                }
                Ok(())
            });
            // SAFETY: _exit ends the process at once, running nothing of the parent's.
            unsafe { libc::_exit(i32::from(status.is_err())) }
        }
        ForkResult::Parent { child } => child,
    };
    drop(reader);
    let mut writer = std::fs::File::from(writer);
    let sent = (0..count).try_for_each(|_| writer.write_all(&message));
    drop(writer);
    let waited = nix::sys::wait::waitpid(child, None).ok()?;
    let took = started.elapsed();
    match (sent, waited) {
        (Ok(()), nix::sys::wait::WaitStatus::Exited(_, 0)) => Some(took),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_covers_order_and_contents() {
        assert_ne!(checksum(2, 16), checksum(1, 16));
        let swapped = {
            let mut sum: u64 = 0;
            for seq in [1, 0] {
                for i in 0..2 {
                    sum = (sum.rotate_left(5) ^ word(seq, i)).wrapping_mul(0x0000_0100_0000_01B3);
                }
            }
            sum
        };
        assert_ne!(swapped, checksum(2, 16));
    }
}
