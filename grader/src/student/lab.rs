//! The real grader behind the [`Lab`] seam: what `cargo grade watch` uses.
//!
//! Grading one exercise for the watch loop is the command line's grading, cut down to one
//! exercise and made silent: build its package with cargo ([`crate::app::build_programs`],
//! cargo's output captured), grade it in the sandbox ([`crate::grade::grade_exercises`], no
//! progress line), and render the same results as `cargo grade NAME`
//! ([`crate::report::human::render_results`], without the score and next step: the loop shows
//! its own). Nothing here prints: in watch mode the terminal belongs to the
//! loop.

use std::time::Instant;

use anyhow::Context as _;

use super::Lab;
use crate::app::{Target, build_programs};
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
        let (mut programs, build_time) = build_programs(&self.target, &[exercise])?;
        let program = programs
            .pop()
            .with_context(|| format!("Failed to build {name}: cargo built nothing"))?;
        let started = Instant::now();
        let result = grade_exercises(&self.options, &[(exercise, program)], |_| {})
            .pop()
            .with_context(|| format!("Failed to grade {name}: the grader returned no result"))?;
        let passed = result.status == ExerciseStatus::Passed;
        let isolation = result
            .isolation
            .clone()
            .unwrap_or_else(|| "none".to_owned());
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
        Ok((passed, human::render_results(&report, self.color)))
    }
}
