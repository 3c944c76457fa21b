#![cfg(feature = "instructor")]
//! The bugs of issue 7, each a fixture (grader/fixtures) that gets one thing wrong, and what the
//! system-call lens makes of them: each fails exactly the checks about its flaw, in every
//! grading (the racy ones are regraded 20 times, on the one test that matters); the solutions
//! pass every time; empty and hanging programs earn nothing. Grading leaves the machine as it
//! found it.
//!
//! These tests need the lens's trace (ptrace in the sandbox). Where the kernel refuses it, the
//! grader falls back to the end state and says so; [`traced`] makes these tests fail loudly
//! then instead of passing on what they could not see.

mod grading_common;

use grader::exercises::Exercise;
use grader::grade::grade_program;
use grader::report::{CheckResult, CheckStatus, ExerciseResult};
use grading_common::*;

/// Gradings of a racy fixture: each must fail the same checks.
const REGRADES: usize = 20;

/// Grades fixture `program` as `exercise` (only the tests named in `tests`, if any) and checks
/// that the host is as it was.
fn grade(exercise_name: &str, tests: &[&str], program: &str) -> ExerciseResult {
    let fixture = fixture(program);
    let before = host_segments();
    let result = grade_program(&options(), &only(exercise_name, tests), &fixture.path);
    assert_no_new_segment(&before);
    assert_eq!(
        processes_running(&fixture.path),
        Vec::<i32>::new(),
        "{program} left processes on the host"
    );
    traced(&result);
    result
}

/// The exercise with only the tests named (all of them if none is).
fn only(exercise_name: &str, tests: &[&str]) -> Exercise {
    let mut exercise = exercise(exercise_name);
    if !tests.is_empty() {
        exercise.tests.retain(|test| tests.contains(&test.name));
        assert_eq!(
            exercise.tests.len(),
            tests.len(),
            "unknown test in {tests:?}"
        );
    }
    exercise
}

/// Fails when the runs were not traced: these tests are about what the trace shows.
fn traced(result: &ExerciseResult) {
    let isolation = result.isolation.as_ref().expect("the runs took place");
    assert!(
        isolation.untraced.is_none(),
        "the lens could not trace here ({isolation}): these tests need ptrace"
    );
}

/// Grades `program` `times` times and asserts that it fails exactly `failing`, every time.
fn fails_exactly(
    exercise_name: &str,
    tests: &[&str],
    program: &str,
    failing: &[&str],
    times: usize,
) -> ExerciseResult {
    let mut last = None;
    for grading in 1..=times {
        let result = grade(exercise_name, tests, program);
        assert_eq!(
            failed_checks(&result),
            failing,
            "{program}, grading {grading} of {times}: {result:#?}"
        );
        last = Some(result);
    }
    last.expect("at least one grading")
}

/// Every exercise of the lab, from info.toml.
fn every_exercise() -> Vec<String> {
    grader::info::Info::builtin()
        .expect("info.toml")
        .exercises
        .into_iter()
        .map(|exercise| exercise.name)
        .collect()
}

const PARENT_CHILD_MAIN: &str = "the child's value reaches the parent";
const PARENT_CHILD_POKE: &str = "the grader changes the value once the child has ended";
const PING_PONG_MAIN: &str = "the children take turns";

#[test]
fn a_hard_coded_id_fails_the_id_check() {
    let result = fails_exactly(
        "create",
        &[],
        "create-prints-zero",
        &["prints the id of the segment it created"],
        1,
    );
    let message = message_of(&result, "prints the id of the segment it created");
    assert!(
        message.starts_with("the program printed id 0, but shmget returned ")
            && message.contains("so a fixed number is wrong"),
        "{message}"
    );
}

#[test]
fn attach_without_shmdt_fails_on_either_path() {
    let result = fails_exactly(
        "attach",
        &[],
        "attach-no-shmdt",
        &["attaches and detaches the segment"],
        1,
    );
    let check = check_named(&result, "attaches and detaches the segment");
    assert!(
        check
            .message
            .starts_with("the program exited with the segment still attached at 0x"),
        "{}",
        check.message
    );
    let calls = check.trace.as_deref().unwrap_or_default();
    assert!(
        calls.contains("[the program] shmat(") && calls.contains("+++ exited with 0 +++"),
        "{calls}"
    );
    fails_exactly(
        "attach",
        &[],
        "attach-no-shmdt-too-small",
        &["detaches on that path too"],
        1,
    );
}

#[test]
fn no_fork_and_one_child_fail_the_fork_check() {
    let result = fails_exactly(
        "parent-child",
        &[],
        "parent-child-no-fork",
        &["forks one child, which prints the child's line"],
        1,
    );
    assert!(
        message_of(&result, "forks one child, which prints the child's line")
            .starts_with("the program forked no process"),
    );
    let fork_check = "forks two children, each printing its own lines";
    fails_exactly("ping-pong", &[], "ping-pong-no-fork", &[fork_check], 1);
    let result = fails_exactly("ping-pong", &[], "ping-pong-one-child", &[fork_check], 1);
    let message = message_of(&result, fork_check);
    assert!(
        message.starts_with("the program forked 1 process(es); the spec asks for 2 (in run 1 of "),
        "{message}"
    );
}

#[test]
fn a_parent_printing_the_number_it_expects_fails_the_poke() {
    let check = "the parent reads the segment after waitpid";
    let result = fails_exactly(
        "parent-child",
        &[],
        "parent-child-prints-number",
        &[check],
        1,
    );
    let message = message_of(&result, check);
    assert!(
        message.starts_with("the grader wrote ")
            && message
                .contains(" into the segment when child 1 ended; the parent did not print it"),
        "{message}"
    );
}

#[test]
fn a_parent_reading_before_waitpid_fails_in_every_grading() {
    let result = fails_exactly(
        "parent-child",
        &[PARENT_CHILD_MAIN, PARENT_CHILD_POKE],
        "parent-child-reads-before-wait",
        &[
            "prints the child's line, then the parent's",
            "the parent reads the segment after waitpid",
        ],
        REGRADES,
    );
    let check = check_named(&result, "prints the child's line, then the parent's");
    assert!(
        check
            .advice
            .as_deref()
            .is_some_and(|advice| advice.contains("synchronisation")),
        "{check:#?}"
    );
}

#[test]
fn a_child_printing_before_it_writes_fails_in_every_grading() {
    let check = "the child prints its line once 37892 is in the segment";
    let result = fails_exactly(
        "parent-child",
        &[PARENT_CHILD_MAIN],
        "parent-child-prints-before-writing",
        &[check],
        REGRADES,
    );
    assert_shows(
        check_named(&result, check),
        "child 1 printed \"child: 37892\" while the segment still held 0",
        "[child 1] write(1, \"child: 37892\\n\"",
    );
}

#[test]
fn a_parent_that_never_waits_fails_in_every_grading() {
    // Held at its shmat, the child runs only once the parent is gone: the parent prints 0, and
    // the child, reaped by init, is killed with the run or not, before or after its write
    // landed (so those two checks may go either way; they are about the same flaw).
    let required = [
        "prints the child's line, then the parent's",
        "waits for its child",
    ];
    let either_way = [
        "the child wrote 37892 into the segment",
        "leaves no process running",
    ];
    for grading in 1..=REGRADES {
        let result = grade("parent-child", &[PARENT_CHILD_MAIN], "parent-child-racy");
        let failed: Vec<&str> = failed_checks(&result)
            .into_iter()
            .filter(|check| !either_way.contains(check))
            .collect();
        assert_eq!(failed, required, "grading {grading}: {result:#?}");
    }
}

#[test]
fn passing_the_turn_before_printing_fails_in_every_grading_and_names_the_schedule() {
    let output = "prints the four lines in causal order, with the real id";
    for (fixture, held) in [
        ("ping-pong-turn-before-print-1", "with child 1's "),
        ("ping-pong-turn-before-print-2", "with child 2's "),
    ] {
        let result = fails_exactly("ping-pong", &[PING_PONG_MAIN], fixture, &[output], REGRADES);
        let check = check_named(&result, output);
        assert!(
            check.message.contains(held) && check.message.contains(" held "),
            "{fixture}: the schedule is named: {}",
            check.message
        );
        assert!(
            check
                .advice
                .as_deref()
                .is_some_and(|advice| advice.contains("synchronisation")),
            "{fixture}: {check:#?}"
        );
    }
}

#[test]
fn a_child_printing_wrote_before_it_writes_fails_in_every_grading() {
    let check = "writes each message before printing the line that says so";
    for (fixture, line) in [
        (
            "ping-pong-prints-before-writing-1",
            "child 1 printed \"child 1 wrote: Is this the shared memory ID: ",
        ),
        (
            "ping-pong-prints-before-writing-2",
            "child 2 printed \"child 2 wrote: Yes, this is shared memory ID: ",
        ),
    ] {
        let result = fails_exactly("ping-pong", &[PING_PONG_MAIN], fixture, &[check], REGRADES);
        let message = message_of(&result, check);
        assert!(
            message.starts_with(line) && message.contains("while the segment still held \""),
            "{fixture}: {message}"
        );
    }
}

#[test]
fn a_turn_never_reset_fails_in_every_grading() {
    fails_exactly(
        "ping-pong",
        &[PING_PONG_MAIN],
        "ping-pong-no-reset",
        &[
            "exits with status 0",
            "prints the four lines in causal order, with the real id",
            "the segment ends with turn 2 and the answer",
        ],
        REGRADES,
    );
}

#[test]
fn ordering_by_short_sleeps_fails_in_every_grading() {
    let result = fails_exactly(
        "ping-pong",
        &[PING_PONG_MAIN],
        "ping-pong-sleeps-a-little",
        // A schedule that holds a child longer than the other sleeps shows the race too.
        &[
            "prints the four lines in causal order, with the real id",
            "the segment ends with turn 2 and the answer",
            "takes turns without sleeping",
        ],
        REGRADES,
    );
    let lines = check_named(
        &result,
        "prints the four lines in causal order, with the real id",
    );
    eprintln!("sleeps-a-little: {}", lines.message);
    let check = check_named(&result, "takes turns without sleeping");
    assert!(
        check
            .advice
            .as_deref()
            .is_some_and(|advice| advice.contains("never sleep")),
        "{check:#?}"
    );
}

#[test]
fn leaking_the_segment_when_shmat_fails_is_caught_by_injection() {
    let check = "reports a refused shmat or shmget, exits 1 and leaves nothing";
    let result = fails_exactly(
        "sized",
        &["typing 64, the kernel refuses shmat, then shmget"],
        "sized-leaks-when-shmat-fails",
        &[check],
        1,
    );
    assert_shows(
        check_named(&result, check),
        "was created and never removed on this path",
        "(INJECTED ENOMEM)",
    );
}

/// Asserts that a check's message says `message` and the calls it shows include `calls`.
fn assert_shows(check: &CheckResult, message: &str, calls: &str) {
    assert!(check.message.contains(message), "{}", check.message);
    assert!(
        check
            .trace
            .as_deref()
            .is_some_and(|shown| shown.contains(calls)),
        "{check:#?}"
    );
}

/// The reference solution of `exercise_name`, built.
fn solution_binary(exercise_name: &str) -> std::path::PathBuf {
    use grader::build::{Target, build_programs};
    use grader::grade::Program;
    let exercise = exercise(exercise_name);
    let target = Target {
        source: grader::report::Source::Solutions,
        root: root(),
        target_dir: None,
    };
    let (programs, _) = build_programs(&target, &[&exercise]).expect("cargo runs");
    match programs.into_iter().next() {
        Some(Program::Binary(path)) => path,
        other => panic!("the {exercise_name} solution did not build: {other:?}"),
    }
}

#[test]
fn the_solutions_pass_the_race_tests_every_time() {
    for (exercise_name, test) in [
        ("parent-child", PARENT_CHILD_MAIN),
        ("ping-pong", PING_PONG_MAIN),
    ] {
        let program = solution_binary(exercise_name);
        for grading in 1..=REGRADES {
            let result = grade_program(&options(), &only(exercise_name, &[test]), &program);
            traced(&result);
            assert_eq!(
                failed_checks(&result),
                Vec::<&str>::new(),
                "{exercise_name}, grading {grading}: {result:#?}"
            );
        }
    }
}

/// ping-pong's solution with one flaw: it waits for the turn with a plain read of the turn,
/// through a raw pointer (the only non-atomic path sysv leaves: its reads are atomic), in a
/// loop that makes no call. Unoptimised it passes; optimised the read is made once, before the
/// loop, and the waiting child spins forever.
const PLAIN_READ_WAIT: &str =
    "fn wait_for_turn(turn: &AtomicU32, wanted: u32) -> Result<(), String> {
    let turn = turn.as_ptr().cast_const();
    // SAFETY: none, and that is the flaw: a plain read racing the other child's store.
    while unsafe { turn.read() } != wanted {}
    Ok(())
}
";

#[test]
fn a_plain_read_wait_loop_hangs_once_optimised_in_every_grading() {
    let lesson = "waits on the segment with atomic loads (a plain read loop hangs once optimised)";
    // A submission holding the flawed copy, built as every submission is (the build jail, the
    // lab's profile: ping-pong optimised).
    let solution = std::fs::read_to_string(root().join("solutions/04-ping-pong/src/main.rs"))
        .expect("the ping-pong solution");
    let start = solution.find("fn wait_for_turn(").expect("wait_for_turn");
    let end = start + solution[start..].find("\n}\n").expect("its end") + 3;
    let flawed = format!(
        "{}{PLAIN_READ_WAIT}{}",
        &solution[..start],
        &solution[end..]
    );
    let submission = tempfile::tempdir().expect("a folder");
    let src = submission.path().join("exercises/04-ping-pong/src");
    std::fs::create_dir_all(&src).expect("its src folder");
    std::fs::write(src.join("main.rs"), flawed).expect("the flawed program");
    let exercise = only("ping-pong", &[PING_PONG_MAIN]);
    let built = grader::build::build_submission(submission.path(), &[&exercise], &grader_exe())
        .expect("the submission builds");
    let program = match &built.programs[..] {
        [grader::grade::Program::Binary(program)] => program.clone(),
        other => panic!("the flawed ping-pong did not build: {other:?}"),
    };
    let mut first = None;
    for grading in 1..=REGRADES {
        let before = host_segments();
        let result = grade_program(&options(), &exercise, &program);
        assert_no_new_segment(&before);
        assert_eq!(processes_running(&program), Vec::<i32>::new());
        traced(&result);
        let failed: Vec<String> = failed_checks(&result)
            .into_iter()
            .map(String::from)
            .collect();
        assert!(
            failed.iter().any(|check| check == lesson),
            "grading {grading}: {result:#?}"
        );
        let message = message_of(&result, lesson);
        assert!(
            message.contains(" was still waiting for turn ")
                && message.contains("its loop never read the turn again"),
            "{message}"
        );
        // The same checks fail every time (the hang's other consequences included), but the
        // segment's end state: which child spins depends on which read the turn first.
        let failed: Vec<String> = failed
            .into_iter()
            .filter(|check| check != "the segment ends with turn 2 and the answer")
            .collect();
        if grading == 1 {
            eprintln!("plain read, optimised: {message}\nfailed: {failed:?}");
        }
        assert_eq!(first.get_or_insert_with(|| failed.clone()), &failed);
    }
}

#[test]
fn an_empty_program_earns_nothing_anywhere() {
    for exercise_name in every_exercise() {
        let exercise_name = exercise_name.as_str();
        let result = grade(exercise_name, &[], "empty");
        assert_eq!(result.points, 0.0, "{exercise_name}: {result:#?}");
        let tidy = result
            .checks
            .iter()
            .find(|check| check.message.starts_with("not counted: the main scenario"));
        if exercise_name != "remove" {
            assert!(tidy.is_some(), "{exercise_name}: the tidy checks say why");
        }
    }
}

#[test]
fn a_program_that_hangs_earns_nothing_and_runs_once_per_exercise() {
    for exercise_name in every_exercise() {
        let exercise_name = exercise_name.as_str();
        let result = grade(exercise_name, &[], "hangs");
        assert_eq!(result.points, 0.0, "{exercise_name}: {result:#?}");
        // Only the main scenario ran (once: no repeat, no schedule); the rest say why not.
        for check in result
            .checks
            .iter()
            .filter(|check| check.status != CheckStatus::Passed)
        {
            assert!(
                check.runs <= 1,
                "{exercise_name}: {} ran {} times",
                check.name,
                check.runs
            );
        }
        assert!(
            result.message.contains("was still running after 2 s"),
            "{exercise_name}: the report names the run that hit the timeout: {}",
            result.message
        );
    }
}
