#![cfg(feature = "instructor")]
//! The `grader` binary as students and CI run it: exit codes, formats, `--output`, help.

mod grading_common;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// The lab's total, from info.toml (the tests do not hard-code it).
/// What the whole lab is worth to this grader: `info.toml`'s points plus those of the
/// instructor-only checks compiled in.
fn lab_points() -> u32 {
    grader::exercises::all()
        .expect("the exercise table")
        .iter()
        .map(|exercise| exercise.max_points())
        .sum()
}

fn grader() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_grader"));
    command.env("NO_COLOR", "1");
    command
}

#[test]
fn help_explains_the_command_and_its_exit_codes() {
    grader()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Grades the shmlab exercises"))
        .stdout(predicate::str::contains("--solutions"))
        .stdout(predicate::str::contains("--submission <PATH>"))
        .stdout(predicate::str::contains("Exit status: 0 full marks"));
}

#[test]
fn an_unknown_exercise_is_a_usage_error() {
    grader()
        .arg("crate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "there is no exercise named \"crate\"; did you mean `create`? the exercises are: create, attach",
        ));
}

#[test]
fn a_bad_option_is_a_usage_error() {
    grader()
        .args(["--format", "xml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'xml'"));
}

#[test]
fn hint_prints_the_hints_from_info_toml_one_level_at_a_time() {
    // The level reached goes to the progress file: a scratch one, not the checkout's.
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let state = scratch.path().join("state.json");
    let hint = |args: &[&str]| {
        grader()
            .env("SHMLAB_STATE", &state)
            .arg("hint")
            .args(args)
            .assert()
            .success()
    };
    hint(&["attach"])
        .stdout(predicate::str::contains("Hint 1 of 3 for attach"))
        .stdout(predicate::str::contains("never create"));
    hint(&["attach"]).stdout(predicate::str::contains("Hint 2 of 3 for attach"));
    grader()
        .env("SHMLAB_STATE", &state)
        .args(["hint", "atach"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `attach`?"));
    hint(&["attach", "--level", "3"]).stdout(predicate::str::contains("Hint 3 of 3"));
    let saved = std::fs::read_to_string(&state).expect("the progress file");
    assert!(saved.contains("\"attach\": 3"), "{saved}");
}

#[test]
fn full_marks_exit_zero_with_json() {
    let output = grader()
        .args(["--solutions", "--format", "json", "create", "remove"])
        .output()
        .expect("grader runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(report["schema"], "shmlab-grader/1");
    // info.toml's points and, in the instructor's grader, those of the instructor-only checks.
    let max: f64 = grader::exercises::all()
        .expect("the exercise table")
        .iter()
        .filter(|exercise| ["create", "remove"].contains(&exercise.name()))
        .map(|exercise| f64::from(exercise.max_points()))
        .sum();
    assert_eq!(report["score"], max);
    assert_eq!(report["max_score"], max);
    assert_eq!(report["full_marks"], true);
    assert_eq!(report["source"], "solutions");
    let exercises = report["exercises"].as_array().expect("exercises");
    assert_eq!(exercises.len(), 2);
    let check = &exercises[0]["checks"][0];
    for field in [
        "test", "name", "points", "max", "status", "message", "expected", "actual", "output",
        "advice", "runs", "time",
    ] {
        assert!(check.get(field).is_some(), "check field {field}");
    }
    assert_eq!(check["status"], "passed");
}

#[test]
fn stubs_exit_one_and_say_where_to_start_and_progress_is_recorded() {
    // Grading the checkout's own exercises records progress: into a file of the test's, so
    // that the test leaves nothing in the checkout.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().join("state.json");
    grader()
        .env("SHMLAB_STATE", &state)
        .assert()
        .code(1)
        .stdout(predicate::str::is_match(r"✗ create +0/10  not started\n").expect("a regex"))
        .stdout(predicate::str::contains(format!(
            "Score: 0/{}",
            lab_points()
        )))
        .stdout(predicate::str::contains(
            "Begin with exercises/01-create/README.md, then run `cargo grade create`.",
        ));
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("the progress file"))
            .expect("JSON");
    assert_eq!(
        recorded["passed"],
        serde_json::json!({}),
        "nothing passed yet"
    );
}

#[test]
fn gradescope_results_go_to_the_output_file() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("results.json");
    grader()
        .args(["--solutions", "--format", "gradescope", "--output"])
        .arg(&path)
        .arg("attach")
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"✓ attach +15/15\n").expect("a regex"));
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("results.json")).expect("JSON");
    assert_eq!(results["score"], 15.0);
    assert!(results["execution_time"].is_u64());
    let tests = results["tests"].as_array().expect("tests");
    // One Gradescope test per check of attach.
    let checks: usize = grading_common::exercise("attach")
        .tests
        .iter()
        .map(|test| test.checks.len())
        .sum();
    assert_eq!(tests.len(), checks);
    for test in tests {
        assert_eq!(test["status"], "passed");
        assert_eq!(test["score"], test["max_score"]);
        assert_eq!(test["visibility"], "visible");
        assert!(
            test["name"]
                .as_str()
                .is_some_and(|name| name.starts_with("attach: "))
        );
        assert!(
            test["number"]
                .as_str()
                .is_some_and(|number| number.starts_with("1."))
        );
    }
}

#[test]
fn list_shows_state_and_points() {
    grader()
        .args(["list", "--solutions"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"\n +1  create +done +10/10\n").expect("a regex"))
        .stdout(predicate::str::contains(format!(
            "Score: {0}/{0}",
            lab_points()
        )));
}
