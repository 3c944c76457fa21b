//! `cargo grade reset NAME`: restores the shipped `src/main.rs`, after confirmation only.

use std::fs;
use std::io::Cursor;
use std::path::Path;

use grader::student::ExerciseInfo;
use grader::student::reset::{
    Confirmation, ORIGINAL_STUBS, ResetOutcome, original_main_rs, reset_exercise,
};
use grader::student::state::State;

const EDITED: &str = "fn main() { println!(\"my own attempt\"); }\n";

fn create() -> ExerciseInfo {
    ExerciseInfo {
        name: "create".into(),
        dir: "01-create".into(),
        hint: Default::default(),
        points: 10,
    }
}

/// A scratch checkout whose `exercises/01-create/src/main.rs` holds `EDITED`, with `create`
/// recorded as passed.
fn edited_checkout() -> (tempfile::TempDir, State) {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    let main_rs = checkout.path().join("exercises/01-create/src/main.rs");
    fs::create_dir_all(main_rs.parent().expect("a parent")).expect("create the exercise folder");
    fs::write(&main_rs, EDITED).expect("write the student's edit");
    let mut state = State::fresh();
    state.record("create", true);
    (checkout, state)
}

fn main_rs(root: &Path) -> String {
    fs::read_to_string(root.join("exercises/01-create/src/main.rs")).expect("read main.rs")
}

fn original() -> &'static str {
    original_main_rs("01-create").expect("the grader embeds the original of 01-create")
}

/// Resets with `answer` typed at the prompt; returns the outcome and what was printed.
fn reset_answering(root: &Path, state: &mut State, answer: &str) -> (ResetOutcome, String) {
    let mut input = Cursor::new(answer.as_bytes().to_vec());
    let mut output = Vec::new();
    let outcome = reset_exercise(
        root,
        &create(),
        original(),
        Confirmation::Ask {
            input: &mut input,
            output: &mut output,
        },
        state,
    )
    .expect("reset");
    (outcome, String::from_utf8(output).expect("UTF-8 prompt"))
}

#[test]
fn every_exercise_has_an_embedded_original() {
    let info: toml::Table =
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../info.toml"))
            .expect("read info.toml")
            .parse()
            .expect("parse info.toml");
    let dirs: Vec<&str> = info["exercises"]
        .as_array()
        .expect("[[exercises]]")
        .iter()
        .map(|exercise| exercise["dir"].as_str().expect("a dir"))
        .collect();
    let embedded: Vec<&str> = ORIGINAL_STUBS.iter().map(|stub| stub.dir).collect();
    assert_eq!(embedded, dirs, "one per exercise of info.toml, in order");
    for stub in ORIGINAL_STUBS {
        let text = original_main_rs(stub.dir).expect("embedded");
        assert!(text.contains("fn main"), "{}: {text}", stub.dir);
    }
    assert!(original_main_rs("99-nothing").is_err());
}

#[test]
fn yes_restores_the_original_and_forgets_the_pass() {
    let (checkout, mut state) = edited_checkout();
    let outcome = reset_exercise(
        checkout.path(),
        &create(),
        original(),
        Confirmation::Given,
        &mut state,
    )
    .expect("reset");
    assert_eq!(outcome, ResetOutcome::Restored);
    assert_eq!(main_rs(checkout.path()), original());
    assert!(!state.has_passed("create"));
}

#[test]
fn answering_y_restores() {
    for answer in ["y\n", "Y\n", "yes\n", " y \n"] {
        let (checkout, mut state) = edited_checkout();
        let (outcome, prompt) = reset_answering(checkout.path(), &mut state, answer);
        assert_eq!(outcome, ResetOutcome::Restored, "for {answer:?}");
        assert!(
            prompt.contains("exercises/01-create/src/main.rs") && prompt.ends_with("[y/N] "),
            "{prompt}"
        );
        assert_eq!(main_rs(checkout.path()), original());
    }
}

#[test]
fn anything_else_is_no_and_changes_nothing() {
    // The default (Enter), an explicit no, something else, and the end of input.
    for answer in ["\n", "n\n", "no\n", "maybe\n", ""] {
        let (checkout, mut state) = edited_checkout();
        let (outcome, _) = reset_answering(checkout.path(), &mut state, answer);
        assert_eq!(outcome, ResetOutcome::Cancelled, "for {answer:?}");
        assert_eq!(main_rs(checkout.path()), EDITED);
        assert!(
            state.has_passed("create"),
            "a cancelled reset keeps the progress"
        );
    }
}

#[test]
fn without_a_terminal_and_without_yes_it_refuses_and_says_how() {
    let (checkout, mut state) = edited_checkout();
    let err = reset_exercise(
        checkout.path(),
        &create(),
        original(),
        Confirmation::Impossible,
        &mut state,
    )
    .expect_err("refuses");
    let message = format!("{err:#}");
    assert!(
        message.contains("no terminal") && message.contains("cargo grade reset create --yes"),
        "{message}"
    );
    assert_eq!(main_rs(checkout.path()), EDITED);
    assert!(state.has_passed("create"));
}

#[test]
fn an_unchanged_file_needs_no_question() {
    let (checkout, mut state) = edited_checkout();
    fs::write(
        checkout.path().join("exercises/01-create/src/main.rs"),
        original(),
    )
    .expect("write the original");
    // Even with nobody to ask, there is nothing to lose.
    let outcome = reset_exercise(
        checkout.path(),
        &create(),
        original(),
        Confirmation::Impossible,
        &mut state,
    )
    .expect("nothing to refuse");
    assert_eq!(outcome, ResetOutcome::AlreadyOriginal);
    assert_eq!(main_rs(checkout.path()), original());
    assert!(!state.has_passed("create"));
}

#[test]
fn a_deleted_file_is_recreated() {
    let (checkout, mut state) = edited_checkout();
    fs::remove_dir_all(checkout.path().join("exercises/01-create/src")).expect("delete src/");
    let outcome = reset_exercise(
        checkout.path(),
        &create(),
        original(),
        Confirmation::Given,
        &mut state,
    )
    .expect("reset");
    assert_eq!(outcome, ResetOutcome::Restored);
    assert_eq!(main_rs(checkout.path()), original());
}

#[test]
fn the_command_with_yes_restores_and_saves_the_progress() {
    let (checkout, state) = edited_checkout();
    state.save(checkout.path()).expect("save the progress");
    let exercises = grader::student::builtin_exercises().expect("info.toml");
    grader::student::reset::reset_command(checkout.path(), &exercises, "create", true)
        .expect("reset");
    assert_eq!(main_rs(checkout.path()), original());
    assert!(!State::load(checkout.path()).state.has_passed("create"));
}

#[test]
fn the_command_names_the_exercises_when_the_name_is_wrong() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    let exercises = grader::student::builtin_exercises().expect("info.toml");
    let err = grader::student::reset::reset_command(checkout.path(), &exercises, "creat", true)
        .expect_err("no such exercise");
    assert!(
        format!("{err:#}").contains("the exercises are: create, attach"),
        "{err:#}"
    );
}
