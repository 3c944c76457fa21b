//! The behaviour half of `dev check`: the stubs as shipped earn nothing and stop at their
//! `todo!()` ("not started"), and the reference solutions earn every point.
//!
//! Both are graded exactly as `cargo grade` and `cargo grade --solutions` grade them (the same
//! build, sandbox and checks, through [`crate::app::grade_command`]), so what this accepts is
//! what a student and an instructor will see.

use anyhow::Result;
use clap::Parser as _;

use super::Problem;
use crate::cli::Cli;
use crate::exercises;
use crate::report::{CheckStatus, ExerciseResult, ExerciseStatus};

/// Grades the stubs, then the solutions; one problem per exercise that is not as it should be.
pub fn check(cli: &Cli) -> Result<Vec<Problem>> {
    let exercises = exercises::all()?;
    let all = exercises::select(&exercises, &[])?;
    let mut problems = Vec::new();
    for solutions in [false, true] {
        let report = crate::app::grade_command(&like(cli, solutions)?, &all, false)?;
        problems.extend(report.exercises.iter().filter_map(|result| {
            if solutions {
                solution_problem(result)
            } else {
                stub_problem(result)
            }
        }));
    }
    Ok(problems)
}

/// `cli`'s grading options, for the stubs or for the solutions, without its command.
fn like(cli: &Cli, solutions: bool) -> Result<Cli> {
    let mut args = vec![
        "cargo grade".to_owned(),
        format!("--repeat={}", cli.repeat),
        format!("--timeout={}", cli.timeout),
    ];
    if let Some(jobs) = cli.jobs {
        args.push(format!("--jobs={jobs}"));
    }
    if solutions {
        args.push("--solutions".to_owned());
    }
    Ok(Cli::try_parse_from(args)?)
}

/// A stub must stop at its `todo!()` with no point earned.
pub fn stub_problem(result: &ExerciseResult) -> Option<Problem> {
    let piece = format!("exercises/{}/src/main.rs", result.dir);
    let message = match result.status {
        ExerciseStatus::NotStarted => return None,
        ExerciseStatus::DidNotCompile => {
            "does not compile: a stub must build as shipped".to_owned()
        }
        ExerciseStatus::Error => format!("the grader could not run it: {}", result.message),
        ExerciseStatus::Passed | ExerciseStatus::Failed => format!(
            "graded {} (\"{}\", {}/{} points) instead of \"not started\": the stub must stop \
             at a todo!() before doing any of the work, and earn nothing{}",
            status_word(result.status),
            result.message,
            result.points,
            result.max,
            passed_checks(result)
        ),
    };
    Some(Problem::new(Some(&result.name), piece, message))
}

/// A solution must get full marks.
pub fn solution_problem(result: &ExerciseResult) -> Option<Problem> {
    if result.status == ExerciseStatus::Passed && result.points == result.max {
        return None;
    }
    let failed: Vec<String> = result
        .checks
        .iter()
        .filter(|check| check.status != CheckStatus::Passed)
        .map(|check| format!("{:?}", check.name))
        .collect();
    let message = match result.status {
        ExerciseStatus::DidNotCompile => "does not compile".to_owned(),
        ExerciseStatus::NotStarted => "stops at a todo!(): write the reference solution".to_owned(),
        _ if failed.is_empty() => format!(
            "gets {}/{} points ({})",
            result.points, result.max, result.message
        ),
        _ => format!(
            "gets {}/{} points: it fails {}; fix the solution or the check \
             (grader/src/exercises/{}.rs)",
            result.points,
            result.max,
            failed.join(", "),
            super::layout::module_name(&result.name)
        ),
    };
    Some(Problem::new(
        Some(&result.name),
        format!("solutions/{}", result.dir),
        message,
    ))
}

fn status_word(status: ExerciseStatus) -> &'static str {
    match status {
        ExerciseStatus::Passed => "passed",
        _ => "failed",
    }
}

fn passed_checks(result: &ExerciseResult) -> String {
    let passed: Vec<String> = result
        .checks
        .iter()
        .filter(|check| check.status == CheckStatus::Passed)
        .map(|check| format!("{:?}", check.name))
        .collect();
    if passed.is_empty() {
        String::new()
    } else {
        format!(" (it passes {})", passed.join(", "))
    }
}
