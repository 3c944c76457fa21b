//! `--format classroom`: the runner JSON of GitHub Classroom's grading reporter.
//!
//! `classroom-resources/autograding-grading-reporter` reads, for each runner named in its
//! `runners` input, the environment variable `RUNNER_RESULTS`: base64 of a JSON object with
//! `version` (1), `status` (`pass`, `fail` or `error`), `max_score` and `tests[]`, each with
//! `name`, `status`, `score`, `message`, `line_no` and `duration`. It sums the tests' `score`
//! over `max_score` and sends the points to Classroom. The workflow that
//! `cargo grade autograder classroom` writes runs the grader with this format and passes its
//! output along, base64-encoded.
//!
//! One test per exercise. The workflow's log is public to the student, so the messages name
//! only the checks students may see ([`Report::as_students_see_it`]); the points include all.

use serde_json::{Value, json};

use super::{ExerciseStatus, Report, human};

pub fn to_value(report: &Report) -> Value {
    let shown = report.as_students_see_it();
    let messages = report.students_messages();
    let tests: Vec<Value> = report
        .exercises
        .iter()
        .zip(&shown.exercises)
        .zip(messages)
        .map(|((exercise, seen), mut message)| {
            let status = match exercise.status {
                ExerciseStatus::Passed => "pass",
                ExerciseStatus::Error => "error",
                _ => "fail",
            };
            let details = human::render_exercise_details(seen);
            if !details.is_empty() {
                message.push('\n');
                message.push_str(&details);
            }
            json!({
                "name": exercise.name,
                "status": status,
                "score": exercise.points,
                "max_score": exercise.max,
                "message": message,
                "line_no": 0,
                "duration": exercise.time.as_millis() as u64,
            })
        })
        .collect();
    let status = if report.grader_error() {
        "error"
    } else if report.full_marks() {
        "pass"
    } else {
        "fail"
    };
    json!({
        "version": 1,
        "status": status,
        "max_score": report.max_score(),
        "tests": tests,
    })
}

pub fn render(report: &Report) -> String {
    super::pretty(&to_value(report))
}
