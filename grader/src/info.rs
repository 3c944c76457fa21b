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
    /// Shown by `cargo grade hint NAME`.
    pub hint: String,
}

impl ExerciseInfo {
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
