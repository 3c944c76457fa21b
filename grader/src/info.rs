//! The lab's metadata, `info.toml`: the exercises, in order, with their points and hints.
//!
//! The file is compiled into the grader (`include_str!`), so a submission graded with
//! `--submission` cannot change what its exercises are worth by editing its own copy.

use anyhow::{Context, Result};
use serde::Deserialize;

/// `info.toml` of the checkout the grader was built from.
pub const INFO_TOML: &str = include_str!("../../info.toml");

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
pub struct Info {
    pub exercises: Vec<ExerciseInfo>,
}

/// One `[[exercises]]` entry.
#[derive(Clone, Debug, Deserialize)]
pub struct ExerciseInfo {
    /// The stub's package and binary; the solution's is `NAME-solution`.
    pub name: String,
    /// Its folder under `exercises/` and `solutions/`, e.g. `01-create`.
    pub dir: String,
    /// What passing every check of the exercise is worth.
    pub points: u32,
    /// Hint level 1, shown by `cargo grade hint NAME` (and `h` in watch mode): the concept,
    /// and the question to ask yourself.
    pub hint: String,
    /// Hint level 2, shown when the student asks again: the calls involved (names to look up
    /// in `cargo doc -p sysv --open`, not the code).
    #[serde(default)]
    pub hint_calls: String,
    /// Hint level 3, shown on the third ask: the shape of the code, with blanks.
    #[serde(default)]
    pub hint_shape: String,
}

impl ExerciseInfo {
    /// The hint levels given, in order (level 1 first); levels left empty are skipped.
    pub fn hints(&self) -> Vec<&str> {
        [&self.hint, &self.hint_calls, &self.hint_shape]
            .into_iter()
            .map(|hint| hint.trim())
            .filter(|hint| !hint.is_empty())
            .collect()
    }

    /// The package (and binary) that holds this exercise in `exercises/` or `solutions/`.
    pub fn package(&self, solutions: bool) -> String {
        if solutions {
            format!("{}-solution", self.name)
        } else {
            self.name.clone()
        }
    }
}

impl Info {
    /// Parses the built-in `info.toml`.
    pub fn builtin() -> Result<Info> {
        Self::parse(INFO_TOML).context("Failed to parse the grader's built-in info.toml")
    }

    pub fn parse(text: &str) -> Result<Info> {
        Ok(toml::from_str(text)?)
    }

    pub fn total_points(&self) -> u32 {
        self.exercises.iter().map(|exercise| exercise.points).sum()
    }
}
