#![cfg(feature = "instructor")]
//! The platform formats through the command line, on the reference solutions (full marks,
//! instructor-only checks included) and on the stubs (nothing started).

use assert_cmd::Command;
use serde_json::Value;

fn grade(args: &[&str]) -> (Option<i32>, String) {
    // Grading the checkout's own stubs records progress: into a file of the test's.
    let state = tempfile::tempdir().expect("a temporary folder");
    let output = Command::cargo_bin("grader")
        .expect("the grader")
        .env("SHMLAB_STATE", state.path().join("state.json"))
        .args(args)
        .output()
        .expect("the grader runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// What the named exercises are worth in this grader (instructor-only checks included), from
/// the exercise table rather than a number to update when a check changes.
fn max_points(names: &[&str]) -> f64 {
    grader::exercises::all()
        .expect("the exercise table")
        .iter()
        .filter(|exercise| names.contains(&exercise.name()))
        .map(|exercise| f64::from(exercise.max_points()))
        .sum()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

#[test]
fn full_marks_in_every_platform_format() {
    let (code, text) = grade(&["--solutions", "--format", "prairielearn", "remove"]);
    assert_eq!(code, Some(0), "{text}");
    let prairielearn = json(&text);
    assert_eq!(prairielearn["gradable"], true);
    assert_eq!(prairielearn["score"], 1.0);
    let remove = max_points(&["remove"]);
    assert!(
        remove > 20.0,
        "remove's instructor-only check adds to its info.toml points"
    );
    assert_eq!(prairielearn["tests"][0]["points"], remove);

    let (code, text) = grade(&["--solutions", "--format", "classroom", "remove"]);
    assert_eq!(code, Some(0), "{text}");
    let classroom = json(&text);
    assert_eq!(classroom["status"], "pass");
    assert_eq!(classroom["max_score"], remove);
    assert_eq!(classroom["tests"][0]["score"], remove);

    let (code, text) = grade(&["--solutions", "--format", "autolab", "remove"]);
    assert_eq!(code, Some(0), "{text}");
    let last = json(text.lines().last().unwrap_or(""));
    assert_eq!(last, serde_json::json!({"scores": {"remove": remove}}));
    assert!(
        !text.contains("decimal that the README does not show"),
        "the feedback names no instructor-only check: {text}"
    );
}

#[test]
fn stubs_are_gradable_and_score_nothing() {
    let (code, text) = grade(&["--format", "prairielearn", "create", "attach"]);
    assert_eq!(code, Some(1), "{text}");
    let prairielearn = json(&text);
    assert_eq!(prairielearn["gradable"], true, "they compiled");
    assert_eq!(prairielearn["score"], 0.0);
    assert!(
        prairielearn["tests"][0]["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("not started")),
        "{text}"
    );

    let (code, text) = grade(&["--format", "classroom", "create", "attach"]);
    assert_eq!(code, Some(1), "{text}");
    let classroom = json(&text);
    assert_eq!(classroom["status"], "fail");
    assert_eq!(classroom["max_score"], max_points(&["create", "attach"]));
}
