//! `--format gradescope`: Gradescope's `results.json`.
//!
//! Gradescope's autograder specification (gradescope-autograders.readthedocs.io, "Autograder
//! Specifications", output format) reads `/autograder/results/results.json` with a total
//! `score`, `execution_time` (seconds), an `output` shown above the tests, and `tests[]`, each
//! with `name`, `number`, `score`, `max_score`, `status` (`passed`/`failed`), `output` and
//! `visibility`. One Gradescope test here is one check, numbered `EXERCISE.CHECK`, so students
//! see the same partial credit as `cargo grade` gives them.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{CheckStatus, Report, human};

pub fn to_value(report: &Report) -> Value {
    let mut tests = Vec::new();
    for (exercise_number, exercise) in report.exercises.iter().enumerate() {
        for (check_number, check) in exercise.checks.iter().enumerate() {
            let mut output = String::new();
            if check.status != CheckStatus::Passed {
                let _ = writeln!(output, "{}", check.message);
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
                if check_number == 0 {
                    if let Some(compiler) = &exercise.compiler_output {
                        let _ = writeln!(output, "compiler output:\n{compiler}");
                    }
                }
                if let Some(advice) = &check.advice {
                    let _ = writeln!(output, "next: {advice}");
                }
            }
            tests.push(json!({
                "name": format!("{}: {} ({})", exercise.name, check.name, check.test),
                "number": format!("{}.{}", exercise_number + 1, check_number + 1),
                "score": check.points,
                "max_score": check.max,
                "status": if check.status == CheckStatus::Passed { "passed" } else { "failed" },
                "output": output.trim_end(),
                "visibility": "visible",
            }));
        }
    }
    let execution_time = (report.build_time + report.grade_time).as_secs_f64().ceil() as u64;
    json!({
        "score": report.score(),
        "execution_time": execution_time,
        "output": human::render(report, false),
        "tests": tests,
    })
}

pub fn render(report: &Report) -> String {
    let mut text =
        serde_json::to_string_pretty(&to_value(report)).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}
