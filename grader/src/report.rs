//! What grading found, and the three ways to show it.
//!
//! [`Report`] is plain data, built by [`crate::grade`] and rendered by [`human`] (the terminal),
//! [`json`] (this grader's own schema, for scripts and CI) or [`gradescope`] (Gradescope's
//! `results.json`). Renderers never grade and grading never prints, so `watch` mode and the
//! progress file can reuse both halves.

pub mod gradescope;
pub mod human;
pub mod json;

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

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
    /// How the runs were isolated: `namespaces`, `host`, or `none` when nothing ran.
    pub isolation: String,
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
    /// For `did-not-compile`: cargo's rendered error messages.
    pub compiler_output: Option<String>,
    pub checks: Vec<CheckResult>,
    /// How its runs were isolated (`namespaces`, `host`), if any ran.
    pub isolation: Option<String>,
    #[serde(serialize_with = "millis")]
    pub time: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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
    /// Gradescope's results.json.
    Gradescope,
}

/// Renders `report` in `format` (`color` only matters to `human`).
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(report, color),
        Format::Json => json::render(report),
        Format::Gradescope => gradescope::render(report),
    }
}

/// Kept here for the callers that write reports; the one helper is in [`crate::atomic_write`].
pub use crate::atomic_write::write_atomically;

#[cfg(test)]
mod tests;
