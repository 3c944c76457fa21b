//! Scoring: from a test's observations to points, with the rules that make a score mean work.
//!
//! Each check of each test is scored over all the runs of its scenario: it passes only if it
//! passes in every run. The run reported is the first when every run failed, else the failing
//! run the grader held longest (a race: the schedule the student can reproduce). Two rules sit
//! on top:
//!
//! - **The main scenario first.** An exercise's first test is its main task ([`main_task`]).
//!   If it stops at the stub's `todo!()` the exercise is *not started*; if it hangs, the other
//!   tests are not run at all (a submission whose programs all hang is graded in one timeout
//!   per exercise) and their checks fail with the reason.
//! - **Tidiness counts only with work.** A [`Check::tidy`] check (an exit status, nothing left
//!   behind, no process left) is passed by a program that does nothing. It earns its points only
//!   when the main scenario ran to its end and passed at least one check of its work; otherwise
//!   it fails with "not counted" and the reason. An empty `fn main() {}` earns nothing.

use std::cmp::Reverse;
use std::time::Duration;

use crate::checks::lens::describe_schedule;
use crate::checks::{Check, Failure, Run, Test, panic_site, stopped_at_todo};
use crate::exercises::Exercise;
use crate::report::{CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, RunIsolation};
use crate::scenario::{Exit, Hold, Input};

use super::TestOutcome;
use crate::report::output::captured_output;

/// How an exercise's main scenario (its first test) went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MainTask {
    /// Every step of its first run ended by itself.
    RanToItsEnd,
    /// A step stopped at the stub's `todo!()`: the message.
    NotStarted(String),
    /// A step of its first run hit the timeout: which one, in words.
    Hung(String),
    /// The sandbox could not run it (a grader error, reported as such).
    NotRun,
}

impl MainTask {
    /// Whether the exercise's other tests are worth running.
    pub(crate) fn runs_the_others(&self) -> bool {
        matches!(self, MainTask::RanToItsEnd | MainTask::NotRun)
    }
}

/// How the main scenario went, from its outcome. Only its first run (the baseline, before any
/// perturbation) decides whether it hung: a run the grader perturbed may hang because of a
/// bug the perturbation exposed, which the checks then report.
pub(crate) fn main_task(outcome: &TestOutcome) -> MainTask {
    let Ok(observations) = &outcome.observations else {
        return MainTask::NotRun;
    };
    if let Some(todo) = observations
        .iter()
        .flat_map(|observation| &observation.steps)
        .find_map(stopped_at_todo)
    {
        return MainTask::NotStarted(todo);
    }
    let Some(first) = observations.first() else {
        return MainTask::NotRun;
    };
    if first.error.is_some() {
        return MainTask::NotRun;
    }
    let run = Run::new(&outcome.scenario, first);
    match first
        .steps
        .iter()
        .position(|step| step.exit == Exit::TimedOut)
    {
        Some(index) => MainTask::Hung(run.what_happened(index)),
        None => MainTask::RanToItsEnd,
    }
}

pub(crate) fn did_not_compile(exercise: &Exercise, messages: &str) -> ExerciseResult {
    let checks = exercise
        .tests
        .iter()
        .flat_map(|test| {
            test.checks.iter().map(|check| CheckResult {
                test: test.name.to_string(),
                name: check.name.to_string(),
                visibility: check.visibility,
                points: 0.0,
                max: scaled(exercise, check.points),
                status: CheckStatus::DidNotCompile,
                message: "the program did not compile".to_string(),
                expected: None,
                actual: None,
                output: None,
                trace: None,
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
        max: f64::from(exercise.max_points()),
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
        f64::from(exercise.max_points()) * f64::from(weight) / f64::from(total)
    }
}

/// Scores every check of `exercise` from its tests' outcomes (in test order; `None` for a test
/// that was not run because the main scenario did not end).
pub(crate) fn score_exercise(
    exercise: &Exercise,
    outcomes: &[Option<TestOutcome>],
) -> ExerciseResult {
    let mut checks = Vec::new();
    let mut time = Duration::ZERO;
    let mut todo = None;
    let mut isolation = None;
    let mut untraced = None;
    let mut measured = Vec::new();
    let main = outcomes
        .first()
        .and_then(Option::as_ref)
        .map_or(MainTask::NotRun, main_task);
    for (index, test) in exercise.tests.iter().enumerate() {
        let Some(outcome) = outcomes.get(index).and_then(Option::as_ref) else {
            for check in &test.checks {
                checks.push(not_run_check(exercise, test, check, &main));
            }
            continue;
        };
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
                    .find_map(|step| {
                        let message = stopped_at_todo(step)?;
                        Some((message, panic_site(&step.stderr.text)))
                    })
            });
        }
        for check in &test.checks {
            checks.push(score_check(exercise, test, check, outcome));
        }
        if let (Some(measure), Ok([first, ..])) = (test.measure, outcome.observations.as_deref()) {
            measured.extend(measure(&Run::new(&outcome.scenario, first)));
        }
    }
    // The first test is the exercise's main task. While it stops at the stub's todo!(), the
    // checks that pass thanks to the code the stub gives (a usage error, say) earn nothing:
    // the exercise is not started.
    if let MainTask::NotStarted(todo) = &main {
        for check in checks
            .iter_mut()
            .filter(|check| check.status == CheckStatus::Passed)
        {
            check.points = 0.0;
            check.status = CheckStatus::NotStarted;
            check.message = format!("not started: the main task stops at todo!(\"{todo}\")");
        }
    }
    discount_tidiness(exercise, &main, &mut checks);
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
        let (todo, site) = todo.unwrap_or_default();
        // The site ends the message in parentheses: the student loop reads it from there.
        let site = site.map(|site| format!(" ({site})")).unwrap_or_default();
        (
            ExerciseStatus::NotStarted,
            format!("not started: the program stops at todo!(\"{todo}\"){site}"),
        )
    } else if let MainTask::Hung(what) = &main {
        (
            ExerciseStatus::Failed,
            format!(
                "{failed} of {} checks failed: in the main scenario {what}, so its other tests \
                 were not run",
                checks.len()
            ),
        )
    } else {
        (
            ExerciseStatus::Failed,
            format!("{failed} of {} checks failed", checks.len()),
        )
    };
    // Figures beside the score (`; ` then the figures: the human report shows them after ✓).
    let message = std::iter::once(message)
        .chain(measured)
        .collect::<Vec<_>>()
        .join("; ");
    ExerciseResult {
        name: exercise.name().to_string(),
        dir: exercise.info.dir.clone(),
        status,
        points: (points * 1000.0).round() / 1000.0,
        max: f64::from(exercise.max_points()),
        message,
        compiler_output: None,
        checks,
        // Said where the isolation is said, so that it is never silent.
        isolation: isolation.map(|tier| RunIsolation { tier, untraced }),
        time,
    }
}

/// Takes the points of passed tidy checks back unless the main scenario ran to its end and
/// passed some check of its work.
fn discount_tidiness(exercise: &Exercise, main: &MainTask, checks: &mut [CheckResult]) {
    let Some(main_test) = exercise.tests.first() else {
        return;
    };
    let reason = match main {
        MainTask::RanToItsEnd => {
            let did_work = main_test.checks.iter().any(|check| {
                !check.tidy
                    && checks.iter().any(|result| {
                        result.test == main_test.name
                            && result.name == check.name
                            && result.status == CheckStatus::Passed
                    })
            });
            if did_work {
                return;
            }
            format!(
                "the main scenario (\"{}\") did none of its work: every check of it about the \
                 work failed",
                main_test.name
            )
        }
        MainTask::Hung(what) => format!("the main scenario did not run to its end: {what}"),
        MainTask::NotStarted(_) | MainTask::NotRun => return,
    };
    let tidy: Vec<(&str, &str)> = exercise
        .tests
        .iter()
        .flat_map(|test| {
            test.checks
                .iter()
                .filter(|check| check.tidy)
                .map(move |check| (test.name, check.name))
        })
        .collect();
    for result in checks.iter_mut().filter(|result| {
        result.status == CheckStatus::Passed
            && tidy.contains(&(result.test.as_str(), result.name.as_str()))
    }) {
        result.points = 0.0;
        result.status = CheckStatus::Failed;
        result.message = format!("not counted: {reason}");
        result.advice = Some(
            "this check counts once the program does the work of the main scenario: see the \
             checks above"
                .to_string(),
        );
    }
}

/// A check of a test that was not run, because the main scenario did not run to its end.
fn not_run_check(exercise: &Exercise, test: &Test, check: &Check, main: &MainTask) -> CheckResult {
    let (status, message, advice) = match main {
        MainTask::NotStarted(todo) => (
            CheckStatus::NotStarted,
            format!("not started: the main task stops at todo!(\"{todo}\")"),
            format!(
                "write the step marked todo!() in exercises/{}/src/main.rs",
                exercise.info.dir
            ),
        ),
        MainTask::Hung(what) => (
            CheckStatus::Failed,
            format!("not run: in the main scenario {what}"),
            "find where the program waits for ever in the main scenario; the other tests run \
             once it ends"
                .to_string(),
        ),
        MainTask::RanToItsEnd | MainTask::NotRun => {
            return error_check(
                exercise,
                test,
                check,
                "the test did not run".to_string(),
                Duration::ZERO,
            );
        }
    };
    CheckResult {
        test: test.name.to_string(),
        name: check.name.to_string(),
        visibility: check.visibility,
        points: 0.0,
        max: scaled(exercise, check.points),
        status,
        message,
        expected: None,
        actual: None,
        output: None,
        trace: None,
        advice: Some(advice),
        runs: 0,
        time: Duration::ZERO,
    }
}

fn error_check(
    exercise: &Exercise,
    test: &Test,
    check: &Check,
    message: String,
    time: Duration,
) -> CheckResult {
    CheckResult {
        test: test.name.to_string(),
        name: check.name.to_string(),
        visibility: check.visibility,
        points: 0.0,
        max: scaled(exercise, check.points),
        status: CheckStatus::Error,
        message,
        expected: None,
        actual: None,
        output: None,
        trace: None,
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
    check: &Check,
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
        visibility: check.visibility,
        points: scaled(exercise, check.points),
        max: scaled(exercise, check.points),
        status: CheckStatus::Passed,
        message: String::new(),
        expected: None,
        actual: None,
        output: None,
        trace: None,
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
    // The failure reported: when every run failed, the first (nothing steered: the simplest
    // to reproduce); when only some did (a race), the failing run the grader steered hardest
    // (the longest time it held processes), since that failure owes least to chance and the
    // student can reproduce it ("with child 1's write held 20 ms"). On a loaded machine a free
    // run, or one held a millisecond, can fail by luck, and the report should not depend on it.
    let mut failing: Vec<(usize, Duration, Failure)> = Vec::new();
    for (index, observation) in observations.iter().enumerate() {
        // A run that stopped at a todo!() earns nothing, even for checks it passes by doing
        // nothing ("leaves no segment"): the student has not written that part yet.
        let todo = if failing.is_empty() {
            observation.steps.iter().find_map(stopped_at_todo)
        } else {
            None
        };
        if let Some(todo) = todo {
            result.points = 0.0;
            result.status = CheckStatus::NotStarted;
            result.message = format!("not started: the program stopped at todo!(\"{todo}\")");
            result.advice = Some(format!(
                "write the step marked todo!() in exercises/{}/src/main.rs",
                exercise.info.dir
            ));
            return result;
        }
        if let Err(failure) = check.verify(&Run::new(&outcome.scenario, observation)) {
            failing.push((index, held_in_total(&observation.schedule), failure));
        }
    }
    let reported = if failing.len() == observations.len() {
        failing.into_iter().next()
    } else {
        // The longest held; the earliest of those.
        failing
            .into_iter()
            .min_by_key(|(index, held, _)| (Reverse(*held), *index))
    };
    if let Some((index, _, failure)) = reported {
        let observation = &observations[index];
        result.points = 0.0;
        result.status = CheckStatus::Failed;
        result.message = failure_message(&failure, index, runs, &observation.schedule);
        result.expected = failure.expected.clone();
        result.trace = failure.shown_calls().map(str::to_string);
        result.actual = failure.actual.clone();
        result.output = failure.step.and_then(|step| {
            let input = outcome.scenario.steps.get(step).map(|step| &step.input);
            observation.steps.get(step).map(|outcome| {
                captured_output(outcome, matches!(input, Some(Input::Dialog { .. })))
            })
        });
        result.advice = Some(failure.own_advice().unwrap_or(check.advice).to_string());
    }
    result
}

/// How long the grader held processes in a run: zero for a run it did not steer.
fn held_in_total(schedule: &[Hold]) -> Duration {
    schedule.iter().filter_map(|hold| hold.held_for).sum()
}

/// The failure's message, with the run it happened in when there were several, and the
/// schedule of that run when the grader perturbed it, so that the student can reproduce it.
fn failure_message(failure: &Failure, index: usize, runs: u32, schedule: &[Hold]) -> String {
    match (runs > 1, describe_schedule(schedule)) {
        (true, Some(schedule)) => format!(
            "{} (in run {} of {runs}, {schedule})",
            failure.message,
            index + 1
        ),
        (true, None) => format!("{} (in run {} of {runs})", failure.message, index + 1),
        (false, Some(schedule)) => format!("{} ({schedule})", failure.message),
        (false, None) => failure.message.clone(),
    }
}
