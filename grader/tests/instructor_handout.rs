#![cfg(feature = "instructor")]
//! `cargo grade handout DIR`: the students' repository has no solutions, fixtures or
//! instructor-only checks, and in it `cargo grade` (every exercise not started) and the README's
//! test command (`cargo test --workspace`) work.
//!
//! Instructor-only (the first line): it needs the instructor's grader to know which checks
//! must not be in the handout.

mod instructor_common;

use std::path::Path;

use assert_cmd::Command;
use grader::checks::Visibility;
use predicates::prelude::*;

use instructor_common::{cargo_in, files_under, write_handout};

#[test]
fn the_handout_leaves_out_what_only_the_instructor_may_have() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let handout = dir.path().join("shmlab");
    write_handout(&handout);

    for present in [
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
        "info.toml",
        "README.md",
        ".ci/run",
        ".github/workflows/shmlab.yml",
        "exercises/01-create/src/main.rs",
        "exercises/06-remove/README.md",
        "sysv/src/lib.rs",
        "grader/src/main.rs",
        "docs/src/SUMMARY.md",
        "docs/src/exercises/01-create.md",
    ] {
        assert!(
            handout.join(present).is_file(),
            "{present} is in the handout"
        );
    }
    for absent in [
        "solutions",
        "grader/fixtures",
        "grader/src/exercises/instructor.rs",
        "grader/tests/grading_fixtures.rs",
        "grader/tests/grading_lab.rs",
        "grader/tests/instructor_handout.rs",
        "docs/Cargo.toml",
        "docs/tests",
        "docs/src/instructor-guide.md",
        "target",
    ] {
        assert!(
            !handout.join(absent).exists(),
            "{absent} is not in the handout"
        );
    }
    let manifest = std::fs::read_to_string(handout.join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        manifest.contains(r#"members = ["sysv", "exercises/*", "grader"]"#),
        "{manifest}"
    );
    let grader_manifest =
        std::fs::read_to_string(handout.join("grader/Cargo.toml")).expect("grader/Cargo.toml");
    assert!(
        grader_manifest.contains("default = []"),
        "{grader_manifest}"
    );

    // Nothing in it names an instructor-only check, nor a solution.
    let secrets: Vec<&str> = grader::exercises::all()
        .expect("the exercise table")
        .iter()
        .flat_map(|exercise| &exercise.tests)
        .filter(|test| {
            test.checks
                .iter()
                .any(|check| check.visibility != Visibility::Visible)
        })
        .flat_map(|test| {
            std::iter::once(test.name).chain(test.checks.iter().map(|check| check.name))
        })
        .collect();
    assert!(
        !secrets.is_empty(),
        "the instructor's grader has hidden checks"
    );
    for file in files_under(&handout) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for secret in &secrets {
            assert!(
                !text.contains(secret),
                "{} names the instructor-only {secret:?}",
                file.display()
            );
        }
        if file.ends_with("README.md") && file.parent() == Some(handout.as_path()) {
            assert!(!text.contains("solutions"), "{text}");
        }
        if file.extension().is_some_and(|ext| ext == "md") {
            // The handout has no solutions/: no page sends the student to a file in it.
            assert!(
                !text.contains("solutions/0"),
                "{} names a file of solutions/",
                file.display()
            );
        }
    }
    let summary = std::fs::read_to_string(handout.join("docs/src/SUMMARY.md")).expect("summary");
    assert!(!summary.contains("instructor-guide.md"), "{summary}");
}

#[test]
fn a_second_handout_into_the_same_folder_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("notes.txt"), "mine").expect("a file");
    Command::cargo_bin("grader")
        .expect("the grader")
        .arg("handout")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists and is not empty"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).expect("untouched"),
        "mine"
    );
}

/// Slow: the handout is a new workspace, so its grader and tests are built from scratch
/// (about 6 minutes on 2 cores the first time; the build is kept in target/tmp for the next).
#[test]
#[ignore = "slow: builds and tests a whole handout (minutes); `bash .ci/run` runs it"]
fn in_the_handout_cargo_grade_says_not_started_and_the_tests_pass() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let handout = dir.path().join("shmlab");
    write_handout(&handout);
    let lock_before = std::fs::read(handout.join("Cargo.lock")).expect("Cargo.lock");

    let grade = cargo_in(&handout, &["grade"]);
    let stdout = String::from_utf8_lossy(&grade.stdout);
    assert_eq!(
        grade.status.code(),
        Some(1),
        "cargo grade: {stdout}\n{}",
        String::from_utf8_lossy(&grade.stderr)
    );
    for exercise in grader::exercises::all().expect("the exercise table") {
        let line = stdout
            .lines()
            .find(|line| line.contains(&format!(" {} ", exercise.name())))
            .unwrap_or_else(|| panic!("a line for {} in {stdout}", exercise.name()));
        assert!(
            line.contains(&format!("0/{}", exercise.info.points)) && line.contains("not started"),
            "{line}"
        );
    }
    // The students' total: info.toml's points, without the instructor-only checks'.
    let total: u32 = grader::exercises::all()
        .expect("the exercise table")
        .iter()
        .map(|exercise| exercise.info.points)
        .sum();
    assert!(stdout.contains(&format!("Score: 0/{total}")), "{stdout}");

    let test = cargo_in(&handout, &["test", "--workspace"]);
    assert!(
        test.status.success(),
        "cargo test --workspace in the handout:\n{}\n{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
    assert_eq!(
        std::fs::read(handout.join("Cargo.lock")).expect("Cargo.lock"),
        lock_before,
        "building the handout leaves its Cargo.lock as written"
    );
    assert!(
        !Path::new(&handout.join("target")).exists(),
        "built elsewhere"
    );
}
