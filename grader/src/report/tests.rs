//! The renderers on hand-made reports: no kernel, no sandbox.

use std::time::Duration;

use super::*;

fn check(name: &str, status: CheckStatus, points: f64) -> CheckResult {
    CheckResult {
        test: "the test".to_string(),
        name: name.to_string(),
        points,
        max: 2.0,
        status,
        message: if status == CheckStatus::Passed {
            String::new()
        } else {
            "it went wrong".to_string()
        },
        expected: None,
        actual: None,
        output: None,
        trace: None,
        advice: (status != CheckStatus::Passed).then(|| "try this".to_string()),
        runs: 1,
        time: Duration::from_millis(3),
    }
}

fn exercise(
    name: &str,
    dir: &str,
    status: ExerciseStatus,
    checks: Vec<CheckResult>,
) -> ExerciseResult {
    ExerciseResult {
        name: name.to_string(),
        dir: dir.to_string(),
        status,
        points: checks.iter().map(|check| check.points).sum(),
        max: checks.iter().map(|check| check.max).sum(),
        message: status.label().to_string(),
        compiler_output: None,
        checks,
        isolation: Some("namespaces".to_string()),
        time: Duration::from_millis(7),
    }
}

fn report(exercises: Vec<ExerciseResult>) -> Report {
    Report {
        source: Source::Exercises,
        root: "/lab".to_string(),
        exercises,
        build_time: Duration::from_millis(100),
        grade_time: Duration::from_millis(1500),
        isolation: "namespaces".to_string(),
        submission: None,
    }
}

fn fresh_clone() -> Report {
    report(vec![
        exercise(
            "create",
            "01-create",
            ExerciseStatus::NotStarted,
            vec![check("a", CheckStatus::NotStarted, 0.0)],
        ),
        exercise(
            "attach",
            "02-attach",
            ExerciseStatus::NotStarted,
            vec![check("b", CheckStatus::NotStarted, 0.0)],
        ),
    ])
}

#[test]
fn a_fresh_clone_is_told_where_to_begin() {
    let text = human::render(&fresh_clone(), false);
    assert!(text.contains("  ✗ create     0/2  not started\n"), "{text}");
    assert!(text.contains("Score: 0/4\n"), "{text}");
    assert!(
        text.ends_with("Nothing started yet. Begin with exercises/01-create/README.md, then run `cargo grade create`.\n"),
        "{text}"
    );
    assert!(
        !text.contains("it went wrong"),
        "no details under exercises not started"
    );
}

#[test]
fn a_failed_check_shows_a_diff_of_its_lines_and_what_to_try() {
    let mut failed = check("prints the lines", CheckStatus::Failed, 0.0);
    failed.expected = Some("child: 1\nparent: 1".to_string());
    failed.actual = Some("parent: 1\nchild: 1".to_string());
    failed.output = Some("stdout:\nparent: 1\nchild: 1".to_string());
    let passed = check("exits", CheckStatus::Passed, 2.0);
    let result = exercise(
        "parent-child",
        "03-parent-child",
        ExerciseStatus::Failed,
        vec![passed, failed],
    );
    let text = human::render(&report(vec![result]), false);
    let expected = [
        "  ✗ parent-child     2/4  failed",
        "      ✗ prints the lines (0/2)",
        "          it went wrong",
        "          expected vs actual (- expected, + actual):",
        "          + parent: 1",
        "            child: 1",
        "          - parent: 1",
        "          what the program printed:",
        "            | stdout:",
        "            | parent: 1",
        "            | child: 1",
        "          next: try this",
    ]
    .join("\n");
    assert!(text.starts_with(&expected), "{text}");
    assert!(
        text.contains("Next: fix parent-child (exercises/03-parent-child/src/main.rs)"),
        "{text}"
    );
}

#[test]
fn colour_only_when_asked() {
    let plain = human::render(&fresh_clone(), false);
    assert!(!plain.contains('\x1b'));
    let coloured = human::render(&fresh_clone(), true);
    assert!(coloured.contains("\x1b[1mScore: 0/4\x1b[0m"), "{coloured}");
}

#[test]
fn json_has_the_schema_totals_and_every_field() {
    let value = json::to_value(&fresh_clone());
    assert_eq!(value["schema"], "shmlab-grader/1");
    assert_eq!(value["score"], 0.0);
    assert_eq!(value["max_score"], 4.0);
    assert_eq!(value["full_marks"], false);
    assert_eq!(value["build_time"], 100.0);
    assert_eq!(value["exercises"][0]["status"], "not-started");
    assert_eq!(value["exercises"][0]["checks"][0]["status"], "not-started");
    assert_eq!(value["exercises"][0]["checks"][0]["time"], 3.0);
}

#[test]
fn gradescope_numbers_one_test_per_check() {
    let passed = check("exits", CheckStatus::Passed, 2.0);
    let failed = check("prints", CheckStatus::Failed, 0.0);
    let graded = report(vec![exercise(
        "create",
        "01-create",
        ExerciseStatus::Failed,
        vec![passed, failed],
    )]);
    let value = gradescope::to_value(&graded);
    assert_eq!(value["score"], 2.0);
    assert_eq!(
        value["execution_time"], 2,
        "1.6 s, rounded up to whole seconds"
    );
    let tests = value["tests"].as_array().expect("tests");
    assert_eq!(tests.len(), 2);
    assert_eq!(tests[0]["name"], "create: exits (the test)");
    assert_eq!(tests[0]["number"], "1.1");
    assert_eq!(tests[0]["status"], "passed");
    assert_eq!(tests[0]["output"], "");
    assert_eq!(tests[1]["number"], "1.2");
    assert_eq!(tests[1]["status"], "failed");
    assert_eq!(tests[1]["max_score"], 2.0);
    assert_eq!(tests[1]["output"], "it went wrong\nnext: try this");
    assert_eq!(tests[1]["visibility"], "visible");
}
