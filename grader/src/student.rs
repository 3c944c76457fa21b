//! The student's side of the grader: progress, the watch loop, `list`, `reset` and the welcome.
//!
//! Grading answers "does this exercise pass?"; this module answers "where am I, and what do I
//! do next?". It is kept apart from grading on purpose, behind two small seams:
//!
//! - [`ExerciseInfo`]: the exercise metadata as a plain list (name, dir, hint, points), in the
//!   order students do the exercises. Whoever loads `info.toml` converts to it.
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

use std::path::{Path, PathBuf};

/// One exercise, as the student loop needs it. Built from `info.toml` by the metadata loader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExerciseInfo {
    /// The exercise's name, also its package and binary (`cargo run -p NAME`).
    pub name: String,
    /// Its folder under `exercises/` and `solutions/`, e.g. `01-create`.
    pub dir: String,
    /// The hints, by level, shown by `h` in watch mode (and `cargo grade hint NAME`).
    pub hint: Hints,
    /// What passing all of its checks is worth.
    pub points: u32,
}

impl ExerciseInfo {
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

impl From<&crate::info::ExerciseInfo> for ExerciseInfo {
    fn from(info: &crate::info::ExerciseInfo) -> ExerciseInfo {
        ExerciseInfo {
            name: info.name.clone(),
            dir: info.dir.clone(),
            hint: Hints(info.hints().into_iter().map(str::to_owned).collect()),
            points: info.points,
        }
    }
}

/// An exercise's hints, level 1 first: the concept and the question to ask yourself, then the
/// calls involved, then the shape of the code with blanks (`info.toml`'s `hint`, `hint_calls`,
/// `hint_shape`). A student gets the next level by asking again; see [`hint`].
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

/// The exercises of the grader's built-in `info.toml`, in order.
pub fn builtin_exercises() -> anyhow::Result<Vec<ExerciseInfo>> {
    Ok(crate::info::Info::builtin()?
        .exercises
        .iter()
        .map(ExerciseInfo::from)
        .collect())
}

/// Finds an exercise by name, or says which names exist.
pub fn find_exercise<'a>(
    exercises: &'a [ExerciseInfo],
    name: &str,
) -> anyhow::Result<&'a ExerciseInfo> {
    exercises
        .iter()
        .find(|exercise| exercise.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = exercises
                .iter()
                .map(|exercise| exercise.name.as_str())
                .collect();
            anyhow::anyhow!("{}", unknown_exercise(name, &names))
        })
}

/// The error text for an exercise name that is not one: a "did you mean" when a known name is
/// close (a typo), and the list of names.
pub fn unknown_exercise(name: &str, known: &[&str]) -> String {
    let suggestion = did_you_mean(name, known)
        .map(|close| format!("did you mean `{close}`? "))
        .unwrap_or_default();
    format!(
        "there is no exercise named {name:?}; {suggestion}the exercises are: {}",
        known.join(", ")
    )
}

/// The known name closest to `name`, if it is close enough to be a typo: at most a third of
/// its letters edited (at least one), or `name` is the start of exactly one known name
/// (`parent` for `parent-child`) or its number (`3`, `03`).
pub fn did_you_mean<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    if let Ok(number) = name.parse::<usize>() {
        return number
            .checked_sub(1)
            .and_then(|index| known.get(index))
            .copied();
    }
    let starting: Vec<&&str> = known
        .iter()
        .filter(|known| known.starts_with(&name))
        .collect();
    if let [only] = starting.as_slice() {
        return Some(only);
    }
    let (distance, closest) = known
        .iter()
        .map(|known| (edit_distance(&name, known), *known))
        .min_by_key(|(distance, _)| *distance)?;
    (distance <= (name.chars().count() / 3).max(1)).then_some(closest)
}

/// Levenshtein distance: the fewest one-character insertions, deletions and substitutions
/// that turn `a` into `b`. One row at a time (the names are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
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

/// `cargo grade watch`, wired to the real grader: grades the student's `exercises/` in the
/// checkout of `target` (the caller rejects `--solutions` and `--submission`, which make no
/// sense in a loop over the student's own files).
pub fn watch_command(
    target: crate::app::Target,
    options: crate::grade::Options,
) -> anyhow::Result<()> {
    let exercises = builtin_exercises()?;
    let root = target.root.clone();
    let mut lab = lab::GraderLab::new(target, options, crate::app::color_stdout())?;
    watch::run_watch(&mut lab, &exercises, &root)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 6] = [
        "create",
        "attach",
        "parent-child",
        "ping-pong",
        "sized",
        "remove",
    ];

    #[test]
    fn typos_get_a_suggestion_and_strangers_do_not() {
        assert_eq!(did_you_mean("crate", &NAMES), Some("create"));
        assert_eq!(did_you_mean("atach", &NAMES), Some("attach"));
        assert_eq!(did_you_mean("pingpong", &NAMES), Some("ping-pong"));
        assert_eq!(did_you_mean("parent_child", &NAMES), Some("parent-child"));
        assert_eq!(did_you_mean("Remove", &NAMES), Some("remove"));
        assert_eq!(did_you_mean("parent", &NAMES), Some("parent-child"));
        assert_eq!(did_you_mean("3", &NAMES), Some("parent-child"));
        assert_eq!(did_you_mean("05", &NAMES), Some("sized"));
        assert_eq!(did_you_mean("7", &NAMES), None);
        assert_eq!(did_you_mean("p", &NAMES), None, "two names start with p");
        assert_eq!(did_you_mean("semaphore", &NAMES), None);
        assert_eq!(did_you_mean("", &NAMES), None);
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("create", "create"), 0);
        assert_eq!(edit_distance("crate", "create"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn the_error_names_the_suggestion_and_the_list() {
        let text = unknown_exercise("crate", &NAMES);
        assert!(
            text.contains("did you mean `create`? the exercises are: create, attach"),
            "{text}"
        );
        assert!(!unknown_exercise("zzz", &NAMES).contains("did you mean"));
    }

    #[test]
    fn hint_levels_are_clamped() {
        let hints = Hints(vec!["one".into(), "two".into(), "three".into()]);
        assert_eq!(hints.at(0), Some("one"));
        assert_eq!(hints.at(2), Some("two"));
        assert_eq!(hints.at(9), Some("three"));
        assert_eq!(Hints::default().at(1), None);
    }
}
