#![cfg(feature = "instructor")]
//! The system-call lens: what the tracer sees, what holds do to a race and to a synchronised
//! program, injected errors, pokes and burnt ids. Each program is a purpose-built fixture
//! (grader/fixtures/src/bin/trace-*.rs). Every run is in a private IPC namespace.

mod grading_common;
mod sandbox_common;

use std::time::Duration;

use grader::sandbox::Tier;
use grader::scenario::{
    Call, Event, Exit, Explore, Hold, Injection, Isolation, Lineage, Observation, Poke, PokeAt,
    Scenario, Schedules, Step, SyscallKind, Trace,
};
use grading_common::fixture;
use sandbox_common::{run_as_ordinary_user, run_once, run_with, segment, shell};

/// A scenario running the fixture once with these arguments.
fn program(fixture_path: &std::path::Path, args: &[&str]) -> Scenario {
    let mut scenario = shell(&[]);
    scenario.program = fixture_path.to_path_buf();
    scenario.steps = vec![Step {
        args: args.iter().map(|arg| arg.to_string()).collect(),
        input: grader::scenario::Input::Closed,
    }];
    scenario
}

fn trace(observation: &Observation) -> &Trace {
    observation.steps[0]
        .trace
        .as_ref()
        .unwrap_or_else(|| panic!("traced: {:?}", observation.untraced))
}

fn lineage_of<'a>(trace: &'a Trace, event: &Event) -> &'a Lineage {
    &trace.processes[event.process].lineage
}

fn writes_of(trace: &Trace, lineage: &[u32]) -> String {
    trace
        .events
        .iter()
        .filter(|event| lineage_of(trace, event) == lineage)
        .filter_map(|event| match &event.call {
            Call::Write { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn each_line_is_attributed_to_the_process_that_wrote_it() {
    let program_path = fixture("trace-two-children");
    let observation = run_once(&program(&program_path.path, &[]));
    assert_eq!(observation.untraced, None);
    let trace = trace(&observation);
    let lineages: Vec<&Lineage> = trace.processes.iter().map(|p| &p.lineage).collect();
    assert_eq!(lineages, [&vec![], &vec![0], &vec![1]]);
    assert_eq!(
        writes_of(trace, &[0]),
        "child 1: first line\nchild 1: second line\n"
    );
    assert_eq!(
        writes_of(trace, &[1]),
        "child 2: first line\nchild 2: second line\n"
    );
    assert_eq!(writes_of(trace, &[]), "parent: done\n");
    // The parent forked both and reaped both, by name.
    let forked: Vec<usize> = trace
        .events
        .iter()
        .filter_map(|event| match &event.call {
            Call::Fork {
                result: Ok(child), ..
            } if event.process == 0 => Some(*child),
            _ => None,
        })
        .collect();
    assert_eq!(forked, [1, 2]);
    let reaped: Vec<usize> = trace
        .events
        .iter()
        .filter_map(|event| match &event.call {
            Call::Wait {
                reaped: Some(child),
                ..
            } if event.process == 0 => Some(*child),
            _ => None,
        })
        .collect();
    assert_eq!(reaped, [1, 2]);
    let exits = trace
        .events
        .iter()
        .filter(|event| event.call == Call::Exit(Exit::Code(0)))
        .count();
    assert_eq!(exits, 3);
    // Reported as the tracer, the children were still waited for by their parent.
    assert!(observation.steps[0].not_waited_for.is_empty());
}

#[test]
fn a_sleep_is_seen_with_its_duration() {
    let program_path = fixture("trace-sleeps");
    let observation = run_once(&program(&program_path.path, &[]));
    let sleeps: Vec<&Call> = trace(&observation)
        .events
        .iter()
        .map(|event| &event.call)
        .filter(|call| matches!(call, Call::Sleep { .. }))
        .collect();
    assert_eq!(
        sleeps,
        [&Call::Sleep {
            syscall: "clock_nanosleep".into(),
            duration: Some(Duration::from_millis(30)),
            result: Ok(0),
        }]
    );
}

fn explore(scenario: &mut Scenario) {
    scenario.lens.schedules = Schedules::Explore(Explore::default());
}

/// The hold of `lineage`'s first write.
fn first_write_of(lineage: &[u32]) -> Hold {
    Hold {
        step: 0,
        process: lineage.to_vec(),
        call: SyscallKind::Write,
        nth: 1,
        held_for: None,
    }
}

fn held_run<'a>(observations: &'a [Observation], hold: &Hold) -> &'a Observation {
    observations
        .iter()
        .find(|observation| {
            observation.schedule.len() == 1
                && Hold {
                    held_for: None,
                    ..observation.schedule[0].clone()
                } == *hold
        })
        .unwrap_or_else(|| panic!("a run holding {hold:?}"))
}

#[test]
fn holding_child_1_at_its_write_lets_child_2_print_first_every_time() {
    let program_path = fixture("trace-two-children");
    let mut scenario = program(&program_path.path, &[]);
    explore(&mut scenario);
    for _ in 0..20 {
        let observations = run_with(&scenario, Tier::Best);
        assert!(observations.len() > 1, "schedules were explored");
        let held = held_run(&observations, &first_write_of(&[0]));
        assert!(held.schedule[0].held_for.is_some(), "the hold happened");
        assert!(
            held.steps[0]
                .stdout
                .text
                .starts_with("child 2: first line\nchild 2: second line\n"),
            "{}",
            held.steps[0].stdout.text
        );
        let event = trace(held)
            .events
            .iter()
            .find(|event| event.held.is_some())
            .expect("the held call is marked");
        assert_eq!(lineage_of(trace(held), event), &vec![0]);
    }
}

#[test]
fn holds_never_break_a_synchronised_program() {
    let program_path = fixture("trace-two-children");
    let mut scenario = program(&program_path.path, &["synced"]);
    explore(&mut scenario);
    let expected = "child 1: first line\nchild 1: second line\nchild 2: first line\n\
                    child 2: second line\nparent: done\n";
    for _ in 0..20 {
        let observations = run_with(&scenario, Tier::Best);
        // Child 1's writes and exit, child 2's, the parent's waits.
        assert!(observations.len() >= 7, "{} runs", observations.len());
        for observation in &observations {
            assert_eq!(observation.error, None);
            assert_eq!(
                observation.steps[0].stdout.text, expected,
                "under {:?}",
                observation.schedule
            );
            assert_eq!(observation.steps[0].exit, Exit::Code(0));
        }
        let held = held_run(&observations, &first_write_of(&[0]));
        assert!(held.schedule[0].held_for.is_some(), "the hold happened");
    }
}

#[test]
fn a_program_that_fails_runs_once() {
    let mut scenario = shell(&["echo started; exit 3"]);
    explore(&mut scenario);
    let observations = run_with(&scenario, Tier::Best);
    assert_eq!(observations.len(), 1);
}

#[test]
fn an_injected_shmat_error_reaches_the_program() {
    let program_path = fixture("trace-attach-private");
    let mut scenario = program(&program_path.path, &[]);
    scenario.lens.inject = vec![Injection::nth(SyscallKind::Shmat, libc::ENOMEM, 1)];
    let observation = run_once(&scenario);
    let step = &observation.steps[0];
    assert_eq!(step.exit, Exit::Code(1));
    assert!(step.stderr.text.contains("ENOMEM"), "{}", step.stderr.text);
    assert_eq!(observation.injected.len(), 1);
    let trace = trace(&observation);
    let failed = &trace.events[observation.injected[0].event];
    assert!(
        matches!(
            failed.call,
            Call::Shmat {
                result: Err(libc::ENOMEM),
                ..
            }
        ),
        "{failed:?}"
    );
    assert_eq!(failed.injected, Some(libc::ENOMEM));
    // The program removed its segment on that path too.
    assert!(trace.events.iter().any(|event| matches!(
        event.call,
        Call::Shmctl {
            cmd: libc::IPC_RMID,
            result: Ok(0),
            ..
        }
    )));
    assert!(observation.segments.is_empty());
}

/// What the child's segment held at its `child: ` write, as the tracer read it, and where the
/// child had it attached.
fn held_at_the_child_line(fixture_name: &str) -> (Vec<u8>, u64, u64) {
    let program_path = fixture(fixture_name);
    let observation = run_once(&program(&program_path.path, &[]));
    let trace = trace(&observation);
    let child_events = || {
        trace
            .events
            .iter()
            .filter(|event| lineage_of(trace, event) == &vec![0])
    };
    let attached_at = child_events()
        .find_map(|event| match event.call {
            Call::Shmat {
                result: Ok(addr), ..
            } => Some(addr),
            _ => None,
        })
        .expect("the child's shmat");
    let line = child_events()
        .find(
            |event| matches!(&event.call, Call::Write { text, .. } if text.starts_with("child: ")),
        )
        .expect("the child's line");
    let [shared] = &line.shared[..] else {
        panic!("one attachment read at the child's write: {line:?}");
    };
    (shared.bytes.clone(), shared.addr, attached_at)
}

#[test]
fn the_segment_is_read_at_the_stop_before_a_write_to_stdout() {
    // The child writes 37892, then prints.
    let (bytes, addr, attached_at) = held_at_the_child_line("parent-child-prints-number");
    assert_eq!(addr, attached_at);
    assert_eq!(bytes.len(), grader::scenario::SharedBytes::MAX_BYTES);
    assert_eq!(bytes[..4], 37892i32.to_ne_bytes());
    // The child prints, then writes.
    let (bytes, _, _) = held_at_the_child_line("parent-child-prints-before-writing");
    assert_eq!(bytes[..4], [0; 4]);
}

#[test]
fn an_injected_fork_error_reaches_the_program() {
    let program_path = fixture("trace-two-children");
    let mut scenario = program(&program_path.path, &[]);
    scenario.lens.inject = vec![Injection::every(SyscallKind::Fork, libc::EAGAIN)];
    let observation = run_once(&scenario);
    assert_eq!(observation.steps[0].exit, Exit::Code(1));
    assert!(observation.steps[0].stderr.text.contains("fork"));
    assert_eq!(trace(&observation).processes.len(), 1);
}

#[test]
fn a_poke_is_seen_by_a_parent_that_reads_after_waiting() {
    let program_path = fixture("trace-reads-after-wait");
    const KEY: i32 = 0x5eed;
    let mut scenario = program(&program_path.path, &[&KEY.to_string()]);
    scenario.setup = vec![segment(KEY, 4, 0o644, &[0; 4], false)];
    let number: u32 = 271_828 + std::process::id();
    scenario.lens.pokes = vec![Poke {
        segment: 0,
        offset: 0,
        bytes: number.to_ne_bytes().to_vec(),
        step: 0,
        process: vec![0],
        at: PokeAt::Exit,
        only_if: Vec::new(),
    }];
    let observation = run_once(&scenario);
    assert_eq!(observation.poked, [0]);
    assert_eq!(observation.steps[0].stdout.text, format!("{number}\n"));
    // The grader's attachment is gone before the table is read.
    assert_eq!(observation.segments[0].entry.nattch, 0);
}

#[test]
fn ids_are_burnt_before_the_program_runs() {
    let mut scenario = shell(&["ipcmk -M 10"]);
    scenario.lens.burn_ids = 3;
    let observation = run_once(&scenario);
    assert_eq!(observation.burnt_ids.len(), 3);
    let id = observation.segments[0].entry.shmid;
    assert_ne!(id, 0);
    assert!(!observation.burnt_ids.contains(&id));
    assert_eq!(observation.segments.len(), 1, "the burnt ones are gone");
}

#[test]
fn every_isolation_tier_is_traced() {
    let program_path = fixture("trace-sleeps");
    let scenario = program(&program_path.path, &[]);
    // The self-mapped tier is refused to the machine's root (it would run the program as
    // root): an ordinary user gets it (`nobody`, when the tests run as root).
    let observations = [
        (
            Isolation::Namespaces { self_mapped: false },
            run_with(&scenario, Tier::Namespaces),
        ),
        (
            Isolation::Namespaces { self_mapped: true },
            run_as_ordinary_user(&scenario),
        ),
        (Isolation::Host, run_with(&scenario, Tier::Host)),
    ];
    for (tier, observations) in observations {
        let observation = &observations[0];
        assert_eq!(observation.isolation, tier);
        assert_eq!(observation.error, None, "{tier:?}");
        assert_eq!(observation.untraced, None, "{tier:?}");
        assert_eq!(writes_of(trace(observation), &[]), "slept\n", "{tier:?}");
    }
}

#[test]
fn a_long_trace_is_capped_and_the_rest_counted() {
    let observation = run_once(&shell(&[
        "i=0; while [ $i -lt 5000 ]; do echo $i; i=$((i+1)); done",
    ]));
    let step = &observation.steps[0];
    assert_eq!(step.exit, Exit::Code(0));
    assert!(step.stdout.text.ends_with("4999\n"));
    let trace = trace(&observation);
    assert_eq!(trace.events.len(), Trace::MAX_EVENTS);
    // 5000 writes and an exec and an exit, in all.
    assert_eq!(trace.events.len() as u64 + trace.dropped, 5002);
}
