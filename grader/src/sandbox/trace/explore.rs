//! Which schedules to try, from the baseline run's trace ([`Schedules::Explore`]).
//!
//! A hold is worth a run only where another process may run meanwhile. Whether one does is
//! decided from each process's own calls, in its program order, never from how the baseline's
//! processes happened to interleave (which differs from run to run of a racy program, and
//! would make the list of schedules, and so the verdict, differ between gradings):
//! - a child's calls are all hold points (its parent is there until it reaps it);
//! - a process's calls before its first fork are not (it is alone), nor those after the wait
//!   that reaped the last of its children (alone again); those between are.
//!
//! Depth 1 holds each such call once; depth 2 adds pairs of holds in two different processes,
//! the first's call before the second's in the baseline. The list is sorted (so a regrading
//! makes the same runs in the same order) and cut at [`Explore::max_runs`], depth 1 first.

use crate::scenario::{
    Call, Exit, Explore, Hold, Observation, Scenario, Schedules, StepOutcome, Trace,
};

/// The runs of a scenario, in order: its [`Scenario::repeat`] runs without holds, then, once the
/// first (the baseline) is observed, one per schedule. A sandbox loop asks for the next run's
/// holds and reports each observation.
pub struct Runs<'a> {
    scenario: &'a Scenario,
    plans: Vec<Vec<Hold>>,
    observed: usize,
}

impl<'a> Runs<'a> {
    pub fn new(scenario: &'a Scenario) -> Runs<'a> {
        Runs {
            scenario,
            plans: vec![Vec::new(); scenario.repeat.max(1) as usize],
            observed: 0,
        }
    }

    /// The holds of the next run; `None` when every run is made.
    pub fn next_holds(&self) -> Option<Vec<Hold>> {
        self.plans.get(self.observed).cloned()
    }

    /// Takes note that a run was made; after the baseline, its schedules join. `baseline` gives
    /// the observation, and is called only when it is needed (the first run of a scenario that
    /// explores): a caller holding the observation as JSON decodes it only then.
    pub fn observed(
        &mut self,
        baseline: impl FnOnce() -> anyhow::Result<Observation>,
    ) -> anyhow::Result<()> {
        if self.observed == 0 && matches!(self.scenario.lens.schedules, Schedules::Explore(_)) {
            self.plans.extend(schedules(self.scenario, &baseline()?));
        }
        self.observed += 1;
        Ok(())
    }
}

/// The holds of each run to make after `baseline`; empty when there is nothing to explore or
/// the baseline is not worth it (a step stopped at a stub's `todo!()`, or a hang).
pub fn schedules(scenario: &Scenario, baseline: &Observation) -> Vec<Vec<Hold>> {
    let Schedules::Explore(explore) = &scenario.lens.schedules else {
        return Vec::new();
    };
    let worth_it = baseline.error.is_none()
        && baseline.untraced.is_none()
        && baseline.steps.len() == scenario.steps.len()
        && baseline.steps.iter().all(ran_its_course);
    if !worth_it {
        return Vec::new();
    }
    let mut singles = Vec::new();
    for (step, outcome) in baseline.steps.iter().enumerate() {
        if let Some(trace) = &outcome.trace {
            singles.extend(holds_in(trace, step, explore));
        }
    }
    singles.sort_by(|(_, a), (_, b)| {
        (a.step, &a.process, a.call as u8, a.nth).cmp(&(b.step, &b.process, b.call as u8, b.nth))
    });
    let max = explore.max_runs as usize;
    let mut runs: Vec<Vec<Hold>> = singles
        .iter()
        .map(|(_, hold)| vec![hold.clone()])
        .take(max)
        .collect();
    if explore.depth >= 2 {
        'pairs: for (first_at, first) in &singles {
            for (second_at, second) in &singles {
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

/// A step that ended by itself, and not at a stub's `todo!()`. Its exit status is not asked
/// for: a racy program that also exits 1 (its last call failed, say) must meet the schedules
/// all the same, or that second bug would hide the first (it did: ping-pong passing the turn
/// before printing, exiting 1, was never held, and got the order check's 4 points).
fn ran_its_course(step: &StepOutcome) -> bool {
    let stub = step.exit == Exit::Code(101)
        && [&step.stderr.text, &step.stdout.text]
            .iter()
            .any(|text| text.contains("not yet implemented"));
    step.exit != Exit::TimedOut && !stub
}

/// The holds worth trying in one step's trace, each with the index of its event.
fn holds_in(trace: &Trace, step: usize, explore: &Explore) -> Vec<(usize, Hold)> {
    let processes = trace.processes.len();
    // Per process, in its own order: where it first forked, where it had reaped every child.
    let mut own_index = vec![0usize; processes];
    let mut first_fork = vec![None; processes];
    let mut alone_again = vec![None; processes];
    let mut children_left = vec![0usize; processes];
    for event in &trace.events {
        let Some(index) = own_index.get_mut(event.process) else {
            continue;
        };
        match &event.call {
            Call::Fork { result: Ok(_), .. } => {
                first_fork[event.process].get_or_insert(*index);
                children_left[event.process] += 1;
                alone_again[event.process] = None;
            }
            Call::Wait {
                reaped: Some(_), ..
            } => {
                let left = &mut children_left[event.process];
                *left = left.saturating_sub(1);
                if *left == 0 {
                    alone_again[event.process] = Some(*index);
                }
            }
            _ => {}
        }
        *index += 1;
    }
    let mut own_index = vec![0usize; processes];
    let mut counts = vec![std::collections::HashMap::new(); processes];
    let mut holds = Vec::new();
    for (at, event) in trace.events.iter().enumerate() {
        let (Some(index), Some(count)) = (
            own_index.get_mut(event.process),
            counts.get_mut(event.process),
        ) else {
            continue;
        };
        let this = *index;
        *index += 1;
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
        let is_child = trace.processes[event.process].parent.is_some();
        let with_children = first_fork[event.process].is_some_and(|fork| fork < this)
            && alone_again[event.process].is_none_or(|alone| this <= alone);
        if !is_child && !with_children {
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
            shared: Vec::new(),
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
            parent: (!lineage.is_empty()).then_some(0),
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
        // Not the program's first write (no child yet), nor its last write and exit (it has
        // reaped its child); its wait, entered while the child may still have run, is.
        let child_write = (vec![0], SyscallKind::Write, 1);
        let second_write = (vec![], SyscallKind::Write, 2);
        let child_exit = (vec![0], SyscallKind::Exit, 1);
        let wait = (vec![], SyscallKind::Wait, 1);
        assert_eq!(
            singles,
            [
                second_write.clone(),
                wait.clone(),
                child_write.clone(),
                child_exit.clone(),
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
                (second_write.clone(), child_exit.clone()),
                (child_write.clone(), second_write),
                (child_write, wait.clone()),
                (child_exit, wait),
            ]
        );
    }

    #[test]
    fn the_schedules_do_not_depend_on_how_the_baseline_interleaved() {
        let (scenario, observation) = baseline(Exit::Code(0));
        let mut other = observation.clone();
        // The child ran later: its write and exit after the parent's second write.
        let events = &mut other.steps[0].trace.as_mut().expect("a trace").events;
        let child_write = events.remove(2);
        events.insert(3, child_write);
        assert_eq!(
            schedules(&scenario, &observation)
                .into_iter()
                .filter(|run| run.len() == 1)
                .collect::<Vec<_>>(),
            schedules(&scenario, &other)
                .into_iter()
                .filter(|run| run.len() == 1)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_stub_or_a_hang_is_not_explored() {
        let (scenario, mut observation) = baseline(Exit::Code(101));
        observation.steps[0].stderr.text = "not yet implemented: create the segment".into();
        assert!(schedules(&scenario, &observation).is_empty());
        let (scenario, observation) = baseline(Exit::TimedOut);
        assert!(schedules(&scenario, &observation).is_empty());
    }

    #[test]
    fn a_baseline_that_exits_1_or_panics_is_explored() {
        for exit in [Exit::Code(1), Exit::Code(101)] {
            let (scenario, observation) = baseline(exit);
            assert!(!schedules(&scenario, &observation).is_empty());
        }
    }
}
