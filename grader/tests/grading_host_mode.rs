#![cfg(feature = "instructor")]
//! Grading when namespaces are not available (the sandbox's host mode, forced here): it still
//! grades, says so, and when it cannot run safely (a key in use) the exercise is a grader
//! error, exit status 2, rather than a student's failure. Runs in a private IPC namespace that
//! plays the machine's, so the lab's keys on the real machine are never touched.

mod grading_common;

use grader::build::{Target, build_programs};
use grader::exercises::{self, Exercise};
use grader::grade::{Program, grade_exercises};
use grader::report::{CheckStatus, ExerciseStatus, Report, Source};
use grader::report::{EXIT_GRADER_ERROR, exit_status};
use grader::sandbox::Tier;
use grading_common::*;
use sysv::{Mode, ShmgetFlag};

fn grade_in_host_mode(names: &[&str]) -> Report {
    let all = exercises::all().expect("the exercise table");
    let chosen: Vec<&Exercise> = all
        .iter()
        .filter(|exercise| names.contains(&exercise.name()))
        .collect();
    let target = Target {
        source: Source::Solutions,
        root: root(),
        target_dir: None,
    };
    let (programs, build_time) = build_programs(&target, &chosen).expect("cargo runs");
    let mut options = options();
    options.tier = Tier::Host;
    let work: Vec<(&Exercise, Program)> = chosen.into_iter().zip(programs).collect();
    let exercises = grade_exercises(&options, &work, |_| {});
    Report {
        source: Source::Solutions,
        root: root().display().to_string(),
        isolation: exercises
            .first()
            .and_then(|result| result.isolation.clone()),
        exercises,
        build_time,
        grade_time: Default::default(),
        submission: None,
    }
}

#[test]
fn host_mode_grades_and_says_so() {
    sysv::testing::private_ipc_namespace();
    let report = grade_in_host_mode(&["attach"]);
    assert_eq!(
        report.exercises[0].status,
        ExerciseStatus::Passed,
        "{:#?}",
        report.exercises[0]
    );
    assert_eq!(
        report
            .isolation
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("host")
    );
    assert!(
        grader::report::human::render(&report, false).contains("isolation: host: NOT A SANDBOX")
    );
    assert_eq!(
        grader::proc_shm::read().expect("the table"),
        [],
        "host mode removed what the run made"
    );
}

#[test]
fn a_key_in_use_in_host_mode_is_a_grader_error() {
    sysv::testing::private_ipc_namespace();
    let id = sysv::shmget(
        9990,
        64,
        ShmgetFlag::IPC_CREAT | ShmgetFlag::IPC_EXCL,
        Mode::from_bits_truncate(0o600),
    )
    .expect("a segment with key 9990 in this test's namespace");
    let report = grade_in_host_mode(&["create"]);
    let still_there = sysv::shmctl_stat(id).is_ok();
    sysv::shmctl_rmid(id).expect("remove the test's segment");
    assert!(still_there, "the segment in use was left alone");
    let result = &report.exercises[0];
    assert_eq!(result.status, ExerciseStatus::Error, "{result:#?}");
    assert!(
        result
            .checks
            .iter()
            .all(|check| check.status == CheckStatus::Error)
    );
    assert!(
        result.checks[0]
            .message
            .starts_with("the grader's sandbox failed: "),
        "{}",
        result.checks[0].message
    );
    assert_eq!(exit_status(&report), EXIT_GRADER_ERROR);
}
