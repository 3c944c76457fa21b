//! Which schedules to try, from the baseline run's trace ([`Schedules::Explore`]).
//!
//! A hold is worth a run only where it can change something: at a call of a process while
//! another process of the step is alive (created before the call returned, ended after the
//! process's previous event, when the call may have been entered). Holding the
//! only process, or a parent after its children ended, reorders nothing. Depth 1 holds each
//! such call once; depth 2 adds pairs of holds in two different processes, the first hold's
//! call before the second's. The list is cut at [`Explore::max_runs`], depth 1 first.

use crate::scenario::{Call, Exit, Explore, Hold, Observation, Scenario, Schedules, Trace};

/// The holds of each run to make after `baseline`; empty when there is nothing to explore or
/// the baseline is not worth it (a step that did not exit 0: a stub stopped at its `todo!()`,
/// a crash, a hang).
pub fn schedules(scenario: &Scenario, baseline: &Observation) -> Vec<Vec<Hold>> {
    let Schedules::Explore(explore) = &scenario.lens.schedules else {
        return Vec::new();
    };
    let worth_it = baseline.error.is_none()
        && baseline.untraced.is_none()
        && baseline.steps.len() == scenario.steps.len()
        && baseline.steps.iter().all(|step| step.exit == Exit::Code(0));
    if !worth_it {
        return Vec::new();
    }
    let mut singles = Vec::new();
    for (step, outcome) in baseline.steps.iter().enumerate() {
        if let Some(trace) = &outcome.trace {
            singles.extend(holds_in(trace, step, explore));
        }
    }
    let max = explore.max_runs as usize;
    let mut runs: Vec<Vec<Hold>> = singles
        .iter()
        .map(|(_, hold)| vec![hold.clone()])
        .take(max)
        .collect();
    if explore.depth >= 2 {
        'pairs: for (i, (first_at, first)) in singles.iter().enumerate() {
            for (second_at, second) in &singles[i + 1..] {
                if runs.len() >= max {
                    break 'pairs;
                }
                if first.step == second.step
                    && first.process != second.process
                    && first_at < second_at
                {
                    runs.push(vec![first.clone(), second.clone()]);
                }
            }
        }
    }
    runs
}

/// The holds worth trying in one step's trace, each with the index of its event.
fn holds_in(trace: &Trace, step: usize, explore: &Explore) -> Vec<(usize, Hold)> {
    // When each process was alive, as event indices: from the fork that made it (the program:
    // from the start) to its exit (or the end).
    let mut born = vec![0; trace.processes.len()];
    let mut died = vec![usize::MAX; trace.processes.len()];
    for (at, event) in trace.events.iter().enumerate() {
        match &event.call {
            Call::Fork {
                result: Ok(child), ..
            } if *child < born.len() => born[*child] = at,
            Call::Exit(_) if event.process < died.len() => died[event.process] = at,
            _ => {}
        }
    }
    let mut counts = vec![std::collections::HashMap::new(); trace.processes.len()];
    // Each process's previous event: a call is recorded when it returns, but it was entered
    // (and is held) after that one, so a blocking call (a wait) spans the events between.
    let mut previous = vec![None; trace.processes.len()];
    let mut holds = Vec::new();
    for (at, event) in trace.events.iter().enumerate() {
        let Some(count) = counts.get_mut(event.process) else {
            continue;
        };
        let entered = previous[event.process].map_or(0, |before: usize| before + 1);
        previous[event.process] = Some(at);
        let kind = event.call.kind();
        let nth: &mut u32 = count.entry(kind).or_default();
        *nth += 1;
        if !explore.at.contains(&kind) {
            continue;
        }
        // A hold at exit is made at `exit_group`, which a process killed by a signal skips.
        if matches!(event.call, Call::Exit(Exit::Signal(..))) {
            continue;
        }
        let someone_else_alive = (0..trace.processes.len())
            .any(|other| other != event.process && born[other] <= at && died[other] >= entered);
        if !someone_else_alive {
            continue;
        }
        holds.push((
            at,
            Hold {
                step,
                process: trace.processes[event.process].lineage.clone(),
                call: kind,
                nth: *nth,
                held_for: None,
            },
        ));
    }
    holds
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::scenario::{Event, Lens, StepOutcome, SyscallKind, TracedProcess};

    fn event(process: usize, call: Call) -> Event {
        Event {
            process,
            at: Duration::ZERO,
            call,
            injected: None,
            held: None,
        }
    }

    fn write(process: usize) -> Event {
        event(
            process,
            Call::Write {
                fd: 1,
                text: "line\n".into(),
                result: Ok(5),
            },
        )
    }

    fn process(lineage: Vec<u32>) -> TracedProcess {
        TracedProcess {
            pid: 0,
            parent: None,
            lineage,
            exe: String::new(),
            thread: false,
        }
    }

    /// The program writes, forks one child, both write, the child exits, the program reaps
    /// it, writes again and exits.
    fn baseline(exit: Exit) -> (Scenario, Observation) {
        let trace = Trace {
            processes: vec![process(vec![]), process(vec![0])],
            events: vec![
                write(0),
                event(
                    0,
                    Call::Fork {
                        syscall: "fork".into(),
                        result: Ok(1),
                    },
                ),
                write(1),
                write(0),
                event(1, Call::Exit(Exit::Code(0))),
                event(
                    0,
                    Call::Wait {
                        syscall: "wait4".into(),
                        pid: -1,
                        result: Ok(3),
                        reaped: Some(1),
                    },
                ),
                write(0),
                event(0, Call::Exit(Exit::Code(0))),
            ],
            dropped: 0,
        };
        let step = StepOutcome {
            pid: 2,
            exit,
            stdout: Default::default(),
            stderr: Default::default(),
            duration: Duration::ZERO,
            left_running: Vec::new(),
            not_waited_for: Vec::new(),
            trace: Some(trace),
        };
        let scenario = Scenario {
            name: "test".into(),
            program: "/bin/true".into(),
            setup: Vec::new(),
            steps: vec![crate::scenario::Step {
                args: Vec::new(),
                input: crate::scenario::Input::Closed,
            }],
            timeout: Duration::from_secs(1),
            pin_cpu: None,
            repeat: 1,
            keys: Vec::new(),
            lens: Lens {
                schedules: Schedules::Explore(Explore {
                    depth: 2,
                    ..Explore::default()
                }),
                ..Lens::default()
            },
        };
        let observation = Observation {
            steps: vec![step],
            ..Observation::empty(crate::scenario::Isolation::Host)
        };
        (scenario, observation)
    }

    fn named(hold: &Hold) -> (Vec<u32>, SyscallKind, u32) {
        (hold.process.clone(), hold.call, hold.nth)
    }

    #[test]
    fn holds_only_where_another_process_is_alive() {
        let (scenario, observation) = baseline(Exit::Code(0));
        let runs = schedules(&scenario, &observation);
        let singles: Vec<_> = runs
            .iter()
            .filter(|run| run.len() == 1)
            .map(|run| named(&run[0]))
            .collect();
        // Not the program's first write (no child yet), nor its last write and exit (the
        // child is gone); its wait, entered while the child may still have run, is.
        let child_write = (vec![0], SyscallKind::Write, 1);
        let second_write = (vec![], SyscallKind::Write, 2);
        let child_exit = (vec![0], SyscallKind::Exit, 1);
        let wait = (vec![], SyscallKind::Wait, 1);
        assert_eq!(
            singles,
            [
                child_write.clone(),
                second_write.clone(),
                child_exit.clone(),
                wait.clone()
            ]
        );
        // Depth 2: pairs in two processes, in trace order.
        let pairs: Vec<_> = runs
            .iter()
            .filter(|run| run.len() == 2)
            .map(|run| (named(&run[0]), named(&run[1])))
            .collect();
        assert_eq!(
            pairs,
            [
                (child_write.clone(), second_write.clone()),
                (child_write, wait.clone()),
                (second_write, child_exit.clone()),
                (child_exit, wait),
            ]
        );
    }

    #[test]
    fn a_failed_baseline_is_not_explored() {
        let (scenario, observation) = baseline(Exit::Code(101));
        assert!(schedules(&scenario, &observation).is_empty());
    }
}
