//! The exercise table: for each exercise of `info.toml`, the tests that grade it.
//!
//! This is the one place that says what "correct" means. Each exercise has a module with a
//! `tests()` function returning its [`Test`]s (scenarios and scored checks, written with the
//! helpers of [`crate::checks`]); [`TABLE`] maps exercise names to those functions. A new exercise
//! adds an `info.toml` entry, a module here and a line in [`TABLE`]; the unit tests below check
//! that the two agree and that each exercise's check points sum to its points in `info.toml`.
//!
//! Instructor-only checks (any [`Visibility`] but `Visible`) live in [`instructor`], a module
//! compiled only with the `instructor` feature (on by default in the instructor's checkout)
//! and left out of the handout. Their points come on top of `info.toml`'s: an exercise is worth
//! [`Exercise::max_points`].

mod attach;
mod create;
mod guard;
#[cfg(feature = "instructor")]
mod instructor;
mod parent_child;
mod ping_pong;
mod remove;
mod ring;
mod sized;
pub mod spec;

use anyhow::{Context, Result};

use crate::checks::{Test, Visibility};
use crate::info::{ExerciseInfo, Info, find_exercise};

/// Makes the tests of one exercise.
pub type TestsFn = fn() -> Vec<Test>;

/// Exercise name → its tests.
pub const TABLE: &[(&str, TestsFn)] = &[
    ("create", create::tests),
    ("attach", attach::tests),
    ("parent-child", parent_child::tests),
    ("ping-pong", ping_pong::tests),
    ("sized", sized::tests),
    ("remove", remove::tests),
    ("guard", guard::tests),
    ("ring", ring::tests),
];

/// An exercise with its metadata and its tests.
pub struct Exercise {
    pub info: ExerciseInfo,
    pub tests: Vec<Test>,
}

impl AsRef<ExerciseInfo> for Exercise {
    fn as_ref(&self) -> &ExerciseInfo {
        &self.info
    }
}

impl Exercise {
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The sum of its checks' weights (`info.points` plus the instructor-only checks').
    pub fn weight(&self) -> u32 {
        self.tests.iter().map(Test::points).sum()
    }

    /// What the exercise is worth here: `info.toml`'s points plus those of the instructor-only
    /// checks compiled into this grader (none in a handout).
    pub fn max_points(&self) -> u32 {
        self.info.points + self.instructor_only_weight()
    }

    fn instructor_only_weight(&self) -> u32 {
        self.tests
            .iter()
            .flat_map(|test| &test.checks)
            .filter(|check| check.visibility != Visibility::Visible)
            .map(|check| check.points)
            .sum()
    }
}

/// Every exercise of the built-in `info.toml`, in order, with its tests.
pub fn all() -> Result<Vec<Exercise>> {
    let info = Info::builtin()?;
    info.exercises
        .into_iter()
        .map(|info| {
            #[allow(unused_mut)] // extended only by the instructor's grader
            let mut tests = TABLE
                .iter()
                .find(|(name, _)| *name == info.name)
                .map(|(_, tests)| tests())
                .with_context(|| {
                    format!(
                        "info.toml lists exercise {:?}, which the grader has no tests for",
                        info.name
                    )
                })?;
            #[cfg(feature = "instructor")]
            tests.extend(instructor::tests(&info.name));
            Ok(Exercise { info, tests })
        })
        .collect()
}

/// The exercises named in `names` (all of them if `names` is empty), in the lab's order.
pub fn select<'a>(exercises: &'a [Exercise], names: &[String]) -> Result<Vec<&'a Exercise>> {
    for name in names {
        find_exercise(exercises, name)?;
    }
    Ok(exercises
        .iter()
        .filter(|exercise| names.is_empty() || names.iter().any(|name| name == exercise.name()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exercise_has_tests_and_its_checks_sum_to_its_points() {
        let exercises = all().expect("every info.toml exercise is in the table");
        assert_eq!(
            exercises.len(),
            TABLE.len(),
            "the table has an exercise info.toml does not list"
        );
        for exercise in &exercises {
            assert_eq!(
                exercise.weight() - exercise.instructor_only_weight(),
                exercise.info.points,
                "points of the visible checks of {}",
                exercise.name()
            );
            for test in &exercise.tests {
                assert!(
                    !test.steps.is_empty(),
                    "{}: test {:?} runs nothing",
                    exercise.name(),
                    test.name
                );
                assert!(
                    !test.checks.is_empty(),
                    "{}: test {:?} checks nothing",
                    exercise.name(),
                    test.name
                );
            }
        }
    }

    #[test]
    fn check_names_are_unique_within_an_exercise() {
        for exercise in all().expect("table") {
            let mut names: Vec<(&str, &str)> = exercise
                .tests
                .iter()
                .flat_map(|test| test.checks.iter().map(move |check| (test.name, check.name)))
                .collect();
            let count = names.len();
            names.sort();
            names.dedup();
            assert_eq!(
                names.len(),
                count,
                "{}: two checks share a name",
                exercise.name()
            );
        }
    }

    #[test]
    fn select_keeps_the_lab_order_and_rejects_unknown_names() {
        let exercises = all().expect("table");
        let chosen = select(&exercises, &["remove".into(), "create".into()]).expect("known names");
        let names: Vec<&str> = chosen.iter().map(|exercise| exercise.name()).collect();
        assert_eq!(names, ["create", "remove"]);
        let error = select(&exercises, &["crate".into()])
            .err()
            .expect("unknown name")
            .to_string();
        assert!(
            error.contains("there is no exercise named \"crate\"; did you mean `create`?"),
            "{error}"
        );
    }
}
