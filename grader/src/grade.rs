//! Grading: run each test's scenario in the sandbox, score its checks, sum up each exercise.
//!
//! The unit of work is one test: one scenario, run once; a race test also runs under the
//! lens's schedules (one process held at one of its calls while the others go first), and
//! `--repeat` − 1 more times pinned to one CPU. Each exercise's main scenario (its first test)
//! is queued first; its other tests follow only once it ran to its end (`grade/score.rs` has the
//! rules that make a score mean work: a stub or a hanging program runs once). [`Options::jobs`]
//! threads drain the queue, longest first. The race tests are pinned, each to one CPU of its
//! own when there are enough, because on one CPU a missing synchronisation shows up as a wrong
//! order far more often than on two.
//!
//! Everything here returns data ([`ExerciseResult`]); printing, and the shortened view of a
//! program's output a report shows ([`crate::report::output`]), are [`crate::report`]'s job. The
//! caller learns of progress through a callback, called on the calling thread.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

mod score;

use crate::checks::{Test, stopped_at_todo};
use crate::exercises::Exercise;
use crate::report::ExerciseResult;
use crate::sandbox::Tier;
use crate::scenario::{DEFAULT_TIMEOUT, Observation, Scenario};

/// How to grade.
#[derive(Clone, Debug)]
pub struct Options {
    /// Runs of each race test besides its schedules (`--repeat`); every run must pass.
    pub repeat: u32,
    /// Per run of the program, past which it is killed.
    pub timeout: Duration,
    /// Tests run at the same time.
    pub jobs: usize,
    /// The grader executable, which the sandbox re-runs as `grader __sandbox`.
    pub sandbox_exe: PathBuf,
    /// The sandbox's isolation: the best available, unless a test forces one.
    pub tier: Tier,
}

/// Default `--repeat`: one run as the kernel schedules it, then the lens's schedules. Measured
/// on the racy fixtures (20 gradings each, 2 CPUs): the schedules caught every one 20 times out
/// of 20; 20 runs pinned to one CPU without them caught a child passing the turn before printing
/// in 10 and 2 of 20, a missing turn reset in 12 of 20, and nothing the schedules missed. More
/// pinned runs stay available (`--repeat N`) for bugs no schedule reaches.
pub const DEFAULT_REPEAT: u32 = 1;

impl Options {
    /// Defaults, with the given grader executable for the sandbox.
    pub fn new(sandbox_exe: PathBuf) -> Options {
        let jobs = std::thread::available_parallelism().map_or(2, usize::from);
        Options {
            repeat: DEFAULT_REPEAT,
            timeout: DEFAULT_TIMEOUT,
            jobs,
            sandbox_exe,
            tier: Tier::Best,
        }
    }
}

/// The program to grade for an exercise, as the build left it.
#[derive(Clone, Debug)]
pub enum Program {
    Binary(PathBuf),
    /// Cargo's messages.
    DidNotCompile(String),
}

/// Progress, reported on the calling thread while grading.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The `index`-th exercise (of `total`) to start being graded; sent once per exercise.
    Started {
        index: usize,
        total: usize,
        name: &'a str,
    },
    /// All tests of an exercise are done.
    Finished {
        done: usize,
        total: usize,
        result: &'a ExerciseResult,
    },
}

/// Grades one exercise's program (a built binary): the library's entry point for tests.
pub fn grade_program(options: &Options, exercise: &Exercise, program: &Path) -> ExerciseResult {
    let work = [(exercise, Program::Binary(program.to_path_buf()))];
    grade_exercises(options, &work, |_| {}).remove(0)
}

/// One test waiting in the queue.
struct Job<'a> {
    exercise: usize,
    test: usize,
    test_ref: &'a Test,
    program: &'a Path,
    pin_cpu: Option<usize>,
}

/// What a worker sends back.
enum Event {
    /// A test of this exercise started.
    Started(usize),
    Done {
        exercise: usize,
        test: usize,
        outcome: Box<TestOutcome>,
    },
}

/// A test's observations, or why the sandbox could not make them.
pub(crate) struct TestOutcome {
    pub(crate) scenario: Scenario,
    pub(crate) observations: anyhow::Result<Vec<Observation>>,
    pub(crate) time: Duration,
}

/// Grades the exercises (in parallel) and returns their results in the order given.
///
/// Each exercise's main scenario (its first test) runs first; the other tests are queued only
/// once it ran to its end. A program that stops at its `todo!()` or hangs there is graded by
/// that one scenario (see `score::main_task`): a stub runs once, and a submission whose
/// programs all hang costs one timeout per exercise, not one per test and repeat.
pub fn grade_exercises(
    options: &Options,
    work: &[(&Exercise, Program)],
    mut on_progress: impl FnMut(Progress),
) -> Vec<ExerciseResult> {
    let total = work.len();
    let cpus = allowed_cpus();
    let mut race_count = 0;
    // The job of test `test` of exercise `exercise`, if its program was built.
    let mut job = |exercise: usize, test: usize| {
        let (exercise_ref, Program::Binary(program)) = &work[exercise] else {
            return None;
        };
        let test_ref = &exercise_ref.tests[test];
        let pin_cpu = test_ref.race.then(|| {
            race_count += 1;
            cpus[(race_count - 1) % cpus.len()]
        });
        Some(Job {
            exercise,
            test,
            test_ref,
            program: program.as_path(),
            pin_cpu,
        })
    };
    let mut main_jobs: Vec<Job> = (0..total)
        .filter(|&exercise| !work[exercise].0.tests.is_empty())
        .filter_map(|exercise| job(exercise, 0))
        .collect();
    // Longest first: a race test is `repeat` runs; the rest go by number of steps.
    main_jobs.sort_by_key(|job| std::cmp::Reverse(expected_runs(job.test_ref, options)));

    let mut outcomes: Vec<Vec<Option<TestOutcome>>> = work
        .iter()
        .map(|(exercise, _)| exercise.tests.iter().map(|_| None).collect())
        .collect();
    let mut results: Vec<Option<ExerciseResult>> = vec![None; total];
    let mut done = 0;
    let mut announced = vec![false; total];
    let mut started_count = 0;

    // Exercises with nothing to run are finished at once.
    for (index, (exercise, program)) in work.iter().enumerate() {
        if let Program::DidNotCompile(messages) = program {
            let result = score::did_not_compile(exercise, messages);
            done += 1;
            on_progress(Progress::Finished {
                done,
                total,
                result: &result,
            });
            results[index] = Some(result);
        }
    }
    let mut unfinished = main_jobs.len();

    let queue = JobQueue::new(main_jobs);
    if unfinished == 0 {
        queue.close();
    }
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<Event>();
        for _ in 0..options.jobs.max(1) {
            let sender = sender.clone();
            let queue = &queue;
            scope.spawn(move || {
                let mut sandboxes =
                    crate::sandbox::Sandboxes::new(&options.sandbox_exe, options.tier);
                while let Some(job) = queue.next() {
                    // The receiver lives until every worker is done: sends cannot fail.
                    let _ = sender.send(Event::Started(job.exercise));
                    let outcome = run_test(
                        options,
                        job.test_ref,
                        job.program,
                        job.pin_cpu,
                        &mut sandboxes,
                        queue,
                    );
                    if job.test == 0 {
                        queue.main_ran();
                    }
                    let _ = sender.send(Event::Done {
                        exercise: job.exercise,
                        test: job.test,
                        outcome: Box::new(outcome),
                    });
                }
            });
        }
        drop(sender);
        for event in receiver {
            match event {
                Event::Started(exercise) => {
                    // Announced once, when its first test starts.
                    if !std::mem::replace(&mut announced[exercise], true) {
                        started_count += 1;
                        on_progress(Progress::Started {
                            index: started_count,
                            total,
                            name: work[exercise].0.name(),
                        });
                    }
                }
                Event::Done {
                    exercise,
                    test,
                    outcome,
                } => {
                    let exercise_ref = work[exercise].0;
                    if test == 0 {
                        let mut others: Vec<Job> = if score::main_task(&outcome).runs_the_others() {
                            (1..exercise_ref.tests.len())
                                .filter_map(|test| job(exercise, test))
                                .collect()
                        } else {
                            Vec::new()
                        };
                        others.sort_by_key(|job| {
                            std::cmp::Reverse(expected_runs(job.test_ref, options))
                        });
                        // Ahead of other exercises' main scenarios: an exercise begun is
                        // finished (and reported) first.
                        queue.after_main(others);
                    }
                    outcomes[exercise][test] = Some(*outcome);
                    let main_stopped = outcomes[exercise][0]
                        .as_ref()
                        .is_some_and(|main| !score::main_task(main).runs_the_others());
                    if main_stopped || outcomes[exercise].iter().all(Option::is_some) {
                        let finished = std::mem::take(&mut outcomes[exercise]);
                        let result = score::score_exercise(exercise_ref, &finished);
                        done += 1;
                        on_progress(Progress::Finished {
                            done,
                            total,
                            result: &result,
                        });
                        results[exercise] = Some(result);
                        unfinished -= 1;
                        if unfinished == 0 {
                            // No more jobs: the workers end once the queue is empty.
                            queue.close();
                        }
                    }
                }
            }
        }
        queue.close();
    });
    results
        .into_iter()
        .zip(work)
        .map(|(result, (exercise, _))| {
            result.unwrap_or_else(|| score::score_exercise(exercise, &[]))
        })
        .collect()
}

/// The tests waiting to run. Workers wait for one until the queue is closed; an exercise's
/// follow-up tests go to the front.
///
/// A worker that ran a main scenario says so ([`JobQueue::main_ran`]) before it reports the
/// outcome, and no worker takes a job until the outcome is handled ([`JobQueue::after_main`]):
/// otherwise a worker (the only one, with `--jobs 1`) would take the next exercise's main
/// scenario before the follow-ups of the exercise begun could go ahead of it.
struct JobQueue<'a> {
    state: Mutex<QueueState<'a>>,
    ready: Condvar,
}

struct QueueState<'a> {
    jobs: VecDeque<Job<'a>>,
    closed: bool,
    /// Main scenarios run whose outcome is not handled yet.
    mains_pending: usize,
}

impl<'a> JobQueue<'a> {
    fn new(jobs: Vec<Job<'a>>) -> JobQueue<'a> {
        JobQueue {
            state: Mutex::new(QueueState {
                jobs: jobs.into(),
                closed: false,
                mains_pending: 0,
            }),
            ready: Condvar::new(),
        }
    }

    /// A main scenario ran; its outcome is on its way to [`JobQueue::after_main`].
    fn main_ran(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.mains_pending += 1;
        }
    }

    /// A main scenario's outcome is handled: its follow-up tests (`jobs`, perhaps none) go to
    /// the front, in their order.
    fn after_main(&self, jobs: Vec<Job<'a>>) {
        if let Ok(mut state) = self.state.lock() {
            for job in jobs.into_iter().rev() {
                state.jobs.push_front(job);
            }
            state.mains_pending = state.mains_pending.saturating_sub(1);
        }
        self.ready.notify_all();
    }

    /// No job will be added: workers end once the queue is empty.
    fn close(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.closed = true;
        }
        self.ready.notify_all();
    }

    /// Whether a job is waiting (worth starting a sandbox ahead for it).
    fn has_waiting(&self) -> bool {
        self.state.lock().is_ok_and(|state| !state.jobs.is_empty())
    }

    /// The next job, waiting for one; `None` once the queue is closed and empty.
    fn next(&self) -> Option<Job<'a>> {
        let mut state = self.state.lock().ok()?;
        loop {
            if state.mains_pending == 0 {
                if let Some(job) = state.jobs.pop_front() {
                    return Some(job);
                }
                if state.closed {
                    return None;
                }
            }
            state = self.ready.wait(state).ok()?;
        }
    }
}

fn expected_runs(test: &Test, options: &Options) -> usize {
    let repeats = if test.race {
        options.repeat.max(1) as usize
    } else {
        1
    };
    repeats * test.steps.len()
}

/// The CPUs this process may run on (for pinning), at least one.
fn allowed_cpus() -> Vec<usize> {
    let cpus: Vec<usize> = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map(|set| {
            (0..nix::sched::CpuSet::count())
                .filter(|cpu| set.is_set(*cpu).unwrap_or(false))
                .collect()
        })
        .unwrap_or_default();
    if cpus.is_empty() { vec![0] } else { cpus }
}

/// The scenario that runs `test` on `program`.
pub fn scenario(
    test: &Test,
    program: &Path,
    options: &Options,
    pin_cpu: Option<usize>,
) -> Scenario {
    Scenario {
        name: test.name.to_string(),
        program: program.to_path_buf(),
        setup: test.setup.clone(),
        steps: test.steps.clone(),
        timeout: options.timeout,
        pin_cpu,
        repeat: if test.race { options.repeat.max(1) } else { 1 },
        keys: test.keys.clone(),
        lens: test.lens.clone(),
    }
}

fn run_test(
    options: &Options,
    test: &Test,
    program: &Path,
    pin_cpu: Option<usize>,
    sandboxes: &mut crate::sandbox::Sandboxes,
    queue: &JobQueue,
) -> TestOutcome {
    let scenario = scenario(test, program, options, pin_cpu);
    let started = Instant::now();
    // The next sandbox starts during this scenario's runs when another test waits for one.
    let mut run = |scenario: &Scenario| sandboxes.run(scenario, queue.has_waiting());
    let observations = if scenario.repeat > 1 {
        // The first run alone (with the lens's schedules, which the sandbox explores only when
        // it ended well): a program that hangs or stops at its todo!() there is not run again,
        // so that it costs one timeout, not `repeat` of them.
        let first = Scenario {
            repeat: 1,
            ..scenario.clone()
        };
        run(&first).and_then(|mut observations| {
            let ended = observations
                .iter()
                .flat_map(|observation| &observation.steps)
                .all(|step| {
                    step.exit != crate::scenario::Exit::TimedOut && stopped_at_todo(step).is_none()
                });
            if ended {
                // The schedules were explored after the first run: the rest are plain runs.
                let mut rest = Scenario {
                    repeat: scenario.repeat - 1,
                    ..scenario.clone()
                };
                rest.lens.schedules = crate::scenario::Schedules::Once;
                observations.extend(run(&rest)?);
            }
            Ok(observations)
        })
    } else {
        run(&scenario)
    };
    TestOutcome {
        scenario,
        observations,
        time: started.elapsed(),
    }
}
