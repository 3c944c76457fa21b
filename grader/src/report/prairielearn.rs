//! `--format prairielearn`: PrairieLearn's external grader `results.json`.
//!
//! PrairieLearn's external grading ("Grading results", prairielearn.readthedocs.io) reads
//! `/grade/results/results.json`: `gradable` (false: the submission could not be graded, and
//! the attempt does not count), `score` from 0 to 1, a `message`, an `output`, and `tests[]`,
//! each with `name`, `points`, `max_points`, `message` and `output`. One PrairieLearn test here
//! is one exercise, so the question's score is the lab's score over its maximum.
//!
//! `gradable` is false when nothing compiled: a submission of which no exercise builds is a
//! wrong upload more often than an attempt. Instructor-only checks count in the points, but the
//! messages name only the checks students may see ([`Report::as_students_see_it`]).

use serde_json::{Value, json};

use super::{ExerciseStatus, Report, human};

pub fn to_value(report: &Report) -> Value {
    let shown = report.as_students_see_it();
    let gradable = report
        .exercises
        .iter()
        .any(|exercise| exercise.status != ExerciseStatus::DidNotCompile);
    let max = report.max_score();
    let score = if gradable && max > 0.0 {
        report.score() / max
    } else {
        0.0
    };
    let tests: Vec<Value> = report
        .exercises
        .iter()
        .zip(&shown.exercises)
        .zip(report.students_messages())
        .map(|((exercise, seen), message)| {
            json!({
                "name": exercise.name,
                "description": format!("exercises/{}", exercise.dir),
                "points": exercise.points,
                "max_points": exercise.max,
                "message": message,
                "output": human::render_exercise_details(seen),
            })
        })
        .collect();
    let message = if gradable {
        format!(
            "{} of {} points",
            human::number(report.score()),
            human::number(max)
        )
    } else {
        "No exercise compiled, so nothing could be graded: check that you submitted your \
         checkout (Cargo.toml and exercises/), then run `cargo grade` on it."
            .to_string()
    };
    json!({
        "gradable": gradable,
        "score": (score * 1e4).round() / 1e4,
        "message": message,
        "output": human::render(&shown, false),
        "tests": tests,
    })
}

pub fn render(report: &Report) -> String {
    super::pretty(&to_value(report))
}
