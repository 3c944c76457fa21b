#![cfg(feature = "instructor")]
//! The broken programs of exercises 07 guard and 08 ring each fail exactly the check about
//! their flaw; grading them leaves no segment and no process on the machine.
//!
//! The ring's checks also read its compiled code (the LLVM IR that the grader's build leaves
//! beside the executable): each ring fixture is compiled to IR too, as `cargo grade` does.

mod grading_common;

use std::sync::Mutex;

use grader::build::BuildRequest;
use grader::grade::grade_program;
use grading_common::*;

/// Grades fixture `program` as `exercise`: it fails exactly `checks`.
fn fails_exactly(exercise_name: &str, program: &str, checks: &[&str]) {
    let result = grade_fixture(exercise_name, program);
    assert_eq!(failed_checks(&result), checks, "{program}: {result:#?}");
}

#[test]
fn guard_leaking_on_the_error_path_fails_the_error_check() {
    fails_exactly(
        "guard",
        "guard-leaks-on-error",
        &["on an error, reports it and still detaches and removes"],
    );
}

#[test]
fn guard_removing_twice_fails_the_once_check() {
    fails_exactly(
        "guard",
        "guard-removes-twice",
        &["removes the segment exactly once"],
    );
}

#[test]
fn guard_detaching_after_removal_fails_the_order_check() {
    fails_exactly(
        "guard",
        "guard-detaches-after-removal",
        &["detaches the address shmat returned before removing"],
    );
}

#[test]
fn guard_leaking_on_panic_fails_the_panic_check() {
    fails_exactly(
        "guard",
        "guard-leaks-on-panic",
        &["a panic still detaches and removes"],
    );
}

const DELIVERY: &str = "the child receives every message once, in order, intact";
const ORDERING: &str = "publishes with Release and waits with Acquire (in the compiled code)";

/// Ring fixture `name`, with its compiled code beside it, as the grader's build leaves it.
fn ring_fixture(name: &str) -> Fixture {
    // One at a time: compiling to IR makes cargo put a new copy of the fixture's executable
    // in target/debug, which another test could be linking at that moment.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let fixture = fixture(name);
    let request = BuildRequest {
        workspace: root(),
        target_dir: None,
        packages: Vec::new(),
        jail: None,
    };
    grader::build::compiled::emit(&request, "grader-fixtures", name, &fixture.path)
        .expect("the fixture compiles to LLVM IR");
    fixture
}

/// Grades ring fixture `program`, asserting that grading left no segment behind.
fn grade_ring_fixture(program: &str) -> grader::report::ExerciseResult {
    let fixture = ring_fixture(program);
    let before = host_segments();
    let result = grade_program(&options(), &exercise("ring"), &fixture.path);
    assert_no_new_segment(&before);
    result
}

#[test]
fn ring_off_by_one_at_the_wrap_fails_the_delivery_checks() {
    let result = grade_ring_fixture("ring-off-by-one-at-the-wrap");
    assert_eq!(
        failed_checks(&result),
        [DELIVERY, "large messages arrive intact too"],
        "{result:#?}"
    );
}

const LARGE: &str = "large messages arrive intact too";

/// Grades a ring fixture whose flaw is a race: it fails `must` in every grading, and no check
/// but the two delivery checks (the other may or may not catch it, depending on the timing).
fn fails_delivery(program: &str, must: &str) {
    let result = grade_ring_fixture(program);
    let failed = failed_checks(&result);
    assert!(failed.contains(&must), "{program}: {result:#?}");
    assert!(
        failed
            .iter()
            .all(|check| *check == DELIVERY || *check == LARGE),
        "{program}: {failed:?}"
    );
}

/// The producer laps the consumer: with 3000 messages of 64 bytes it writes far faster than
/// the consumer, which checks and sums each one, can follow.
#[test]
fn ring_overwriting_unread_slots_fails_the_delivery_check() {
    fails_delivery("ring-overwrites-unread", DELIVERY);
}

/// The consumer reads each slot one message early. The schedule that holds the parent at its
/// `shmctl`, before it produces anything, lets the consumer read slot 0 while it is still
/// empty, in every grading; the other runs may or may not catch it.
#[test]
fn ring_reading_before_publication_fails_the_delivery_check() {
    fails_delivery("ring-reads-before-published", DELIVERY);
}

/// A bug that x86 never shows at run time: every counter access is `Relaxed` (through
/// variables named `acquire` and `release`, so the source reads as if it were right), so
/// nothing orders a slot's bytes with the counter that publishes them. Every message arrives
/// here, and only the compiled code tells: it fails the ordering check, and only that one.
#[test]
fn ring_with_relaxed_counters_fails_the_ordering_check() {
    let result = grade_ring_fixture("ring-relaxed-only");
    assert_eq!(failed_checks(&result), [ORDERING], "{result:#?}");
    let message = message_of(&result, ORDERING);
    assert!(
        message.contains("no atomic access with Release and none with Acquire"),
        "{message}"
    );
}

/// The solution, built as `cargo grade --solutions` builds it (its compiled code beside it),
/// gets full marks, the ordering check included.
#[test]
fn the_ring_solution_passes_the_ordering_check() {
    let request = BuildRequest {
        workspace: root(),
        target_dir: None,
        packages: vec!["ring-solution".to_string()],
        jail: None,
    };
    let builds = grader::build::build(&request).expect("the solution builds");
    let Some(grader::build::Built::Binary(program)) = builds.packages.get("ring-solution") else {
        panic!("no executable: {builds:#?}");
    };
    assert!(grader::build::compiled::ir_path(program).is_file());
    let before = host_segments();
    let result = grade_program(&options(), &exercise("ring"), program);
    assert_no_new_segment(&before);
    assert_eq!(failed_checks(&result), Vec::<&str>::new(), "{result:#?}");
}
