#![cfg(feature = "instructor")]
//! Where the kernel refuses `ptrace`, the checks that need the trace fall back to the output
//! and the end state, the report says so, and nothing that did no work passes. Forced with
//! `SHMLAB_SANDBOX_TRACE=refuse`, which the sandbox inherits: a test binary of its own, so no
//! other test runs under it.

mod grading_common;

use grader::grade::grade_program;
use grader::report::ExerciseResult;
use grading_common::*;

/// Grades fixture `program` as `exercise`, untraced, and checks the host is as it was.
fn grade_untraced(exercise_name: &str, program: &str) -> ExerciseResult {
    // SAFETY: every test of this binary sets the same value before any thread reads it.
    unsafe { std::env::set_var(grader::sandbox::TRACE_ENV, "refuse") };
    let fixture = fixture(program);
    let before = host_segments();
    let result = grade_program(&options(), &exercise(exercise_name), &fixture.path);
    assert_no_new_segment(&before);
    assert_eq!(processes_running(&fixture.path), Vec::<i32>::new());
    let isolation = result
        .isolation
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        isolation.contains("; no system-call trace (ptrace(PTRACE_SEIZE) was refused"),
        "the isolation line says why: {isolation}"
    );
    result
}

#[test]
fn an_empty_program_still_earns_nothing() {
    for exercise_name in ["attach", "parent-child", "ping-pong", "sized"] {
        let result = grade_untraced(exercise_name, "empty");
        assert_eq!(result.points, 0.0, "{exercise_name}: {result:#?}");
    }
}

#[test]
fn sleeping_a_second_is_still_caught_by_the_clock() {
    let result = grade_untraced("ping-pong", "ping-pong-sleeps");
    let message = message_of(&result, "takes turns without sleeping");
    assert!(
        message.contains("without a trace, ptrace(PTRACE_SEIZE) was refused")
            && message.contains("only the clock was checked"),
        "{message}"
    );
}

#[test]
fn what_only_the_trace_shows_is_not_seen_and_the_report_says_so() {
    // Exit detaches: without the trace a forgotten shmdt cannot be seen. The fallback passes
    // it, and the isolation line (checked above) tells the reader what was not seen.
    let result = grade_untraced("attach", "attach-no-shmdt");
    assert_eq!(failed_checks(&result), Vec::<&str>::new());
}
