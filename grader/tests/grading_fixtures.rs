#![cfg(feature = "instructor")]
//! Each broken program (grader/fixtures) fails exactly the checks about its flaw, with a
//! message that names it; and grading it leaves no segment and no process on the machine.

mod grading_common;

use grader::grade::grade_program;
use grading_common::*;

#[test]
fn wrong_size_fails_the_size_check() {
    let result = grade_fixture("create", "create-wrong-size");
    assert_eq!(
        failed_checks(&result),
        ["the segment has key 0x2706 and 1024 bytes"]
    );
    assert_eq!(
        message_of(&result, "the segment has key 0x2706 and 1024 bytes"),
        "the segment has 512 bytes; expected 1024"
    );
    assert_eq!(result.points, 9.0);
}

#[test]
fn wrong_mode_fails_the_mode_check() {
    let result = grade_fixture("create", "create-wrong-mode");
    assert_eq!(failed_checks(&result), ["the segment has mode 0666"]);
    assert_eq!(
        message_of(&result, "the segment has mode 0666"),
        "the segment has mode 0600; expected 0666"
    );
}

#[test]
fn segfault_fails_the_exit_checks() {
    let result = grade_fixture("create", "create-segfault");
    assert_eq!(
        failed_checks(&result),
        ["exits with status 0", "--exclusive creates a fresh segment"]
    );
    let check = check_named(&result, "exits with status 0");
    assert_eq!(
        check.actual.as_deref(),
        Some("killed by SIGSEGV (signal 11)")
    );
    assert!(
        check.message.contains("killed by SIGSEGV"),
        "{}",
        check.message
    );
}

#[test]
fn non_zero_exit_fails_the_exit_checks() {
    let result = grade_fixture("create", "create-exit-3");
    assert_eq!(
        failed_checks(&result),
        ["exits with status 0", "--exclusive creates a fresh segment"]
    );
    assert_eq!(
        message_of(&result, "exits with status 0"),
        "run 1 (no arguments) exited with status 3: expected exit status 0"
    );
}

#[test]
fn hang_is_killed_at_the_timeout_and_stops_the_exercise_there() {
    let result = grade_fixture("create", "create-hangs");
    // The main scenario hung: its work checks still count, its tidy one does not, and the
    // other tests are not run (a hanging program costs one timeout per exercise).
    assert_eq!(
        failed_checks(&result),
        [
            "exits with status 0",
            "--exclusive creates a fresh segment",
            "--exclusive fails with \"already exists\"",
            "--exclusive leaves the existing segment untouched",
            "an unknown argument is a usage error"
        ]
    );
    let check = check_named(&result, "exits with status 0");
    assert_eq!(
        check.actual.as_deref(),
        Some("still running after 2 s: killed by the grader")
    );
    assert_eq!(
        message_of(&result, "an unknown argument is a usage error"),
        "not run: in the main scenario run 1 (no arguments) was still running after 2 s: \
         killed by the grader"
    );
    assert!(
        result.message.ends_with("so its other tests were not run"),
        "{}",
        result.message
    );
}

#[test]
fn flood_of_output_fails_the_output_checks_and_is_capped() {
    let result = grade_fixture("create", "create-floods-stdout");
    assert_eq!(
        failed_checks(&result),
        [
            "prints the id of the segment it created",
            "a second run finds the same segment",
            "--exclusive creates a fresh segment"
        ]
    );
    let message = message_of(&result, "prints the id of the segment it created");
    assert!(
        message.starts_with("run 1 (no arguments) printed 6710890")
            && message.ends_with("bytes on stdout; expected 1 line(s)"),
        "{message}"
    );
    let check = check_named(&result, "prints the id of the segment it created");
    let shown = check.output.as_deref().unwrap_or("");
    assert!(
        shown.lines().count() < 50,
        "the report caps the output: {} lines",
        shown.lines().count()
    );
}

#[test]
fn printing_without_writing_fails_the_contents_check() {
    let result = grade_fixture("attach", "attach-no-write");
    assert_eq!(
        failed_checks(&result),
        ["the segment holds the sentence and its NUL"]
    );
    let check = check_named(&result, "the segment holds the sentence and its NUL");
    assert_eq!(check.message, "the segment does not hold the sentence");
    assert_eq!(
        check.actual.as_deref(),
        Some("\"###################################\"")
    );
}

#[test]
fn lines_out_of_order_fail_the_output_check() {
    let result = grade_fixture("attach", "attach-out-of-order");
    assert_eq!(
        failed_checks(&result),
        ["prints the id and the sentence read back"]
    );
    assert_eq!(
        message_of(&result, "prints the id and the sentence read back"),
        "the program printed the right lines in the wrong order"
    );
}

#[test]
fn leaked_segment_fails_the_removal_checks() {
    let result = grade_fixture("parent-child", "parent-child-leaks");
    // It leaks on every path, the refused-call path too.
    assert_eq!(
        failed_checks(&result),
        [
            "removes the segment",
            "leaves no segment behind",
            "reports a refused shmat or fork, exits 1 and leaves nothing"
        ]
    );
    // Run 1 of: the first run, one per schedule, the pinned repeats.
    let message = message_of(&result, "removes the segment");
    assert!(
        message.starts_with("the segment was not removed (no IPC_RMID) (in run 1 of "),
        "{message}"
    );
    assert_eq!(
        message_of(&result, "leaves no segment behind"),
        "1 segment(s) left behind (key 0x6019)"
    );
}

#[test]
fn child_not_waited_for_fails_the_wait_check() {
    let result = grade_fixture("parent-child", "parent-child-no-wait");
    assert_eq!(failed_checks(&result), ["waits for its child"]);
    let message = message_of(&result, "waits for its child");
    assert!(
        message.contains("1 child process(es) ended without being waited for: parent-child-no"),
        "{message}"
    );
}

#[test]
fn process_left_running_fails_the_process_check() {
    let result = grade_fixture("parent-child", "parent-child-stray");
    // The stray process is a second fork of the program: the trace counts it.
    assert_eq!(
        failed_checks(&result),
        [
            "forks one child, which prints the child's line",
            "leaves no process running"
        ]
    );
    let message = message_of(&result, "leaves no process running");
    assert!(
        message.contains("1 process(es) still running after it exited (killed by the grader)"),
        "{message}"
    );
}

#[test]
fn fork_bomb_is_contained() {
    let result = grade_fixture("parent-child", "parent-child-fork-bomb");
    assert_eq!(failed_checks(&result), ["leaves no process running"]);
    let message = message_of(&result, "leaves no process running");
    assert!(
        message.contains("process(es) still running after it exited"),
        "{message}"
    );
    assert!(
        message.contains("more"),
        "a long list of processes is cut short: {message}"
    );
}

#[test]
fn sleeping_instead_of_waiting_fails_the_sleep_check() {
    let result = grade_fixture("ping-pong", "ping-pong-sleeps");
    // The sleep calls, and a schedule that holds a child longer than the other sleeps: the
    // order breaks, and the last turn stored may then be child 1's (either way).
    let failed: Vec<&str> = failed_checks(&result)
        .into_iter()
        .filter(|check| *check != "the segment ends with turn 2 and the answer")
        .collect();
    assert_eq!(
        failed,
        [
            "prints the four lines in causal order, with the real id",
            "takes turns without sleeping"
        ]
    );
    let check = check_named(&result, "takes turns without sleeping");
    // Child 2's sleep (0.5 s, at its start) returns first; child 1's (1 s) after.
    assert!(
        check.message.starts_with("child 2 called ")
            && check
                .message
                .contains("sleep: sleeping orders the processes only on a quiet machine"),
        "{}",
        check.message
    );
    let calls = check.trace.as_deref().unwrap_or_default();
    assert!(
        calls.contains("sleep(0.500 s) = 0") && calls.contains("sleep(1.000 s) = 0"),
        "{calls}"
    );
}

#[test]
fn an_unflushed_prompt_is_named() {
    let fixture = fixture("sized-no-flush");
    let before = host_segments();
    let mut options = options();
    // Every dialog waits for the prompt until the timeout: keep it short.
    options.timeout = std::time::Duration::from_millis(300);
    let result = grade_program(&options, &exercise("sized"), &fixture.path);
    assert_no_new_segment(&before);
    assert_eq!(processes_running(&fixture.path), Vec::<i32>::new());
    // It hangs in the main scenario: nothing counts, and the other tests are not run.
    assert_eq!(result.points, 0.0);
    assert_eq!(
        message_of(&result, "creates no segment on bad input"),
        "not run: in the main scenario the program never showed the prompt \"Enter the size \
         of shared memory: \" (print it, then flush stdout: the grader types only once it sees \
         it) and was still running after 0.3 s: killed by the grader"
    );
    let message = message_of(&result, "prompts and exits with status 0");
    assert_eq!(
        message,
        "the program never showed the prompt \"Enter the size of shared memory: \" (print it, then \
         flush stdout: the grader types only once it sees it) and was still running after 0.3 s: \
         killed by the grader: expected exit status 0"
    );
}

/// sized's checks of bad input, one per kind.
const SIZED_REJECTIONS: [&str; 6] = [
    "rejects end of file",
    "rejects an empty or blank line",
    "rejects what is not a whole number",
    "rejects a negative size",
    "rejects 0",
    "rejects a number too large to hold",
];

#[test]
fn a_prompt_on_stderr_and_errors_on_stdout_fail_though_the_terminal_looks_right() {
    // The dialog runs on a terminal, which shows both streams as one: only the trace's writes
    // tell which went where.
    let result = grade_fixture("sized", "sized-swaps-streams");
    let failed = failed_checks(&result);
    assert_eq!(failed[0], "prompts and exits with status 0", "{failed:?}");
    assert_eq!(
        message_of(&result, "prompts and exits with status 0"),
        "the prompt went to stderr; print it on stdout (print!, not eprint!)"
    );
    for rejection in SIZED_REJECTIONS {
        assert!(failed.contains(&rejection), "{rejection}: {failed:?}");
    }
    assert_eq!(
        message_of(&result, "rejects 0"),
        "run 9 (typing \"0\\n\"): its error message went to stdout; print it on stderr \
         (eprintln!, not println!)"
    );
}

#[test]
fn accepting_bad_input_fails_every_rejection_check() {
    let result = grade_fixture("sized", "sized-accepts-bad-input");
    assert_eq!(failed_checks(&result), SIZED_REJECTIONS);
    assert_eq!(
        message_of(&result, "rejects end of file"),
        "run 1 (typing \"\") exited with status 0: expected exit status 1"
    );
    assert_eq!(result.points, 14.0);
}
