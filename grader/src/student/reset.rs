//! `cargo grade reset NAME`: put an exercise's `src/main.rs` back as it was shipped.
//!
//! For the student who has dug a hole and wants to start the exercise over. Only
//! `exercises/DIR/src/main.rs` is restored: it is the one file the student is asked to edit (the
//! README and Cargo.toml are the course's, not the student's work).
//!
//! The originals are embedded in the grader binary, not taken from git: a checkout may come
//! from a tarball, and a student who commits their work would otherwise "restore" their own
//! commit. They are embedded from pristine copies (`src/student/originals/DIR/main.rs`, listed
//! from `info.toml` by `build.rs`), not from `exercises/` itself: including the student's file
//! would make every save of it rebuild the grader with the edited text as the "original".
//!
//! Resetting destroys work, so it asks first (`[y/N]`, default no). `--yes` skips the question;
//! without a terminal to ask on and without `--yes`, it refuses rather than guess.

use std::fs;
use std::io::{self, BufRead, IsTerminal as _, Write};
use std::path::Path;

use anyhow::{Context as _, bail};

use super::ExerciseInfo;
use super::state::State;
use crate::info::find_exercise;

/// An original stub, as embedded by `build.rs`.
#[derive(Debug)]
pub struct OriginalStub {
    /// The exercise's folder, e.g. `01-create`.
    pub dir: &'static str,
    /// The shipped `src/main.rs`; `None` if `build.rs` found no pristine copy for it.
    pub main_rs: Option<&'static str>,
}

// Defines `ORIGINAL_STUBS: &[OriginalStub]`, one entry per exercise of info.toml, in order.
include!(concat!(env!("OUT_DIR"), "/original_stubs.rs"));

/// The shipped `src/main.rs` of the exercise in folder `dir`.
pub fn original_main_rs(dir: &str) -> anyhow::Result<&'static str> {
    let stub = ORIGINAL_STUBS
        .iter()
        .find(|stub| stub.dir == dir)
        .with_context(|| format!("this grader has no original stub for exercises/{dir}: it was built before the exercise was added to info.toml"))?;
    stub.main_rs.with_context(|| {
        format!(
            "this grader was built without a copy of exercises/{dir}/src/main.rs; \
             run `SHMLAB_BLESS=1 cargo test -p grader --test student_originals` in the course repository"
        )
    })
}

/// How to confirm a reset.
pub enum Confirmation<'a> {
    /// `--yes`: do not ask.
    Given,
    /// Ask on `output` and read the answer from `input`.
    Ask {
        input: &'a mut dyn BufRead,
        output: &'a mut dyn Write,
    },
    /// Nobody to ask (input is not a terminal) and no `--yes`: refuse.
    Impossible,
}

/// What [`reset_exercise`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetOutcome {
    /// The file was rewritten with the original text.
    Restored,
    /// The file already had the original text; nothing to ask, nothing written.
    AlreadyOriginal,
    /// The student answered no (or nothing).
    Cancelled,
}

/// Restores `exercises/DIR/src/main.rs` under `root` to `original` after confirmation, and
/// forgets in `state` that the exercise passed (the caller saves `state`).
///
/// Errors: refusal without a way to confirm, and failures to read or write the file.
pub fn reset_exercise(
    root: &Path,
    exercise: &ExerciseInfo,
    original: &str,
    confirmation: Confirmation<'_>,
    state: &mut State,
) -> anyhow::Result<ResetOutcome> {
    let relative = exercise.main_rs();
    let path = root.join(&relative);
    let current = match fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(err).with_context(|| format!("Failed to read {}", path.display())),
    };
    if current.as_deref() == Some(original) {
        state.record(&exercise.name, false);
        return Ok(ResetOutcome::AlreadyOriginal);
    }

    match confirmation {
        Confirmation::Given => {}
        Confirmation::Impossible => bail!(
            "not resetting {}: that would erase your changes, and there is no terminal to ask \
             for confirmation on. Run `cargo grade reset {} --yes` to reset it anyway.",
            relative.display(),
            exercise.name
        ),
        Confirmation::Ask { input, output } => {
            write!(
                output,
                "Reset {} to the original stub? Your changes will be lost. [y/N] ",
                relative.display()
            )
            .and_then(|()| output.flush())
            .context("Failed to ask for confirmation")?;
            let mut answer = String::new();
            input
                .read_line(&mut answer)
                .context("Failed to read the answer")?;
            if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                return Ok(ResetOutcome::Cancelled);
            }
        }
    }

    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("Failed to create {}", parent.display()))?;
    }
    fs::write(&path, original).with_context(|| format!("Failed to write {}", path.display()))?;
    state.record(&exercise.name, false);
    Ok(ResetOutcome::Restored)
}

/// `cargo grade reset NAME [--yes]`, for the CLI: asks on the terminal (unless `yes`), resets,
/// saves the progress and says what happened. Errors carry what to do next.
pub fn reset_command(
    root: &Path,
    exercises: &[ExerciseInfo],
    name: &str,
    yes: bool,
) -> anyhow::Result<()> {
    let exercise = find_exercise(exercises, name)?;
    let original = original_main_rs(&exercise.dir)?;
    let loaded = State::load(root);
    if let Some(warning) = &loaded.warning {
        eprintln!("warning: {warning}");
    }
    let mut state = loaded.state;

    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut output = io::stdout();
    let confirmation = if yes {
        Confirmation::Given
    } else if io::stdin().is_terminal() {
        Confirmation::Ask {
            input: &mut input,
            output: &mut output,
        }
    } else {
        Confirmation::Impossible
    };
    let outcome = reset_exercise(root, exercise, original, confirmation, &mut state)?;
    state.save(root)?;
    let relative = exercise.main_rs();
    match outcome {
        ResetOutcome::Restored => println!("Reset {} to its original text.", relative.display()),
        ResetOutcome::AlreadyOriginal => {
            println!("{} already has its original text.", relative.display())
        }
        ResetOutcome::Cancelled => println!(
            "Not reset: you answered no, so your changes to {} are kept.",
            relative.display()
        ),
    }
    Ok(())
}
