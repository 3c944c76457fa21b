//! `--format autolab`: Autolab's autograder output.
//!
//! Autolab shows the autograder's whole output as feedback and reads the score of each
//! problem from its **last line**, a JSON object `{"scores": {"PROBLEM": points, ...}}`
//! (Autolab docs, "Autograders": the autoresult). The problems of the assessment are named
//! after the exercises (`create`, `attach`, ...), each with its `info.toml` points as its
//! maximum. The feedback is the human report as students may see it
//! ([`Report::as_students_see_it`]); the scores include the instructor-only checks.

use serde_json::{Map, Value, json};

use super::{Report, human};

/// The last line: `{"scores": {...}}`, keyed by exercise name, in the lab's order.
pub fn scores(report: &Report) -> Value {
    let scores: Map<String, Value> = report
        .exercises
        .iter()
        .map(|exercise| (exercise.name.clone(), json!(exercise.points)))
        .collect();
    json!({ "scores": scores })
}

pub fn render(report: &Report) -> String {
    let mut text = human::render(&report.as_students_see_it(), false);
    text.push_str(&scores(report).to_string());
    text.push('\n');
    text
}
