//! Grading: run each test's scenario in the sandbox, score its checks, sum up each exercise.
//!
//! The unit of work is one test (one scenario, run once, or `--repeat` times for race tests).
//! Tests of all exercises go into one queue that [`Options::jobs`] threads drain, longest first,
//! so the two slow race tests run side by side on the two CPUs while the quick tests fill in.
//! The race tests are pinned, each to one CPU of its own when there are enough, because on one
//! CPU a missing synchronisation shows up as a wrong order far more often than on two.
//!
//! Everything here returns data ([`ExerciseResult`]); printing is [`crate::report`]'s job. The
//! caller learns of progress through a callback, called on the calling thread.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::checks::{Failure, Run, Test, clip, stopped_at_todo};
use crate::exercises::Exercise;
use crate::report::{CheckResult, CheckStatus, ExerciseResult, ExerciseStatus};
use crate::sandbox::Tier;
use crate::scenario::{DEFAULT_TIMEOUT, Input, Isolation, Observation, Scenario, StepOutcome};

/// How to grade.
#[derive(Clone, Debug)]
pub struct Options {
    /// Runs of each race test (`--repeat`); every run must pass.
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

/// Default `--repeat`.
pub const DEFAULT_REPEAT: u32 = 20;

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
struct TestOutcome {
    scenario: Scenario,
    observations: anyhow::Result<Vec<Observation>>,
    time: Duration,
}

/// Grades the exercises (in parallel) and returns their results in the order given.
pub fn grade_exercises(
    options: &Options,
    work: &[(&Exercise, Program)],
    mut on_progress: impl FnMut(Progress),
) -> Vec<ExerciseResult> {
    let total = work.len();
    let cpus = allowed_cpus();
    let mut jobs = Vec::new();
    let mut race_count = 0;
    for (exercise_index, (exercise, program)) in work.iter().enumerate() {
        let Program::Binary(binary) = program else {
            continue;
        };
        for (test_index, test) in exercise.tests.iter().enumerate() {
            let pin_cpu = test.race.then(|| {
                race_count += 1;
                cpus[(race_count - 1) % cpus.len()]
            });
            jobs.push(Job {
                exercise: exercise_index,
                test: test_index,
                test_ref: test,
                program: binary,
                pin_cpu,
            });
        }
    }
    // Longest first: a race test is `repeat` runs; the rest go by number of steps.
    jobs.sort_by_key(|job| std::cmp::Reverse(expected_runs(job.test_ref, options)));
    let queue = Mutex::new(VecDeque::from(jobs));

    let mut outcomes: Vec<Vec<Option<TestOutcome>>> = work
        .iter()
        .map(|(exercise, _)| exercise.tests.iter().map(|_| None).collect())
        .collect();
    let mut results: Vec<Option<ExerciseResult>> = vec![None; total];
    let mut done = 0;
    let mut announced = vec![false; total];
    let mut started_count = done;

    // Exercises with nothing to run are finished at once.
    for (index, (exercise, program)) in work.iter().enumerate() {
        if let Program::DidNotCompile(messages) = program {
            let result = did_not_compile(exercise, messages);
            done += 1;
            on_progress(Progress::Finished {
                done,
                total,
                result: &result,
            });
            results[index] = Some(result);
        }
    }

    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<Event>();
        for _ in 0..options.jobs.max(1) {
            let sender = sender.clone();
            let queue = &queue;
            scope.spawn(move || {
                while let Some(job) = next_job(queue) {
                    // The receiver lives until every worker is done: sends cannot fail.
                    let _ = sender.send(Event::Started(job.exercise));
                    let outcome = run_test(options, job.test_ref, job.program, job.pin_cpu);
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
                    outcomes[exercise][test] = Some(*outcome);
                    if outcomes[exercise].iter().all(Option::is_some) {
                        let finished: Vec<TestOutcome> = std::mem::take(&mut outcomes[exercise])
                            .into_iter()
                            .flatten()
                            .collect();
                        let result = score_exercise(work[exercise].0, &finished);
                        done += 1;
                        on_progress(Progress::Finished {
                            done,
                            total,
                            result: &result,
                        });
                        results[exercise] = Some(result);
                    }
                }
            }
        }
    });
    results
        .into_iter()
        .zip(work)
        .map(|(result, (exercise, _))| result.unwrap_or_else(|| score_exercise(exercise, &[])))
        .collect()
}

/// Takes the next job; the lock is held only for the pop.
fn next_job<'a>(queue: &Mutex<VecDeque<Job<'a>>>) -> Option<Job<'a>> {
    queue
        .lock()
        .map(|mut queue| queue.pop_front())
        .unwrap_or(None)
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

fn run_test(options: &Options, test: &Test, program: &Path, pin_cpu: Option<usize>) -> TestOutcome {
    let scenario = scenario(test, program, options, pin_cpu);
    let started = Instant::now();
    let observations = crate::sandbox::run_with(&scenario, &options.sandbox_exe, options.tier);
    TestOutcome {
        scenario,
        observations,
        time: started.elapsed(),
    }
}

fn did_not_compile(exercise: &Exercise, messages: &str) -> ExerciseResult {
    let checks = exercise
        .tests
        .iter()
        .flat_map(|test| {
            test.checks.iter().map(|check| CheckResult {
                test: test.name.to_string(),
                name: check.name.to_string(),
                points: 0.0,
                max: scaled(exercise, check.points),
                status: CheckStatus::DidNotCompile,
                message: "the program did not compile".to_string(),
                expected: None,
                actual: None,
                output: None,
                advice: None,
                runs: 0,
                time: Duration::ZERO,
            })
        })
        .collect();
    ExerciseResult {
        name: exercise.name().to_string(),
        dir: exercise.info.dir.clone(),
        status: ExerciseStatus::DidNotCompile,
        points: 0.0,
        max: f64::from(exercise.info.points),
        message: "did not compile: fix the first error below, then grade again".to_string(),
        compiler_output: Some(messages.to_string()),
        checks,
        isolation: None,
        time: Duration::ZERO,
    }
}

/// A check's points, scaled so that an exercise's checks sum to its points in `info.toml`.
fn scaled(exercise: &Exercise, weight: u32) -> f64 {
    let total = exercise.weight();
    if total == 0 {
        0.0
    } else {
        f64::from(exercise.info.points) * f64::from(weight) / f64::from(total)
    }
}

/// Scores every check of `exercise` from its tests' outcomes (in test order).
fn score_exercise(exercise: &Exercise, outcomes: &[TestOutcome]) -> ExerciseResult {
    let mut checks = Vec::new();
    let mut time = Duration::ZERO;
    let mut todo = None;
    let mut isolation = None;
    let mut untraced = None;
    for (test, outcome) in exercise.tests.iter().zip(outcomes) {
        time += outcome.time;
        if let Ok(observations) = &outcome.observations {
            isolation = isolation.or(observations
                .first()
                .map(|observation| observation.isolation));
            untraced = untraced.or_else(|| {
                observations
                    .iter()
                    .find_map(|observation| observation.untraced.clone())
            });
        }
        if todo.is_none() {
            todo = outcome.observations.as_ref().ok().and_then(|observations| {
                observations
                    .iter()
                    .flat_map(|observation| &observation.steps)
                    .find_map(stopped_at_todo)
            });
        }
        for check in &test.checks {
            checks.push(score_check(exercise, test, check, outcome));
        }
    }
    if outcomes.len() < exercise.tests.len() {
        for test in &exercise.tests[outcomes.len()..] {
            for check in &test.checks {
                checks.push(error_check(
                    exercise,
                    test,
                    check,
                    "the test did not run".to_string(),
                    Duration::ZERO,
                ));
            }
        }
    }
    // The first test is the exercise's main task. While it stops at the stub's todo!(), the
    // checks that pass thanks to the code the stub gives (a usage error, say) earn nothing:
    // the exercise is not started.
    let main_task_todo = outcomes.first().and_then(|outcome| {
        let observations = outcome.observations.as_ref().ok()?;
        observations
            .iter()
            .flat_map(|observation| &observation.steps)
            .find_map(stopped_at_todo)
    });
    if let Some(todo) = &main_task_todo {
        for check in checks
            .iter_mut()
            .filter(|check| check.status == CheckStatus::Passed)
        {
            check.points = 0.0;
            check.status = CheckStatus::NotStarted;
            check.message = format!("not started: the main task stops at todo!(\"{todo}\")");
        }
    }
    let points: f64 = checks.iter().map(|check| check.points).sum();
    let failed = checks
        .iter()
        .filter(|check| check.status != CheckStatus::Passed)
        .count();
    let (status, message) = if checks
        .iter()
        .any(|check| check.status == CheckStatus::Error)
    {
        (
            ExerciseStatus::Error,
            "the grader could not run some of its tests (see below)".to_string(),
        )
    } else if failed == 0 {
        (
            ExerciseStatus::Passed,
            format!("all {} checks passed", checks.len()),
        )
    } else if points == 0.0 && todo.is_some() {
        let todo = todo.unwrap_or_default();
        (
            ExerciseStatus::NotStarted,
            format!("not started: the program stops at todo!(\"{todo}\")"),
        )
    } else {
        (
            ExerciseStatus::Failed,
            format!("{failed} of {} checks failed", checks.len()),
        )
    };
    ExerciseResult {
        name: exercise.name().to_string(),
        dir: exercise.info.dir.clone(),
        status,
        points: (points * 1000.0).round() / 1000.0,
        max: f64::from(exercise.info.points),
        message,
        compiler_output: None,
        checks,
        isolation: isolation.map(|isolation| {
            let mut line = describe_isolation(Some(isolation));
            if let Some(why) = &untraced {
                // The checks fell back to what they can see without a trace.
                line.push_str(&format!("; no system-call trace ({why})"));
            }
            line
        }),
        time,
    }
}

fn error_check(
    exercise: &Exercise,
    test: &Test,
    check: &crate::checks::Check,
    message: String,
    time: Duration,
) -> CheckResult {
    CheckResult {
        test: test.name.to_string(),
        name: check.name.to_string(),
        points: 0.0,
        max: scaled(exercise, check.points),
        status: CheckStatus::Error,
        message,
        expected: None,
        actual: None,
        output: None,
        advice: Some(
            "this is the grader's problem, not your program's: see the message, or report it"
                .to_string(),
        ),
        runs: 0,
        time,
    }
}

fn score_check(
    exercise: &Exercise,
    test: &Test,
    check: &crate::checks::Check,
    outcome: &TestOutcome,
) -> CheckResult {
    let observations = match &outcome.observations {
        Ok(observations) => observations,
        Err(error) => {
            let message = format!("the grader could not run this test: {error:#}");
            return error_check(exercise, test, check, message, outcome.time);
        }
    };
    if let Some(error) = observations
        .iter()
        .find_map(|observation| observation.error.as_ref())
    {
        let message = format!("the grader's sandbox failed: {error}");
        return error_check(exercise, test, check, message, outcome.time);
    }
    let runs = observations.len() as u32;
    let mut result = CheckResult {
        test: test.name.to_string(),
        name: check.name.to_string(),
        points: scaled(exercise, check.points),
        max: scaled(exercise, check.points),
        status: CheckStatus::Passed,
        message: String::new(),
        expected: None,
        actual: None,
        output: None,
        advice: None,
        runs,
        time: outcome.time,
    };
    if observations.is_empty() {
        result.points = 0.0;
        result.status = CheckStatus::Error;
        result.message = "the sandbox returned no observation".to_string();
        return result;
    }
    for (index, observation) in observations.iter().enumerate() {
        // A run that stopped at a todo!() earns nothing, even for checks it passes by doing
        // nothing ("leaves no segment"): the student has not written that part yet.
        if let Some(todo) = observation.steps.iter().find_map(stopped_at_todo) {
            result.points = 0.0;
            result.status = CheckStatus::NotStarted;
            result.message = format!("not started: the program stopped at todo!(\"{todo}\")");
            result.advice = Some(format!(
                "write the step marked todo!() in exercises/{}/src/main.rs",
                exercise.info.dir
            ));
            break;
        }
        let run = Run::new(&outcome.scenario, observation);
        let Err(failure) = check.verify(&run) else {
            continue;
        };
        result.points = 0.0;
        result.status = CheckStatus::Failed;
        result.message = failure_message(&failure, index, runs);
        result.expected = failure.expected.clone();
        result.actual = failure.actual.clone();
        result.output = failure.step.and_then(|step| {
            let input = outcome.scenario.steps.get(step).map(|step| &step.input);
            observation.steps.get(step).map(|outcome| {
                captured_output(outcome, matches!(input, Some(Input::Dialog { .. })))
            })
        });
        result.advice = Some(check.advice.to_string());
        break;
    }
    result
}

fn failure_message(failure: &Failure, index: usize, runs: u32) -> String {
    if runs > 1 {
        format!("{} (in run {} of {runs})", failure.message, index + 1)
    } else {
        failure.message.clone()
    }
}

/// Most lines of each stream kept in a report; the middle of longer output is left out.
const OUTPUT_LINES: usize = 20;
/// Longest line kept in a report (characters).
const LINE_CHARS: usize = 200;

/// A step's captured output for a report: stdout, then stderr, each capped.
pub fn captured_output(step: &StepOutcome, dialog: bool) -> String {
    let mut text = String::new();
    let streams: &[(&str, &crate::scenario::Captured)] = if dialog {
        &[("terminal", &step.stdout)]
    } else {
        &[("stdout", &step.stdout), ("stderr", &step.stderr)]
    };
    for (name, captured) in streams {
        let body = without_backtrace(&captured.text.replace("\r\n", "\n"));
        if body.is_empty() {
            text.push_str(&format!("{name}: (nothing)\n"));
            continue;
        }
        let lines: Vec<&str> = body.lines().collect();
        let cut = if captured.truncated {
            format!(", {} bytes in all", captured.total_bytes)
        } else {
            String::new()
        };
        text.push_str(&format!("{name}{cut}:\n"));
        if lines.len() > OUTPUT_LINES {
            let half = OUTPUT_LINES / 2;
            for line in &lines[..half] {
                text.push_str(&format!("{}\n", clip(line, LINE_CHARS)));
            }
            text.push_str(&format!(
                "[... {} lines left out ...]\n",
                lines.len() - 2 * half
            ));
            for line in &lines[lines.len() - half..] {
                text.push_str(&format!("{}\n", clip(line, LINE_CHARS)));
            }
        } else {
            for line in lines {
                text.push_str(&format!("{}\n", clip(line, LINE_CHARS)));
            }
        }
    }
    text.trim_end().to_string()
}

/// The text without a panic's stack backtrace (shown when RUST_BACKTRACE is set): the panic
/// message says what a student needs; forty lines of std frames bury it.
fn without_backtrace(text: &str) -> String {
    let mut kept = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with("stack backtrace:") {
            skipping = true;
            kept.push_str("[stack backtrace left out]\n");
            continue;
        }
        if skipping && (line.starts_with(' ') || line.starts_with("note: Some details are omitted"))
        {
            continue;
        }
        skipping = false;
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// How the runs were isolated, summed up over a set of results' tests (for the report).
pub fn describe_isolation(isolation: Option<Isolation>) -> String {
    match isolation {
        Some(Isolation::Namespaces {
            user_namespace: false,
        }) => "namespaces".to_string(),
        Some(Isolation::Namespaces {
            user_namespace: true,
        }) => "namespaces (user namespace)".to_string(),
        Some(Isolation::Host) => "host".to_string(),
        None => "none".to_string(),
    }
}
