//! The real grader behind the [`Lab`] seam: what `cargo grade watch` uses.
//!
//! Grading one exercise for the watch loop is the command line's grading, cut down to one
//! exercise and made silent: build its package with cargo ([`crate::build::build_programs`],
//! cargo's output captured), grade it in the sandbox ([`crate::grade::grade_exercises`], no
//! progress line), and render the same results as `cargo grade NAME`
//! ([`crate::report::human::render_results`], without the score and next step: the loop shows
//! its own). Nothing here prints: in watch mode the terminal belongs to the
//! loop.

use std::time::Instant;

use anyhow::Context as _;

use super::Lab;
use super::progress::annotate_for_student;
use crate::build::{BuiltPrograms, Target, build_programs_with_warnings};
use crate::exercises::{self, Exercise};
use crate::grade::{Options, grade_exercises};
use crate::report::{ExerciseStatus, Report, human};

/// Grades exercises of one checkout (`target`) with `options`, for the watch loop.
pub struct GraderLab {
    exercises: Vec<Exercise>,
    target: Target,
    options: Options,
    /// ANSI colours in the report (the loop draws it as it is).
    color: bool,
}

impl GraderLab {
    /// A lab over the grader's built-in exercise table.
    pub fn new(target: Target, options: Options, color: bool) -> anyhow::Result<GraderLab> {
        Ok(GraderLab {
            exercises: exercises::all()?,
            target,
            options,
            color,
        })
    }
}

impl Lab for GraderLab {
    fn grade(&mut self, name: &str) -> anyhow::Result<(bool, String)> {
        let exercise = exercises::select(&self.exercises, &[name.to_owned()])?.remove(0);
        let BuiltPrograms {
            mut programs,
            build_time,
            warnings,
        } = build_programs_with_warnings(&self.target, &[exercise])?;
        let program = programs
            .pop()
            .with_context(|| format!("Failed to build {name}: cargo built nothing"))?;
        let started = Instant::now();
        let mut results = grade_exercises(&self.options, &[(exercise, program)], |_| {});
        annotate_for_student(&self.target, &mut results, &warnings);
        let result = results
            .pop()
            .with_context(|| format!("Failed to grade {name}: the grader returned no result"))?;
        let passed = result.status == ExerciseStatus::Passed;
        let isolation = result.isolation.clone();
        let report = Report {
            source: self.target.source,
            root: self.target.root.display().to_string(),
            exercises: vec![result],
            build_time,
            grade_time: started.elapsed(),
            isolation,
            submission: None,
        };
        // The watch loop says what to do next itself: the results alone, no score or next step.
        Ok((
            passed,
            for_watch(&human::render_results(&report, self.color), name),
        ))
    }
}

/// The report as watch shows it: where the command line says "then run `cargo grade NAME`",
/// watch grades again on save, so that is what it says.
fn for_watch(report: &str, name: &str) -> String {
    report.replace(
        &format!("then run `cargo grade {name}`"),
        "then save the file: watch grades it again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_watch_a_compile_error_says_save_not_run() {
        use crate::report::{ExerciseResult, Source};
        let result = ExerciseResult {
            name: "remove".into(),
            dir: "06-remove".into(),
            status: ExerciseStatus::DidNotCompile,
            points: 0.0,
            max: 20.0,
            message: "did not compile".into(),
            compiler_output: Some("error[E0425]: cannot find value `x`".into()),
            checks: Vec::new(),
            isolation: None,
            time: std::time::Duration::ZERO,
        };
        let report = Report {
            source: Source::Exercises,
            root: String::new(),
            exercises: vec![result],
            build_time: std::time::Duration::ZERO,
            grade_time: std::time::Duration::ZERO,
            isolation: None,
            submission: None,
        };
        let command_line = human::render_results(&report, false);
        assert!(
            command_line.contains("then run `cargo grade remove`"),
            "{command_line}"
        );
        let shown = for_watch(&command_line, "remove");
        assert!(
            shown.contains("then save the file: watch grades it again"),
            "{shown}"
        );
        assert!(!shown.contains("cargo grade remove"), "{shown}");
    }
}
