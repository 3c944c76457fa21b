//! `cargo grade dev check`: is every exercise of `info.toml` complete, everywhere it shows?
//!
//! An exercise is data plus code in about a dozen places: its `info.toml` entry, the stub and
//! the solution crates (with the solution's tests), the grader's tests and checks
//! (`grader/src/exercises/NAME.rs` and its line in [`crate::exercises::TABLE`]), the pristine
//! copy `cargo grade reset` restores, the book chapter and its `SUMMARY.md` line, its checks in
//! the grader reference, its row in the README's and the instructor guide's tables. Each
//! place has a reader that trusts it to agree with the others. Like rustlings' `dev check`,
//! this command walks them all and says, for every piece missing or out of step, which file
//! and what to do, instead of leaving the author to discover them one failing test at a time.
//!
//! Two parts:
//! - [`layout`]: the files, read from the checkout (cheap: no build, no run). This is also
//!   where the leftovers of `cargo grade new` ([`crate::scaffold`]) are found: every file it
//!   writes holds [`scaffold::PLACEHOLDER`](crate::scaffold::PLACEHOLDER) until the author has
//!   replaced it.
//! - [`grading`]: the behaviour, by grading as `cargo grade` does: every stub must be "not
//!   started" (a stub that passes a check hands the answer over, or the check tests nothing),
//!   and every solution must get full marks.
//!
//! The command is for whoever writes the lab, not for students: it is hidden from `cargo grade
//! --help` (the students' command list stays what students use) and documented in the
//! instructor guide's "Adding an exercise". In a handout it reports the missing solutions.
//!
//! The grader's checks are Rust code compiled into the grader, so the check is only as current
//! as the grader binary: run through `cargo grade` (`cargo run -p grader`), which rebuilds it
//! from the checkout first. [`layout`] also compares the checkout's `info.toml` with the one
//! built in, and says so when they differ.

pub mod grading;
pub mod layout;

use std::fmt;
use std::process::ExitCode;

use anyhow::Result;

use crate::build::lab_root;
use crate::cli::{Cli, Command, Dev};

/// One thing missing or out of step, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The exercise concerned, if the problem belongs to one.
    pub exercise: Option<String>,
    /// The piece, named as its file (`docs/src/SUMMARY.md`) or its kind (`solution`).
    pub piece: String,
    /// What is wrong, then what to do: one or two sentences.
    pub message: String,
}

impl Problem {
    pub fn new(
        exercise: Option<&str>,
        piece: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            exercise: exercise.map(str::to_owned),
            piece: piece.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.exercise {
            Some(exercise) => write!(f, "{exercise}: {}: {}", self.piece, self.message),
            None => write!(f, "{}: {}", self.piece, self.message),
        }
    }
}

/// Runs `cargo grade new` or `cargo grade dev …` if that is the command line's command.
pub fn author_command(cli: &Cli) -> Result<Option<ExitCode>> {
    match &cli.command {
        Some(Command::New { name, points }) => {
            crate::scaffold::new_command(&lab_root(), name, *points).map(Some)
        }
        Some(Command::Dev {
            command: Dev::Check { static_only },
        }) => check_command(cli, *static_only).map(Some),
        _ => Ok(None),
    }
}

/// `dev check`'s exit status when it found a problem (0 when none; 2, as for every command,
/// when it could not check).
pub const EXIT_PROBLEMS: u8 = 1;

/// `cargo grade dev check`: prints every problem and exits 1 if there is one, 0 if none.
/// `static_only` skips the grading part.
pub fn check_command(cli: &Cli, static_only: bool) -> Result<ExitCode> {
    let root = lab_root();
    if !root.join("solutions").is_dir() {
        anyhow::bail!(
            "dev check is for the lab's authors, and {} has no solutions/ (a students' \
             handout?): run it in the instructor's checkout",
            root.display()
        );
    }
    let mut problems = layout::check(&root)?;
    let layout_problems = problems.len();
    if static_only {
        println!("dev check: the files only (--static-only): grading skipped");
    } else if let Err(error) = crate::exercises::all() {
        problems.push(Problem::new(None, "grading", format!("skipped: {error:#}")));
    } else {
        problems.extend(grading::check(cli)?);
    }
    if problems.is_empty() {
        let count = layout::Entries::parse(&layout::read(&root.join("info.toml"))?)?
            .exercises
            .len();
        println!("dev check: {count} exercises, every piece in place");
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        println!("- {problem}");
    }
    println!(
        "dev check: {} problem(s) ({layout_problems} in the files, {} in grading)",
        problems.len(),
        problems.len() - layout_problems
    );
    Ok(ExitCode::from(EXIT_PROBLEMS))
}
