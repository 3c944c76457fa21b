//! The student's side of the grader: progress, the watch loop, `list`, `reset` and the welcome.
//!
//! Grading answers "does this exercise pass?"; this module answers "where am I, and what do I
//! do next?". It is kept apart from grading on purpose, behind two small seams:
//!
//! - [`ExerciseInfo`]: the exercise metadata of `info.toml` (name, dir, hints, points) as a
//!   plain list, in the order students do the exercises; the same type grading uses
//!   ([`crate::info::ExerciseInfo`], re-exported here), without the grader's tests.
//! - [`Lab`]: "grade this exercise and give me the report to show". The real grader implements
//!   it ([`lab::GraderLab`]); the tests implement it with a fake that needs no kernel, no
//!   sandbox and no build.
//!
//! With these, everything here is testable on its own: the [`watch`] loop's decisions are a pure
//! state machine ([`watch::machine`]), the progress file takes the checkout root as a parameter
//! ([`state`]), and `reset` asks its question through any reader/writer pair ([`reset`]).
//!
//! The loop, as a student sees it (rustlings-style):
//!
//! 1. `cargo grade watch` grades the first exercise not yet passed and shows the report.
//! 2. Every save under `exercises/DIR/` re-grades it.
//! 3. Once it passes, the student may read the reference solution and presses `n` for the next.

pub mod hint;
pub mod lab;
pub mod list;
pub mod progress;
pub mod reset;
pub mod state;
pub mod watch;
pub mod welcome;

use std::path::Path;

pub use crate::info::{ExerciseInfo, Hints};

/// The exercises of the grader's built-in `info.toml`, in order.
pub fn builtin_exercises() -> anyhow::Result<Vec<ExerciseInfo>> {
    Ok(crate::info::Info::builtin()?.exercises)
}

/// What the student loop needs from the grader.
///
/// A trait rather than a direct call, so that the watch loop can be tested without building
/// and running real exercises (see `tests/student_watch_pty.rs`).
pub trait Lab {
    /// Grades one exercise (by name): builds it, runs its checks, and returns whether it passed
    /// and the human-readable report to show (plain text with `\n` line ends; the watch loop
    /// takes care of the terminal's raw mode).
    ///
    /// `Err` means the grader itself could not do its job (not "the exercise failed"): the
    /// watch loop shows the error and lets the student retry with `r`.
    ///
    /// In watch mode the terminal is in raw mode and owned by the loop: an implementation must
    /// not print, and must not let the programs it runs (cargo, the exercise) inherit the
    /// terminal: give them piped or null stdin, stdout and stderr, and put what the student
    /// should see (e.g. compiler errors) into the report.
    fn grade(&mut self, name: &str) -> anyhow::Result<(bool, String)>;
}

/// Records grading results in the progress file: for the subcommands that grade outside the
/// watch loop (`cargo grade NAME`, `cargo grade`), so that `list` and `watch` agree with them.
/// Only for the student's own `exercises/`: grading `--solutions` or a `--submission` says
/// nothing about this student's progress.
///
/// Returns a warning to print (after `warning: `) if the progress file was unusable (it then
/// starts afresh).
pub fn record_results<'a>(
    root: &Path,
    results: impl IntoIterator<Item = (&'a str, bool)>,
) -> anyhow::Result<Option<String>> {
    let loaded = state::State::load(root);
    let mut progress = loaded.state;
    for (name, passed) in results {
        progress.record(name, passed);
    }
    progress.save(root)?;
    Ok(loaded.warning)
}
