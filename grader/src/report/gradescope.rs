//! `--format gradescope`: Gradescope's `results.json`.
//!
//! Gradescope's autograder specification (gradescope-autograders.readthedocs.io, "Autograder
//! Specifications", output format) reads `/autograder/results/results.json`: a total `score`,
//! `execution_time` (seconds), an `output` shown above the tests with its `output_format`, and
//! `tests[]`, each with `name`, `number`, `score`, `max_score`, `status` (`passed`/`failed`),
//! `output`, `tags` and `visibility`. One Gradescope test here is one check, numbered
//! `EXERCISE.CHECK`, so students see the same partial credit as `cargo grade` gives them.
//!
//! - `output_format` and `test_output_format` are `text`: the report is aligned plain text,
//!   which Gradescope's default (`simple_format`, HTML-ish) would reflow.
//! - Gradescope knows only `passed` and `failed`, so a check that is not passed carries the
//!   reason as a tag and on the first line of its output: `failed`, `not started` or
//!   `did not compile`.
//! - Each check keeps its own [`super::Visibility`]; the top-level `output` is the report as
//!   students may see it now ([`Report::as_students_see_it`]), so it never names a check that
//!   is not visible.
//! - A grader error is not a grade: the autograder's `run_autograder` removes this file when the
//!   grader exits 2, and Gradescope reports the autograder's failure instead.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{CheckResult, CheckStatus, ExerciseResult, Report, Visibility, human};

pub fn to_value(report: &Report) -> Value {
    let mut tests = Vec::new();
    for (exercise_number, exercise) in report.exercises.iter().enumerate() {
        for (check_number, check) in exercise.checks.iter().enumerate() {
            let status = if check.status == CheckStatus::Passed {
                "passed"
            } else {
                "failed"
            };
            tests.push(json!({
                "name": format!("{}: {} ({})", exercise.name, check.name, check.test),
                "number": format!("{}.{}", exercise_number + 1, check_number + 1),
                "score": check.points,
                "max_score": check.max,
                "status": status,
                "tags": [exercise.name.as_str(), reason(check.status)],
                "output": test_output(exercise, check, check_number == 0),
                "output_format": "text",
                "visibility": check.visibility,
            }));
        }
    }
    let execution_time = (report.build_time + report.grade_time).as_secs_f64().ceil() as u64;
    json!({
        "score": report.score(),
        "execution_time": execution_time,
        "output": overall_output(report),
        "output_format": "text",
        "test_output_format": "text",
        "extra_data": { "isolation": super::isolation_text(report.isolation.as_ref()), "max_score": report.max_score() },
        "tests": tests,
    })
}

/// The report as students may see it now, and a note when some checks will be shown later
/// (hidden ones never are, and are worth nothing).
fn overall_output(report: &Report) -> String {
    let mut output = human::render(&report.as_students_see_it(), false);
    let deferred = report
        .exercises
        .iter()
        .flat_map(|exercise| &exercise.checks)
        .filter(|check| {
            matches!(
                check.visibility,
                Visibility::AfterDueDate | Visibility::AfterPublished
            )
        })
        .count();
    if deferred > 0 {
        let _ = writeln!(
            output,
            "\n{deferred} more check(s) are shown after the due date or once grades are \
             published; the report above counts only the checks shown now."
        );
    }
    output
}

/// The tag that tells why a check has its status.
fn reason(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Passed => "passed",
        CheckStatus::Failed => "failed",
        CheckStatus::NotStarted => "not started",
        CheckStatus::DidNotCompile => "did not compile",
        CheckStatus::Error => "grader error",
    }
}

/// What a test shows under its name: nothing when passed; otherwise the reason, then the
/// message, expected and actual, the system calls that show it, the program's output, the compiler's (once per exercise)
/// and the advice.
fn test_output(exercise: &ExerciseResult, check: &CheckResult, first_check: bool) -> String {
    let mut output = String::new();
    if check.status == CheckStatus::Passed {
        return output;
    }
    let _ = writeln!(output, "[{}] {}", reason(check.status), check.message);
    if let Some(expected) = &check.expected {
        let _ = writeln!(output, "expected:\n{expected}");
    }
    if let Some(actual) = &check.actual {
        let _ = writeln!(output, "actual:\n{actual}");
    }
    if let Some(calls) = &check.trace {
        let _ = writeln!(output, "the system calls that show it:\n{calls}");
    }
    if let Some(printed) = &check.output {
        let _ = writeln!(output, "what the program printed:\n{printed}");
    }
    if first_check && let Some(compiler) = &exercise.compiler_output {
        let _ = writeln!(output, "compiler output:\n{compiler}");
    }
    if let Some(advice) = &check.advice {
        let _ = writeln!(output, "next: {advice}");
    }
    output.trim_end().to_string()
}

pub fn render(report: &Report) -> String {
    super::pretty(&to_value(report))
}
