//! The renderers on hand-made reports: no kernel, no sandbox.

use std::time::Duration;

use super::*;

const NAMESPACES: RunIsolation = RunIsolation {
    tier: Isolation::Namespaces { self_mapped: false },
    untraced: None,
};

fn check(name: &str, status: CheckStatus, points: f64) -> CheckResult {
    CheckResult {
        test: "the test".to_string(),
        name: name.to_string(),
        visibility: Visibility::Visible,
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
        isolation: Some(NAMESPACES),
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
        isolation: Some(NAMESPACES),
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
fn isolation_is_serialised_as_the_schemas_strings() {
    let untraced = RunIsolation {
        tier: Isolation::Namespaces { self_mapped: true },
        untraced: Some("ptrace refused".to_string()),
    };
    let mut graded = report(vec![exercise(
        "create",
        "01-create",
        ExerciseStatus::Passed,
        Vec::new(),
    )]);
    graded.exercises[0].isolation = Some(untraced.clone());
    graded.isolation = isolation_of(&graded.exercises);
    let value = json::to_value(&graded);
    let expected = "namespaces (user namespace); no system-call trace (ptrace refused)";
    assert_eq!(value["isolation"], expected);
    assert_eq!(value["exercises"][0]["isolation"], expected);
    assert_eq!(
        gradescope::to_value(&graded)["extra_data"]["isolation"],
        expected
    );

    graded.exercises[0].isolation = None;
    graded.isolation = isolation_of(&graded.exercises);
    assert_eq!(graded.isolation, None, "nothing ran");
    let value = json::to_value(&graded);
    assert_eq!(value["isolation"], "none");
    assert_eq!(value["exercises"][0]["isolation"], serde_json::Value::Null);
}

#[test]
fn a_report_is_host_if_any_run_was_and_untraced_if_any_was() {
    let host = RunIsolation {
        tier: Isolation::Host,
        untraced: None,
    };
    let untraced = RunIsolation {
        untraced: Some("ptrace refused".to_string()),
        ..NAMESPACES
    };
    let mut exercises = vec![
        exercise("create", "01-create", ExerciseStatus::Passed, Vec::new()),
        exercise("attach", "02-attach", ExerciseStatus::Passed, Vec::new()),
    ];
    assert_eq!(isolation_of(&exercises), Some(NAMESPACES));
    exercises[1].isolation = Some(untraced.clone());
    assert_eq!(isolation_of(&exercises), Some(untraced));
    exercises[0].isolation = Some(host);
    let combined = isolation_of(&exercises).expect("runs took place");
    assert_eq!(combined.tier, Isolation::Host);
    assert_eq!(
        combined.to_string(),
        "host; no system-call trace (ptrace refused)"
    );
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
    assert_eq!(tests[1]["output"], "[failed] it went wrong\nnext: try this");
    assert_eq!(tests[1]["visibility"], "visible");
}

/// A lab with every kind of result: passed, failed only by an instructor-only check, not
/// started, did not compile.
fn mixed_lab() -> Report {
    let mut hidden = check("hidden property", CheckStatus::Failed, 0.0);
    hidden.visibility = Visibility::AfterDueDate;
    hidden.message = "the secret input broke it".to_string();
    let mut did_not_compile = check("builds", CheckStatus::DidNotCompile, 0.0);
    did_not_compile.message = "the program did not compile".to_string();
    let mut broken = exercise(
        "sized",
        "05-sized",
        ExerciseStatus::DidNotCompile,
        vec![did_not_compile],
    );
    broken.compiler_output = Some("error[E0308]: mismatched types".to_string());
    report(vec![
        exercise(
            "create",
            "01-create",
            ExerciseStatus::Passed,
            vec![check("exits", CheckStatus::Passed, 2.0)],
        ),
        exercise(
            "remove",
            "06-remove",
            ExerciseStatus::Failed,
            vec![check("removes", CheckStatus::Passed, 2.0), hidden],
        ),
        exercise(
            "attach",
            "02-attach",
            ExerciseStatus::NotStarted,
            vec![check("attaches", CheckStatus::NotStarted, 0.0)],
        ),
        broken,
    ])
}

#[test]
fn gradescope_follows_the_spec_and_tells_the_statuses_apart() {
    let value = gradescope::to_value(&mixed_lab());
    // Top-level fields of the spec.
    assert_eq!(value["score"], 4.0);
    assert_eq!(value["output_format"], "text");
    assert_eq!(value["test_output_format"], "text");
    assert!(value["execution_time"].is_u64());
    let tests = value["tests"].as_array().expect("tests");
    for test in tests {
        for field in ["name", "number", "output", "status", "visibility"] {
            assert!(test[field].is_string(), "{field} of {test}");
        }
        assert!(test["score"].is_number() && test["max_score"].is_number());
        assert!(["passed", "failed"].contains(&test["status"].as_str().unwrap_or("")));
        assert!(test["tags"].is_array());
    }
    let by_name = |name: &str| {
        tests
            .iter()
            .find(|test| test["name"].as_str().is_some_and(|n| n.starts_with(name)))
            .unwrap_or_else(|| panic!("a test named {name}"))
    };
    assert_eq!(by_name("remove: hidden")["visibility"], "after_due_date");
    assert_eq!(by_name("remove: removes")["visibility"], "visible");
    assert_eq!(by_name("attach")["tags"][1], "not started");
    assert_eq!(by_name("sized")["tags"][1], "did not compile");
    assert_eq!(by_name("remove: hidden")["tags"][1], "failed");
    assert!(
        by_name("sized")["output"]
            .as_str()
            .is_some_and(
                |output| output.starts_with("[did not compile]") && output.contains("error[E0308]")
            ),
        "{}",
        by_name("sized")["output"]
    );
    // The overall output is what students may see now: no instructor-only check in it.
    let output = value["output"].as_str().expect("output");
    assert!(!output.contains("hidden property"), "{output}");
    assert!(!output.contains("secret input"), "{output}");
    assert!(output.contains("  ✓ remove"), "{output}");
    assert!(
        output.ends_with("1 more check(s) are shown after the due date or once grades are published; the report above counts only the checks shown now.\n"),
        "{output}"
    );
}

#[test]
fn the_students_view_drops_instructor_checks_and_their_points() {
    let seen = mixed_lab().as_students_see_it();
    let remove = &seen.exercises[1];
    assert_eq!(remove.checks.len(), 1);
    assert_eq!(remove.status, ExerciseStatus::Passed);
    assert_eq!((remove.points, remove.max), (2.0, 2.0));
    assert_eq!(remove.message, "all 1 checks passed");
    assert_eq!(seen.exercises[2].status, ExerciseStatus::NotStarted);
}

#[test]
fn prairielearn_scores_from_zero_to_one_with_one_test_per_exercise() {
    let value = prairielearn::to_value(&mixed_lab());
    assert_eq!(value["gradable"], true);
    assert_eq!(value["score"], 0.4, "4 of 10 points");
    assert!(value["message"].is_string() && value["output"].is_string());
    let tests = value["tests"].as_array().expect("tests");
    assert_eq!(tests.len(), 4);
    for test in tests {
        assert!(test["name"].is_string() && test["message"].is_string());
        assert!(test["points"].is_number() && test["max_points"].is_number());
    }
    assert_eq!(tests[1]["name"], "remove");
    assert_eq!(tests[1]["points"], 2.0);
    assert_eq!(tests[1]["max_points"], 4.0, "the hidden check counts");
    assert_eq!(
        tests[1]["message"], "all 1 checks passed; a check not shown yet failed",
        "but is not named"
    );
    assert!(
        tests[3]["output"]
            .as_str()
            .is_some_and(|output| output.contains("error[E0308]"))
    );
}

#[test]
fn prairielearn_is_not_gradable_when_nothing_compiled() {
    let mut lab = mixed_lab();
    lab.exercises.retain(|exercise| exercise.name == "sized");
    let value = prairielearn::to_value(&lab);
    assert_eq!(value["gradable"], false);
    assert_eq!(value["score"], 0.0);
    assert!(
        value["message"]
            .as_str()
            .is_some_and(|message| message.contains("No exercise compiled"))
    );
}

#[test]
fn autolab_ends_with_the_scores_keyed_by_exercise() {
    let text = autolab::render(&mixed_lab());
    let last = text.lines().last().expect("a last line");
    let scores: serde_json::Value = serde_json::from_str(last).expect("the last line is JSON");
    assert_eq!(
        scores,
        serde_json::json!({"scores": {"create": 2.0, "remove": 2.0, "attach": 0.0, "sized": 0.0}})
    );
    assert!(text.starts_with("  ✓ create"), "{text}");
    assert!(!text.contains("secret input"), "{text}");
}

#[test]
fn classroom_is_the_reporters_runner_json() {
    let value = classroom::to_value(&mixed_lab());
    assert_eq!(value["version"], 1);
    assert_eq!(value["status"], "fail");
    assert_eq!(value["max_score"], 10.0);
    let tests = value["tests"].as_array().expect("tests");
    assert_eq!(tests.len(), 4);
    for test in tests {
        assert!(["pass", "fail", "error"].contains(&test["status"].as_str().unwrap_or("")));
        assert!(test["name"].is_string() && test["message"].is_string());
        assert!(test["score"].is_number() && test["line_no"].is_number());
    }
    assert_eq!(tests[0]["status"], "pass");
    assert_eq!(tests[1]["status"], "fail", "the hidden check failed");
    assert_eq!(tests[1]["score"], 2.0);
    assert_eq!(
        tests[1]["message"],
        "all 1 checks passed; a check not shown yet failed"
    );
    assert!(
        tests[2]["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("not started"))
    );
    let sum: f64 = tests.iter().filter_map(|test| test["score"].as_f64()).sum();
    assert_eq!(sum, 4.0, "the reporter sums the tests' scores");
}
