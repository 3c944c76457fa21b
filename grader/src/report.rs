//! What grading found, and the ways to show it.
//!
//! [`Report`] is plain data, built by [`crate::grade`] and rendered by [`human`] (the terminal),
//! [`json`] (this grader's own schema, for scripts and CI), or for a platform: [`gradescope`]
//! (its `results.json`), [`prairielearn`] (its external grader's `results.json`), [`autolab`]
//! (the feedback and a last line of scores) and [`classroom`] (GitHub Classroom's grading
//! reporter). Renderers never grade and grading never prints, so `watch` mode and the
//! progress file can reuse both halves.
//!
//! Instructor-only checks ([`Visibility`] other than `Visible`) count in every score, but only
//! Gradescope, which can defer showing a test, names them: the text every other format shows
//! is [`Report::as_students_see_it`], the report without them.

pub mod autolab;
pub mod classroom;
pub mod gradescope;
pub mod human;
pub mod json;
pub mod output;
pub mod prairielearn;

use std::io::Write as _;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::Serialize;

pub use crate::checks::Visibility;
use crate::scenario::Isolation;

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What was graded: `exercises`, `solutions` or `submission`.
    pub source: Source,
    /// The checkout whose programs were graded.
    pub root: String,
    /// In `info.toml` order; only the exercises graded so far while grading is under way.
    pub exercises: Vec<ExerciseResult>,
    /// Time spent building, and grading (sandbox runs), in milliseconds.
    #[serde(serialize_with = "millis")]
    pub build_time: Duration,
    #[serde(serialize_with = "millis")]
    pub grade_time: Duration,
    /// How the runs were isolated ([`isolation_of`] the exercises'); `None` when nothing ran.
    /// Serialised as before: `namespaces`, `host`, ..., or `none`.
    #[serde(serialize_with = "isolation_or_none")]
    pub isolation: Option<RunIsolation>,
    /// For a submission: what intake left out of it (see [`crate::intake`]).
    pub submission: Option<Intake>,
}

/// What intake took from a submission and what it left out.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Intake {
    /// One line per file or folder left out, with the reason: `target/ (prebuilt binaries)`.
    pub ignored: Vec<String>,
    /// Exercises the submission has no sources for (graded as their untouched stubs).
    pub missing: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Exercises,
    Solutions,
    Submission,
}

impl Report {
    pub fn score(&self) -> f64 {
        self.exercises.iter().map(|exercise| exercise.points).sum()
    }

    pub fn max_score(&self) -> f64 {
        self.exercises.iter().map(|exercise| exercise.max).sum()
    }

    pub fn full_marks(&self) -> bool {
        self.exercises
            .iter()
            .all(|exercise| exercise.status == ExerciseStatus::Passed)
    }

    /// The report without its instructor-only checks, each exercise's points, status and
    /// message as a student's own grader (the handout's) would give them: what a report may
    /// show students now.
    pub fn as_students_see_it(&self) -> Report {
        let mut report = self.clone();
        for exercise in &mut report.exercises {
            let all_checks = exercise.checks.len();
            exercise
                .checks
                .retain(|check| check.visibility == Visibility::Visible);
            if exercise.checks.len() == all_checks {
                continue;
            }
            exercise.points = exercise.checks.iter().map(|check| check.points).sum();
            exercise.max = exercise.checks.iter().map(|check| check.max).sum();
            let failed = exercise
                .checks
                .iter()
                .filter(|check| check.status != CheckStatus::Passed)
                .count();
            if exercise.status == ExerciseStatus::Failed {
                (exercise.status, exercise.message) = if failed == 0 {
                    (
                        ExerciseStatus::Passed,
                        format!("all {} checks passed", exercise.checks.len()),
                    )
                } else {
                    (
                        ExerciseStatus::Failed,
                        format!("{failed} of {} checks failed", exercise.checks.len()),
                    )
                };
            }
        }
        report
    }

    /// The one-line message of each exercise as students may see it (the message of
    /// [`Report::as_students_see_it`]), saying so when a check not shown failed.
    pub fn students_messages(&self) -> Vec<String> {
        self.exercises
            .iter()
            .zip(self.as_students_see_it().exercises)
            .map(|(exercise, seen)| {
                if exercise.points < exercise.max && seen.points >= seen.max {
                    format!("{}; a check not shown yet failed", seen.message)
                } else {
                    seen.message
                }
            })
            .collect()
    }

    /// Some test could not be run at all: the grader's failure, not the student's.
    pub fn grader_error(&self) -> bool {
        self.exercises
            .iter()
            .any(|exercise| exercise.status == ExerciseStatus::Error)
    }
}

/// One exercise.
#[derive(Clone, Debug, Serialize)]
pub struct ExerciseResult {
    pub name: String,
    /// Its folder, e.g. `01-create`.
    pub dir: String,
    pub status: ExerciseStatus,
    pub points: f64,
    pub max: f64,
    /// One line summing up the status.
    pub message: String,
    /// For `did-not-compile`: cargo's rendered error messages. Otherwise the compiler's
    /// warnings in the program, one short line each (`src/main.rs:3: unused variable: `x``),
    /// if there were any: shown, never graded.
    pub compiler_output: Option<String>,
    pub checks: Vec<CheckResult>,
    /// How its runs were isolated, if any ran (serialised as `namespaces`, `host`, ...).
    pub isolation: Option<RunIsolation>,
    #[serde(serialize_with = "millis")]
    pub time: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExerciseStatus {
    /// Every check passed.
    Passed,
    /// Some check failed (partial credit possible).
    Failed,
    /// No points, and the program stopped at a `todo!()`: the student has not begun.
    NotStarted,
    /// Cargo could not build it; no check ran.
    DidNotCompile,
    /// The grader could not run some test (sandbox failure): not the student's fault.
    Error,
}

impl ExerciseStatus {
    pub fn label(self) -> &'static str {
        match self {
            ExerciseStatus::Passed => "passed",
            ExerciseStatus::Failed => "failed",
            ExerciseStatus::NotStarted => "not started",
            ExerciseStatus::DidNotCompile => "did not compile",
            ExerciseStatus::Error => "grader error",
        }
    }
}

/// One check of one test.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    /// The test (scenario) it belongs to.
    pub test: String,
    pub name: String,
    /// When students may see it (Gradescope's visibility).
    pub visibility: Visibility,
    pub points: f64,
    pub max: f64,
    pub status: CheckStatus,
    /// Empty when passed.
    pub message: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// The failing run's captured output (capped).
    pub output: Option<String>,
    /// The system calls that show the failure, as `strace -f` prints them (when traced).
    pub trace: Option<String>,
    /// What to try next (when not passed).
    pub advice: Option<String>,
    /// How many times the scenario ran (races run many times; all must pass).
    pub runs: u32,
    /// Wall time of the test's scenario (all its runs), shared by the test's checks.
    #[serde(serialize_with = "millis")]
    pub time: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    Passed,
    Failed,
    /// Failed because the program stopped at a `todo!()`.
    NotStarted,
    /// Not run: the program did not compile.
    DidNotCompile,
    /// The grader could not run it.
    Error,
}

fn millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((duration.as_secs_f64() * 1e6).round() / 1e3)
}

/// The output formats of `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per exercise; details under the failing ones.
    Human,
    /// This grader's JSON (schema `shmlab-grader/1`).
    Json,
    /// Gradescope's results.json (per-check visibility, statuses as tags).
    Gradescope,
    /// PrairieLearn's external grader results.json (score from 0 to 1).
    Prairielearn,
    /// Autolab: the feedback, then a last line {"scores": {EXERCISE: points}}.
    Autolab,
    /// GitHub Classroom's grading reporter: the runner JSON (version, status, max_score, tests).
    Classroom,
}

/// Renders `report` in `format` (`color` only matters to `human`).
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(report, color),
        Format::Json => json::render(report),
        Format::Gradescope => gradescope::render(report),
        Format::Prairielearn => prairielearn::render(report),
        Format::Autolab => autolab::render(report),
        Format::Classroom => classroom::render(report),
    }
}

/// Kept here for the callers that write reports; the one helper is in [`crate::atomic_write`].
pub use crate::atomic_write::write_atomically;

/// `value` as pretty JSON and a newline.
fn pretty(value: &serde_json::Value) -> String {
    // Serialising plain data to a String cannot fail; an empty object would be the fallback.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

/// Exit status: every graded exercise passed.
pub const EXIT_FULL_MARKS: u8 = 0;
/// Exit status: some check failed (or an exercise did not compile, or is not started).
pub const EXIT_CHECKS_FAILED: u8 = 1;
/// Exit status: the grader could not do its job (usage, cargo, sandbox).
pub const EXIT_GRADER_ERROR: u8 = 2;

/// The exit status of a run that produced `report`: 0, 1 or 2, as documented in `--help`.
pub fn exit_status(report: &Report) -> u8 {
    if report.grader_error() {
        EXIT_GRADER_ERROR
    } else if report.full_marks() {
        EXIT_FULL_MARKS
    } else {
        EXIT_CHECKS_FAILED
    }
}

/// Writes to stdout. A reader that went away (`cargo grade | head`) is not an error: what it
/// wanted was written.
pub fn out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("Failed to write the report to stdout")
        }
        _ => Ok(()),
    }
}

/// How a set of results' runs were isolated, for the whole report: host if any ran on the
/// host (the weakest tier is the one to tell), else the first tier; untraced if any was, with
/// the first reason. `None` when no run took place.
pub fn isolation_of(results: &[ExerciseResult]) -> Option<RunIsolation> {
    let mut isolations = results
        .iter()
        .filter_map(|result| result.isolation.as_ref());
    let first = isolations.clone().next()?;
    let tier = if isolations
        .clone()
        .any(|isolation| isolation.tier == Isolation::Host)
    {
        Isolation::Host
    } else {
        first.tier
    };
    let untraced = isolations.find_map(|isolation| isolation.untraced.clone());
    Some(RunIsolation { tier, untraced })
}

/// How runs were isolated, as a report says it: the sandbox's tier ([`Isolation`]), and why
/// the system-call lens could not trace them, if it could not.
///
/// Serialised as one string, as the schema has always had it: `namespaces`,
/// `namespaces (user namespace)` (the grader was an ordinary user) or `host`, followed by
/// `; no system-call trace (WHY)` ([`UNTRACED`]) when the lens could not trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunIsolation {
    pub tier: Isolation,
    /// Why the lens could not trace these runs (they were graded without their trace).
    pub untraced: Option<String>,
}

/// In a serialised [`RunIsolation`], after the tier and `; `: the lens could not trace (the
/// reason follows, in parentheses).
pub const UNTRACED: &str = "no system-call trace";

impl RunIsolation {
    /// `no system-call trace (WHY)` when the lens could not trace.
    pub fn untraced_note(&self) -> Option<String> {
        self.untraced
            .as_ref()
            .map(|why| format!("{UNTRACED} ({why})"))
    }
}

impl std::fmt::Display for RunIsolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tier.name())?;
        match self.untraced_note() {
            Some(note) => write!(f, "; {note}"),
            None => Ok(()),
        }
    }
}

impl Serialize for RunIsolation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A report's isolation as its formats write it: `none` when nothing ran.
pub fn isolation_text(isolation: Option<&RunIsolation>) -> String {
    isolation.map_or_else(|| "none".to_owned(), RunIsolation::to_string)
}

fn isolation_or_none<S: serde::Serializer>(
    isolation: &Option<RunIsolation>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&isolation_text(isolation.as_ref()))
}

#[cfg(test)]
mod tests;
