//! The lab's metadata, `info.toml`: the exercises, in order, with their points and hints.
//!
//! The file is compiled into the grader (`include_str!`), so a submission graded with
//! `--submission` cannot change what its exercises are worth by editing its own copy.

pub mod lookup;

pub use lookup::find_exercise;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// `info.toml` of the checkout the grader was built from.
pub const INFO_TOML: &str = include_str!("../../info.toml");

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
pub struct Info {
    pub exercises: Vec<ExerciseInfo>,
}

/// One exercise of the lab, from its `[[exercises]]` entry: the one description of an
/// exercise that grading, building and the student loop (`watch`, `list`, `hint`, `reset`)
/// all use.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "Entry")]
pub struct ExerciseInfo {
    /// The stub's package and binary; the solution's is `NAME-solution`.
    pub name: String,
    /// Its folder under `exercises/` and `solutions/`, e.g. `01-create`.
    pub dir: String,
    /// What passing every check of the exercise is worth.
    pub points: u32,
    /// The hints, by level, shown by `cargo grade hint NAME` (and `h` in watch mode).
    pub hint: Hints,
}

/// An `[[exercises]]` entry as written in `info.toml`.
#[derive(Deserialize)]
struct Entry {
    name: String,
    dir: String,
    points: u32,
    /// Hint level 1: the concept, and the question to ask yourself.
    hint: String,
    /// Hint level 2, shown when the student asks again: the calls involved (names to look up
    /// in `cargo doc -p sysv --open`, not the code).
    #[serde(default)]
    hint_calls: String,
    /// Hint level 3, shown on the third ask: the shape of the code, with blanks.
    #[serde(default)]
    hint_shape: String,
}

impl From<Entry> for ExerciseInfo {
    /// The hint levels given, in order; levels left empty are skipped.
    fn from(entry: Entry) -> ExerciseInfo {
        let hint = [entry.hint, entry.hint_calls, entry.hint_shape]
            .into_iter()
            .map(|hint| hint.trim().to_owned())
            .filter(|hint| !hint.is_empty())
            .collect();
        ExerciseInfo {
            name: entry.name,
            dir: entry.dir,
            points: entry.points,
            hint: Hints(hint),
        }
    }
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

    /// The student's folder for this exercise, relative to the checkout root.
    pub fn exercise_dir(&self) -> PathBuf {
        Path::new("exercises").join(&self.dir)
    }

    /// The file the student edits, relative to the checkout root.
    pub fn main_rs(&self) -> PathBuf {
        self.exercise_dir().join("src").join("main.rs")
    }

    /// The reference solution, relative to the checkout root: shown once the exercise passes.
    pub fn solution_main_rs(&self) -> PathBuf {
        Path::new("solutions")
            .join(&self.dir)
            .join("src")
            .join("main.rs")
    }

    /// Its chapter of the book, relative to the checkout root (a handout has it too).
    pub fn chapter_md(&self) -> PathBuf {
        Path::new("docs/src/exercises").join(format!("{}.md", self.dir))
    }
}

impl AsRef<ExerciseInfo> for ExerciseInfo {
    fn as_ref(&self) -> &ExerciseInfo {
        self
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

/// An exercise's hints, level 1 first: the concept and the question to ask yourself, then the
/// calls involved, then the shape of the code with blanks (`info.toml`'s `hint`, `hint_calls`,
/// `hint_shape`). A student gets the next level by asking again; see [`crate::student::hint`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hints(pub Vec<String>);

impl Hints {
    /// How many levels there are.
    pub fn levels(&self) -> u8 {
        u8::try_from(self.0.len()).unwrap_or(u8::MAX)
    }

    /// The text of `level` (1-based), clamped to the levels there are; `None` without hints.
    pub fn at(&self, level: u8) -> Option<&str> {
        let index = usize::from(level.clamp(1, self.levels().max(1))) - 1;
        self.0.get(index).map(|hint| hint.trim())
    }
}

/// A single-level hint, as tests and simple front ends write it.
impl From<&str> for Hints {
    fn from(hint: &str) -> Hints {
        Hints(vec![hint.to_owned()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_levels_are_clamped() {
        let hints = Hints(vec!["one".into(), "two".into(), "three".into()]);
        assert_eq!(hints.at(0), Some("one"));
        assert_eq!(hints.at(2), Some("two"));
        assert_eq!(hints.at(9), Some("three"));
        assert_eq!(Hints::default().at(1), None);
    }
}
