//! The trace checks on hand-made traces: what passes, what fails, and what the failure shows.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::scenario::{
    Captured, Isolation, Lens, Observation, Scenario, StepOutcome, SyscallKind, TracedProcess,
};

const ADDR: u64 = 0x7f00_0000_0000;

fn process(pid: i32, parent: Option<usize>, lineage: &[u32]) -> TracedProcess {
    TracedProcess {
        pid,
        parent,
        lineage: lineage.to_vec(),
        exe: "/lab/parent-child".to_string(),
        thread: false,
    }
}

fn event(process: usize, call: Call) -> Event {
    Event {
        process,
        at: Duration::ZERO,
        call,
        injected: None,
        held: None,
        shared: Vec::new(),
    }
}

fn write(process: usize, text: &str) -> Event {
    event(
        process,
        Call::Write {
            fd: 1,
            text: text.to_string(),
            result: Ok(text.len() as u64),
        },
    )
}

fn shmat(process: usize) -> Event {
    event(
        process,
        Call::Shmat {
            id: 0,
            addr: 0,
            flags: 0,
            result: Ok(ADDR),
        },
    )
}

fn shmdt(process: usize) -> Event {
    event(
        process,
        Call::Shmdt {
            addr: ADDR,
            result: Ok(()),
        },
    )
}

fn exit(process: usize) -> Event {
    event(process, Call::Exit(Exit::Code(0)))
}

fn fork(child: usize) -> Event {
    event(
        0,
        Call::Fork {
            syscall: "clone".to_string(),
            result: Ok(child),
        },
    )
}

fn wait(child: usize) -> Event {
    event(
        0,
        Call::Wait {
            syscall: "wait4".to_string(),
            pid: 3,
            result: Ok(3),
            reaped: Some(child),
        },
    )
}

/// Parent-child as the solution does it.
fn parent_child() -> Trace {
    Trace {
        processes: vec![process(2, None, &[]), process(3, Some(0), &[0])],
        events: vec![
            event(
                0,
                Call::Shmget {
                    key: 24601,
                    size: 4,
                    flags: libc::IPC_CREAT | 0o644,
                    result: Ok(0),
                },
            ),
            fork(1),
            shmat(1),
            write(1, "child: 37892\n"),
            shmdt(1),
            exit(1),
            wait(1),
            shmat(0),
            write(0, "parent: 37892\n"),
            shmdt(0),
            event(
                0,
                Call::Shmctl {
                    id: 0,
                    cmd: libc::IPC_RMID,
                    result: Ok(0),
                },
            ),
            exit(0),
        ],
        dropped: 0,
    }
}

fn scenario() -> Scenario {
    Scenario {
        name: "test".to_string(),
        program: PathBuf::from("/lab/parent-child"),
        setup: Vec::new(),
        steps: Vec::new(),
        timeout: Duration::from_secs(5),
        pin_cpu: None,
        repeat: 1,
        keys: Vec::new(),
        lens: Lens::default(),
    }
}

fn observation(trace: Option<Trace>, duration: Duration) -> Observation {
    let mut observation = Observation::empty(Isolation::Namespaces { self_mapped: false });
    observation.steps.push(StepOutcome {
        pid: 2,
        exit: Exit::Code(0),
        stdout: Captured::default(),
        stderr: Captured::default(),
        duration,
        left_running: Vec::new(),
        not_waited_for: Vec::new(),
        trace,
    });
    observation
}

fn verdict(trace: Trace, check: impl Fn(&Run) -> Verdict) -> Verdict {
    let scenario = scenario();
    let observation = observation(Some(trace), Duration::from_millis(3));
    check(&Run::new(&scenario, &observation))
}

const OWNERS: &[(&str, &[u32])] = &[("child: ", &[0]), ("parent: ", &[])];

#[test]
fn calls_render_as_strace_prints_them() {
    let trace = parent_child();
    let lines: Vec<String> = trace
        .events
        .iter()
        .map(|event| render_event(&trace, event))
        .collect();
    assert_eq!(
        lines[0],
        "[the parent] shmget(0x6019, 4, IPC_CREAT|0644) = 0"
    );
    assert_eq!(lines[1], "[the parent] clone() = 3 (child 1)");
    assert_eq!(lines[2], "[child 1] shmat(0, NULL, 0) = 0x7f0000000000");
    assert_eq!(lines[3], "[child 1] write(1, \"child: 37892\\n\", 13) = 13");
    assert_eq!(lines[5], "[child 1] +++ exited with 0 +++");
    assert_eq!(lines[6], "[the parent] wait4(3, ...) = 3 (child 1)");
    assert_eq!(lines[10], "[the parent] shmctl(0, IPC_RMID, ...) = 0");
    let mut refused = shmat(1);
    refused.call = Call::Shmat {
        id: 0,
        addr: 0,
        flags: 0,
        result: Err(libc::ENOMEM),
    };
    refused.injected = Some(libc::ENOMEM);
    assert_eq!(
        render_event(&trace, &refused),
        "[child 1] shmat(0, NULL, 0) = -1 ENOMEM (Out of memory) (INJECTED ENOMEM)"
    );
}

#[test]
fn processes_and_holds_are_named_by_descent() {
    assert_eq!(describe_lineage(&[]), "the parent");
    assert_eq!(describe_lineage(&[1]), "child 2");
    assert_eq!(describe_lineage(&[1, 0]), "child 1 of child 2");
    let hold = Hold {
        step: 0,
        process: vec![0],
        call: SyscallKind::Write,
        nth: 1,
        held_for: Some(Duration::from_millis(20)),
    };
    assert_eq!(
        describe_schedule(&[hold]).as_deref(),
        Some("with child 1's write held 20 ms")
    );
    assert_eq!(describe_schedule(&[]), None);
}

#[test]
fn the_solution_passes_every_trace_check() {
    let checks: [&dyn Fn(&Run) -> Verdict; 3] = [
        &|run| run.detached_before_exit(0),
        &|run| run.lines_from_their_processes(0, 1, OWNERS),
        &|run| run.slept_nowhere(0, Duration::from_millis(900)),
    ];
    for check in checks {
        assert_eq!(verdict(parent_child(), check), Ok(()));
    }
}

#[test]
fn a_missing_shmdt_is_named_with_its_shmat() {
    let mut trace = parent_child();
    trace.events.remove(4); // the child's shmdt
    let failure = verdict(trace, |run| run.detached_before_exit(0)).expect_err("no shmdt");
    assert!(
        failure
            .message
            .starts_with("child 1 exited with the segment still attached at 0x7f0000000000"),
        "{}",
        failure.message
    );
    let shown = failure.shown_calls().expect("the calls").to_string();
    assert_eq!(
        shown,
        "[child 1] shmat(0, NULL, 0) = 0x7f0000000000\n[child 1] +++ exited with 0 +++"
    );
}

#[test]
fn one_process_printing_every_line_did_not_fork() {
    let trace = Trace {
        processes: vec![process(2, None, &[])],
        events: vec![
            shmat(0),
            write(0, "child: 37892\n"),
            write(0, "parent: 37892\n"),
            shmdt(0),
            exit(0),
        ],
        dropped: 0,
    };
    let failure =
        verdict(trace, |run| run.lines_from_their_processes(0, 1, OWNERS)).expect_err("no fork");
    assert!(
        failure.message.starts_with("the program forked no process"),
        "{}",
        failure.message
    );
    assert!(
        failure
            .shown_calls()
            .expect("calls")
            .contains("write(1, \"child: 37892\\n\"")
    );
}

#[test]
fn a_line_from_the_wrong_process_is_named() {
    let mut trace = parent_child();
    // The parent prints the child's line (a print split in two writes).
    trace.events[3] = write(0, "child: ");
    trace.events.insert(4, write(0, "37892\n"));
    let failure = verdict(trace, |run| run.lines_from_their_processes(0, 1, OWNERS))
        .expect_err("wrong process");
    assert_eq!(
        failure.message,
        "the line \"child: 37892\" was printed by the parent, not by child 1"
    );
}

#[test]
fn a_sleep_call_is_named_and_without_a_trace_only_the_clock_is_checked() {
    let mut trace = parent_child();
    trace.events.insert(
        3,
        event(
            1,
            Call::Sleep {
                syscall: "clock_nanosleep".to_string(),
                duration: Some(Duration::from_millis(10)),
                result: Ok(0),
            },
        ),
    );
    let failure = verdict(trace, |run| {
        run.slept_nowhere(0, Duration::from_millis(900))
    })
    .expect_err("slept");
    assert!(
        failure
            .message
            .starts_with("child 1 called clock_nanosleep"),
        "{}",
        failure.message
    );
    assert_eq!(
        failure.shown_calls(),
        Some("[child 1] clock_nanosleep(0.010 s) = 0")
    );

    let scenario = scenario();
    let mut slow = observation(None, Duration::from_millis(1500));
    slow.untraced = Some("ptrace: EPERM".to_string());
    let failure = Run::new(&scenario, &slow)
        .slept_nowhere(0, Duration::from_millis(900))
        .expect_err("too slow");
    assert!(
        failure
            .message
            .contains("without a trace, ptrace: EPERM, only the clock was checked"),
        "{}",
        failure.message
    );
    let quick = observation(None, Duration::from_millis(3));
    assert_eq!(
        Run::new(&scenario, &quick).slept_nowhere(0, Duration::from_millis(900)),
        Ok(())
    );
}

#[test]
fn a_segment_never_removed_is_found_with_its_path() {
    let mut trace = parent_child();
    trace.events.remove(10); // the shmctl(IPC_RMID)
    let scenario = scenario();
    let observation = observation(Some(trace), Duration::ZERO);
    let (ids, shown) = Run::new(&scenario, &observation)
        .unremoved_segments(0)
        .expect("a leak");
    assert_eq!(ids, [0]);
    assert!(shown.starts_with("[the parent] shmget(0x6019"), "{shown}");
    assert_eq!(
        Run::new(
            &scenario,
            &self::observation(Some(parent_child()), Duration::ZERO)
        )
        .unremoved_segments(0),
        None
    );
}

#[test]
fn a_thread_started_first_does_not_shift_the_children() {
    let mut trace = parent_child();
    // The program starts a thread (process 2, lineage [0] for the tracer) before it forks:
    // the fork (process 1) is still "child 1".
    let mut thread = process(4, Some(0), &[0]);
    thread.thread = true;
    trace.processes[1].lineage = vec![1];
    trace.processes.push(thread);
    assert_eq!(describe_process(&trace, 1), "child 1");
    assert_eq!(describe_process(&trace, 2), "a thread of the parent");
    assert_eq!(process_with_lineage(&trace, &[0]), Some(1));
    assert_eq!(
        verdict(trace, |run| run.lines_from_their_processes(0, 1, OWNERS)),
        Ok(())
    );
}

/// The parent-child trace, with what the child's segment held when it printed its line.
fn child_printed_with(held: Option<i32>) -> Trace {
    let mut trace = parent_child();
    trace.events[3].shared = held
        .map(|value| crate::scenario::SharedBytes {
            addr: ADDR,
            bytes: value.to_ne_bytes().to_vec(),
        })
        .into_iter()
        .collect();
    trace
}

fn reported_once_written(run: &Run) -> Verdict {
    let int = |bytes: &[u8]| format!("{bytes:?}");
    run.reported_once_written(0, "child: ", (0, &37892i32.to_ne_bytes()), int, |_| {
        Err(Failure::new("untraced"))
    })
}

#[test]
fn a_line_is_judged_by_what_the_segment_held_when_it_was_printed() {
    assert_eq!(
        verdict(child_printed_with(Some(37892)), reported_once_written),
        Ok(())
    );
    let failure = verdict(child_printed_with(Some(0)), reported_once_written)
        .expect_err("printed before writing");
    assert!(
        failure.message.starts_with(
            "child 1 printed \"child: 37892\" while the segment still held [0, 0, 0, 0]"
        ),
        "{}",
        failure.message
    );
    let shown = failure.shown_calls().expect("the calls").to_string();
    assert!(
        shown.contains("[child 1] write(1, \"child: 37892\\n\", 13)"),
        "{shown}"
    );
    let failure = verdict(child_printed_with(None), reported_once_written)
        .expect_err("printed with nothing attached");
    assert!(
        failure
            .message
            .contains("before it had the segment attached"),
        "{}",
        failure.message
    );
    // Detached before printing: what the segment held at the shmdt counts.
    let mut trace = child_printed_with(None);
    trace.events.swap(3, 4); // shmdt, then the line
    trace.events[3].shared = child_printed_with(Some(37892)).events[3].shared.clone();
    assert_eq!(verdict(trace, reported_once_written), Ok(()));
    // Without a trace, the fallback judges.
    let scenario = scenario();
    let observation = observation(None, Duration::from_millis(3));
    assert_eq!(
        reported_once_written(&Run::new(&scenario, &observation))
            .expect_err("the fallback")
            .message,
        "untraced"
    );
}
