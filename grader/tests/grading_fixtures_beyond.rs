#![cfg(feature = "instructor")]
//! The broken programs of exercises 07 guard and 08 ring each fail exactly the check about
//! their flaw; grading them leaves no segment and no process on the machine.

mod grading_common;

use grader::grade::grade_program;
use grader::report::ExerciseStatus;
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

#[test]
fn ring_off_by_one_at_the_wrap_fails_the_delivery_checks() {
    fails_exactly(
        "ring",
        "ring-off-by-one-at-the-wrap",
        &[DELIVERY, "large messages arrive intact too"],
    );
}

const LARGE: &str = "large messages arrive intact too";

/// Grades a ring fixture whose flaw is a race: it fails `must` in every grading, and no check
/// but the two delivery checks (the other may or may not catch it, depending on the timing).
fn fails_delivery(program: &str, must: &str) {
    let fixture = fixture(program);
    let before = host_segments();
    let result = grade_program(&options(), &exercise("ring"), &fixture.path);
    assert_no_new_segment(&before);
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

/// What the grader cannot see, said by a test so that the book promises no more: with every
/// counter access `Relaxed`, nothing orders a slot's bytes with the counter that publishes
/// them, yet x86 keeps stores in order and an unoptimised build does not move them, so every
/// message arrives and the program gets full marks. (On a weakly ordered CPU, such as ARM, it
/// may not; the test is for x86 only.) The ring chapter says so.
#[cfg(target_arch = "x86_64")]
#[test]
fn ring_with_relaxed_counters_passes_on_x86_as_the_chapter_warns() {
    let fixture = fixture("ring-relaxed-only");
    let before = host_segments();
    let result = grade_program(&options(), &exercise("ring"), &fixture.path);
    assert_no_new_segment(&before);
    assert_eq!(result.status, ExerciseStatus::Passed, "{result:#?}");
}
