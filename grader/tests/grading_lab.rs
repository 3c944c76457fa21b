#![cfg(feature = "instructor")]
//! The lab as a whole: every solution gets full marks, every stub is "not started", and every
//! exercise has its README, its metadata and both crates (the "dev check").

mod grading_common;

use grader::build::{Target, build_programs};
use grader::exercises::{self, Exercise};
use grader::grade::{Program, grade_exercises};
use grader::report::{CheckStatus, ExerciseStatus, Source};
use grading_common::*;

fn grade_all(source: Source, repeat: u32) -> Vec<grader::report::ExerciseResult> {
    let all = exercises::all().expect("the exercise table");
    let chosen: Vec<&Exercise> = all.iter().collect();
    let target = Target {
        source,
        root: root(),
        target_dir: None,
    };
    let (programs, _) = build_programs(&target, &chosen).expect("cargo runs");
    for (exercise, program) in chosen.iter().zip(&programs) {
        if let Program::DidNotCompile(messages) = program {
            panic!(
                "{} ({source:?}) does not compile:\n{messages}",
                exercise.name()
            );
        }
    }
    let mut options = options();
    options.repeat = repeat;
    let before = host_segments();
    let work: Vec<(&Exercise, Program)> = chosen.into_iter().zip(programs).collect();
    let results = grade_exercises(&options, &work, |_| {});
    assert_no_new_segment(&before);
    results
}

#[test]
fn every_solution_gets_full_marks_with_the_default_repeats() {
    let results = grade_all(Source::Solutions, grader::grade::DEFAULT_REPEAT);
    for result in &results {
        let failed: Vec<_> = result
            .checks
            .iter()
            .filter(|check| check.status != CheckStatus::Passed)
            .map(|check| (&check.name, &check.message, &check.actual))
            .collect();
        assert_eq!(
            result.status,
            ExerciseStatus::Passed,
            "{}: {failed:#?}",
            result.name
        );
        assert_eq!(result.points, result.max, "{}", result.name);
    }
    let race_runs: Vec<u32> = results
        .iter()
        .flat_map(|result| &result.checks)
        .map(|check| check.runs)
        .collect();
    // The race tests ran their repeats and, on top, one run per schedule.
    assert!(
        race_runs
            .iter()
            .any(|runs| *runs > grader::grade::DEFAULT_REPEAT),
        "the race tests ran more than {} times: {race_runs:?}",
        grader::grade::DEFAULT_REPEAT
    );
}

#[test]
fn every_stub_is_not_started_with_no_points() {
    for result in grade_all(Source::Exercises, 1) {
        let details: Vec<_> = result
            .checks
            .iter()
            .filter(|check| check.status != CheckStatus::NotStarted)
            .map(|check| (&check.name, check.status, &check.message, &check.actual))
            .collect();
        assert_eq!(
            result.status,
            ExerciseStatus::NotStarted,
            "{}: {}: {details:#?}",
            result.name,
            result.message
        );
        assert_eq!(result.points, 0.0, "{}", result.name);
        assert!(
            result
                .message
                .starts_with("not started: the program stops at todo!("),
            "{}",
            result.message
        );
        assert!(details.is_empty(), "{}: {details:#?}", result.name);
    }
}

#[test]
fn every_exercise_has_its_readme_metadata_and_both_crates() {
    let root = root();
    for exercise in exercises::all().expect("the exercise table") {
        let dir = &exercise.info.dir;
        for (folder, package) in [
            ("exercises", exercise.info.package(false)),
            ("solutions", exercise.info.package(true)),
        ] {
            let manifest = root.join(folder).join(dir).join("Cargo.toml");
            let text = std::fs::read_to_string(&manifest)
                .unwrap_or_else(|_| panic!("{} exists", manifest.display()));
            assert!(
                text.contains(&format!("name = \"{package}\"")),
                "{} names package {package}",
                manifest.display()
            );
            assert!(
                root.join(folder).join(dir).join("src/main.rs").is_file(),
                "{folder}/{dir}/src/main.rs exists"
            );
        }
        let readme = root.join("exercises").join(dir).join("README.md");
        assert!(readme.is_file(), "{} exists", readme.display());
        let chapter = root.join("docs/src/exercises").join(format!("{dir}.md"));
        assert!(chapter.is_file(), "{} exists", chapter.display());
        assert!(
            exercise
                .info
                .hint
                .at(1)
                .is_some_and(|hint| !hint.is_empty()),
            "{} has a hint",
            exercise.name()
        );
    }
}
