use super::*;
use crate::batch::record::{CheckRecord, ExerciseRecord, SCHEMA};

fn record(student: &str, status: Status, exercises: Vec<ExerciseRecord>) -> Record {
    Record {
        schema: SCHEMA.into(),
        student: student.into(),
        submission: format!("{student}.zip"),
        fingerprint: "f".into(),
        status,
        message: String::new(),
        score: exercises.iter().map(|exercise| exercise.points).sum(),
        max: 20.0,
        exercises,
    }
}

fn exercise(name: &str, checks: &[(&str, Option<&str>)]) -> ExerciseRecord {
    let failed = checks.iter().any(|(_, wrong)| wrong.is_some());
    ExerciseRecord {
        name: name.into(),
        status: if failed {
            ExerciseStatus::Failed
        } else {
            ExerciseStatus::Passed
        },
        points: if failed { 0.0 } else { 10.0 },
        max: 10.0,
        compiler_error: None,
        checks: checks
            .iter()
            .map(|(check, wrong)| CheckRecord {
                test: "run".into(),
                name: check.to_string(),
                status: if wrong.is_some() {
                    CheckStatus::Failed
                } else {
                    CheckStatus::Passed
                },
                wrong: wrong.map(str::to_string),
            })
            .collect(),
    }
}

#[test]
fn the_most_failed_check_comes_first_with_its_commonest_wrong_outputs() {
    let records = vec![
        record(
            "ann",
            Status::Graded,
            vec![
                exercise("create", &[("mode", Some("0600")), ("size", None)]),
                exercise("attach", &[("text", None)]),
            ],
        ),
        record(
            "bo",
            Status::Graded,
            vec![
                exercise("create", &[("mode", Some("0600")), ("size", Some("4096"))]),
                exercise("attach", &[("text", None)]),
            ],
        ),
        record(
            "cy",
            Status::Graded,
            vec![
                exercise("create", &[("mode", Some("0644")), ("size", None)]),
                exercise("attach", &[("text", None)]),
            ],
        ),
    ];
    let page = render(&["create", "attach"], &records).expect("a page");
    let mode = page.find("create › run › mode").expect("the mode check");
    let size = page.find("create › run › size").expect("the size check");
    assert!(mode < size, "3 of 3 failed before 1 of 3");
    assert!(page.contains("<td>3 of 3</td><td>100%</td>"), "{page}");
    let twice = page.find("2 × 0600").expect("0600, twice");
    let once = page.find("1 × 0644").expect("0644, once");
    assert!(twice < once, "the commonest first");
    assert!(page.contains("1 other checks passed"), "attach's check");
    assert_eq!(
        page.matches("<svg").count(),
        2,
        "histogram and exercise chart"
    );
    for fetched in ["src=", "@import", "url("] {
        assert!(!page.contains(fetched), "nothing fetched: {fetched}");
    }
}

#[test]
fn submissions_that_did_not_compile_or_were_refused_are_listed() {
    let mut broken = record("cy", Status::DidNotCompile, vec![exercise("create", &[])]);
    broken.exercises[0].status = ExerciseStatus::DidNotCompile;
    broken.exercises[0].compiler_error = Some("error[E0308]: mismatched types".into());
    let mut refused = record("di", Status::Refused, Vec::new());
    refused.message = "holds no exercise sources".into();
    let mut hostile = record("<script>alert(1)</script>", Status::Refused, Vec::new());
    hostile.message = "<img src=x>".into();
    let page = render(&["create"], &[broken, refused, hostile]).expect("a page");
    assert!(
        !page.contains("<script>") && !page.contains("<img"),
        "names are escaped"
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        page.contains("<td>cy</td><td>create</td><td><pre>error[E0308]"),
        "{page}"
    );
    assert!(page.contains("<td>di</td><td>di.zip</td><td><pre>holds no exercise sources"));
    assert!(page.contains("1 did not compile"));
}
