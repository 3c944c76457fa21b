#![cfg(feature = "instructor")]
//! The real grader behind `cargo grade watch`: one exercise, built, graded, rendered, silently.

use std::path::PathBuf;
use std::time::Duration;

use grader::build::Target;
use grader::grade::Options;
use grader::report::Source;
use grader::student::Lab;
use grader::student::lab::GraderLab;

fn lab(source: Source) -> GraderLab {
    let mut options = Options::new(PathBuf::from(env!("CARGO_BIN_EXE_grader")));
    options.repeat = 2;
    options.timeout = Duration::from_secs(5);
    let target = Target {
        source,
        root: grader::build::lab_root(),
        target_dir: None,
    };
    GraderLab::new(target, options, false).expect("the exercise table")
}

fn host_segments() -> Vec<(i32, i32)> {
    let mut segments: Vec<(i32, i32)> = grader::proc_shm::read()
        .expect("read /proc/sysvipc/shm")
        .into_iter()
        .map(|entry| (entry.key, entry.shmid))
        .collect();
    segments.sort_unstable();
    segments
}

#[test]
fn the_reference_solution_passes_with_the_usual_report() {
    let before = host_segments();
    let (passed, report) = lab(Source::Solutions)
        .grade("create")
        .expect("grading runs");
    assert!(passed, "{report}");
    assert!(
        report.contains("✓ create") && report.contains("10/10"),
        "{report}"
    );
    assert!(
        !report.contains("\x1b["),
        "no colours when not asked: {report}"
    );
    assert_eq!(
        host_segments(),
        before,
        "grading happens in private IPC namespaces"
    );
}

#[test]
fn an_untouched_stub_does_not_pass_and_says_not_started() {
    let (passed, report) = lab(Source::Exercises)
        .grade("create")
        .expect("grading runs");
    assert!(!passed, "{report}");
    assert!(report.contains("not started"), "{report}");
}

#[test]
fn an_unknown_exercise_is_an_error_naming_the_exercises() {
    let err = lab(Source::Exercises)
        .grade("nonsense")
        .expect_err("no such exercise");
    assert!(format!("{err:#}").contains("create"), "{err:#}");
}
