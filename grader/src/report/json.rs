//! `--format json`: the [`Report`] as this grader's JSON (schema `shmlab-grader/1`).
//!
//! The fields are those of [`Report`], [`super::ExerciseResult`] and [`super::CheckResult`]
//! (times in milliseconds), plus `schema`, `score`, `max_score` and `full_marks` at the top.
//! The schema is described for readers in the book's grader reference.

use serde_json::{Value, json};

use super::Report;

/// The schema's name and version; bumped when a field changes meaning or goes away.
pub const SCHEMA: &str = "shmlab-grader/1";

pub fn to_value(report: &Report) -> Value {
    let mut value = json!({
        "schema": SCHEMA,
        "score": report.score(),
        "max_score": report.max_score(),
        "full_marks": report.full_marks(),
    });
    if let (Some(object), Ok(Value::Object(fields))) =
        (value.as_object_mut(), serde_json::to_value(report))
    {
        object.extend(fields);
    }
    value
}

pub fn render(report: &Report) -> String {
    // Serialising plain data to a String cannot fail; an empty object would be the fallback.
    let mut text =
        serde_json::to_string_pretty(&to_value(report)).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}
