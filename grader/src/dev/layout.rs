//! The files of every exercise: present, named alike, in the same order, and no longer holding
//! what `cargo grade new` left for the author to write.
//!
//! Everything here reads the checkout and nothing else (no build, no run), so it is quick and
//! runs on any copy of the lab: [`check`] takes the root. The grader's own tests and checks
//! are the exception: they are code, so they are the ones compiled into this grader
//! ([`crate::exercises::TABLE`]); the checkout's `info.toml` is compared with the built-in one
//! so that a stale grader is named rather than trusted.

mod exercise;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::Problem;
use crate::exercises::TABLE;
use crate::info::INFO_TOML;
use crate::scaffold::PLACEHOLDER;

/// The workspace's `Cargo.toml` globs that make each exercise and solution a member.
const MEMBER_GLOBS: [&str; 2] = ["\"exercises/*\"", "\"solutions/*\""];

/// Every problem of the checkout at `root`, in the order of `info.toml`.
pub fn check(root: &Path) -> Result<Vec<Problem>> {
    let info_text = read(&root.join("info.toml"))?;
    let info = Entries::parse(&info_text)?;
    let mut problems = Vec::new();
    if info_text != INFO_TOML {
        problems.push(Problem::new(
            None,
            "info.toml",
            "differs from the one this grader was built with: run `cargo grade dev check` \
             (cargo rebuilds the grader from the checkout), not an older grader binary",
        ));
    }
    problems.extend(check_names(&info));
    problems.extend(check_workspace(root)?);
    let files = Files::read(root)?;
    problems.extend(check_totals(&files, &info));
    for (index, exercise) in info.exercises.iter().enumerate() {
        problems.extend(exercise::Inspection::new(root, &files, index, exercise).run());
    }
    problems.extend(check_strays(root, &info)?);
    Ok(problems)
}

/// `info.toml` as written, for the checks: the grader's own [`crate::info::Info`] keeps what
/// grading needs (hints merged into levels, say), this keeps each field as the author wrote it.
#[derive(Deserialize)]
pub struct Entries {
    pub exercises: Vec<Entry>,
}

/// One `[[exercises]]` entry as written.
#[derive(Deserialize)]
pub struct Entry {
    pub name: String,
    pub dir: String,
    pub points: u32,
    #[serde(default)]
    pub hint: String,
    #[serde(default)]
    pub hint_calls: String,
    #[serde(default)]
    pub hint_shape: String,
    pub key: Option<i32>,
    pub size: Option<usize>,
    /// What the program prints (`[exercises.output]`: name = text).
    #[serde(default)]
    pub output: toml::Table,
}

impl Entries {
    pub fn parse(text: &str) -> Result<Entries> {
        toml::from_str(text).context("Failed to parse info.toml")
    }

    pub fn total_points(&self) -> u32 {
        self.exercises.iter().map(|exercise| exercise.points).sum()
    }
}

/// The lab-wide files that each exercise has a line in.
struct Files {
    summary: String,
    reference: String,
    readme: String,
    guide: String,
}

impl Files {
    fn read(root: &Path) -> Result<Files> {
        Ok(Files {
            summary: read(&root.join("docs/src/SUMMARY.md"))?,
            reference: read(&root.join("docs/src/grader-reference.md"))?,
            readme: read(&root.join("README.md"))?,
            guide: read(&root.join("docs/src/instructor-guide.md"))?,
        })
    }
}

/// A file's text, with the path in the error.
pub fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("Failed to read {}", path.display()))
}

/// The module of exercise `name` in `grader/src/exercises/` (Rust names have no dashes).
pub fn module_name(name: &str) -> String {
    name.replace('-', "_")
}

/// `dir` as `info.toml` wants it for the exercise at `index` (0-based): `07-guard`.
pub fn expected_dir(index: usize, name: &str) -> String {
    format!("{:02}-{name}", index + 1)
}

fn check_names(info: &Entries) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, exercise) in info.exercises.iter().enumerate() {
        let name = exercise.name.as_str();
        let piece = "info.toml";
        if !seen.insert(name) {
            problems.push(Problem::new(
                Some(name),
                piece,
                "is listed twice: names must be unique",
            ));
        }
        if let Some(reason) = invalid_name(name) {
            problems.push(Problem::new(Some(name), piece, reason));
        }
        let dir = expected_dir(index, name);
        if exercise.dir != dir {
            problems.push(Problem::new(
                Some(name),
                piece,
                format!(
                    "its dir is {:?}; exercise {} is {dir:?} (its number in the lab's order, \
                     then its name): rename the folders or fix the entry",
                    exercise.dir,
                    index + 1
                ),
            ));
        }
        if exercise.hint.trim().is_empty() {
            problems.push(Problem::new(
                Some(name),
                piece,
                "has no `hint`: write level 1 (the concept, and the question to ask yourself)",
            ));
        }
        if [&exercise.hint, &exercise.hint_calls, &exercise.hint_shape]
            .iter()
            .any(|hint| hint.contains(PLACEHOLDER))
        {
            problems.push(Problem::new(
                Some(name),
                piece,
                format!("a hint still says {PLACEHOLDER}: write the hints"),
            ));
        }
        if exercise.output.is_empty() {
            problems.push(Problem::new(
                Some(name),
                piece,
                "has no [exercises.output]: write the lines the README says the program prints \
                 (see the header of info.toml)",
            ));
        }
        if exercise
            .output
            .values()
            .any(|text| text.as_str().is_some_and(|text| text.contains(PLACEHOLDER)))
        {
            problems.push(Problem::new(
                Some(name),
                piece,
                format!("an output text still says {PLACEHOLDER}: write what the program prints"),
            ));
        }
        if exercise.points == 0 {
            problems.push(Problem::new(Some(name), piece, "is worth 0 points"));
        }
    }
    problems
}

/// Why `name` cannot be an exercise's name (a package, a binary, a Rust module once dashes
/// become underscores), if it cannot.
pub fn invalid_name(name: &str) -> Option<String> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (!valid).then(|| {
        format!(
            "{name:?} is not a valid exercise name: lowercase letters, digits and single dashes, \
             starting with a letter (it is a package, a binary and, with `_` for `-`, a module)"
        )
    })
}

fn check_workspace(root: &Path) -> Result<Vec<Problem>> {
    let manifest = read(&root.join("Cargo.toml"))?;
    let members = manifest
        .lines()
        .find(|line| line.trim_start().starts_with("members"))
        .unwrap_or("");
    Ok(MEMBER_GLOBS
        .iter()
        .filter(|glob| !members.contains(*glob))
        .map(|glob| {
            Problem::new(
                None,
                "Cargo.toml",
                format!(
                    "the workspace's `members` has no {glob}: add it back, so that every \
                     exercise and solution is a member without a line of its own"
                ),
            )
        })
        .collect())
}

/// The instructor guide's sentence with the lab's size: "The lab has eight exercises, 130
/// points".
pub fn totals_sentence(count: usize, points: u32) -> String {
    let words = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
    ];
    let count = words
        .get(count)
        .map_or_else(|| count.to_string(), |word| (*word).to_owned());
    format!("{TOTALS_START}{count} exercises, {points} points")
}

const TOTALS_START: &str = "The lab has ";

/// The instructor guide's [`totals_sentence`] against `info.toml`.
fn check_totals(files: &Files, info: &Entries) -> Option<Problem> {
    let expected = totals_sentence(info.exercises.len(), info.total_points());
    let found = files.guide.find(TOTALS_START)?;
    let said: String = files.guide[found..]
        .split_inclusive(" points")
        .next()
        .unwrap_or("")
        .replace('\n', " ");
    (said != expected).then(|| {
        Problem::new(
            None,
            "docs/src/instructor-guide.md",
            format!("says {said:?}; info.toml makes it {expected:?}: update the sentence"),
        )
    })
}

/// The `KEY` (or `DEFAULT_KEY`) and `SIZE` constants that `source` declares with another value
/// than `info.toml`'s `key` and `size`: (constant, declared, expected).
pub fn declared_spec(source: &str, exercise: &Entry) -> Vec<(String, i64, i64)> {
    let expected = [
        ("KEY", exercise.key.map(i64::from)),
        ("DEFAULT_KEY", exercise.key.map(i64::from)),
        (
            "SIZE",
            exercise.size.and_then(|size| i64::try_from(size).ok()),
        ),
    ];
    let mut differing = Vec::new();
    for line in source.lines() {
        let Some(declaration) = line.trim().strip_prefix("const ") else {
            continue;
        };
        let Some((constant, rest)) = declaration.split_once(':') else {
            continue;
        };
        let Some(value) = rest
            .split_once('=')
            .and_then(|(_, value)| value.trim().strip_suffix(';'))
            .and_then(|value| value.trim().replace('_', "").parse::<i64>().ok())
        else {
            continue;
        };
        for (name, wanted) in expected {
            if constant.trim() == name
                && let Some(wanted) = wanted
                && wanted != value
            {
                differing.push((name.to_owned(), value, wanted));
            }
        }
    }
    differing
}

/// The Markdown table rows of `text`, trimmed.
fn table_rows(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| line.starts_with('|'))
}

/// Folders and grader entries that belong to no exercise of `info.toml`.
fn check_strays(root: &Path, info: &Entries) -> Result<Vec<Problem>> {
    let dirs: BTreeSet<&str> = info.exercises.iter().map(|e| e.dir.as_str()).collect();
    let names: BTreeSet<&str> = info.exercises.iter().map(|e| e.name.as_str()).collect();
    let mut problems = Vec::new();
    for folder in ["exercises", "solutions", "grader/src/student/originals"] {
        let path = root.join(folder);
        let entries = match fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(_) if folder == "solutions" => {
                problems.push(Problem::new(
                    None,
                    "solutions/",
                    "missing: this looks like a handout; run dev check in the instructor's checkout",
                ));
                continue;
            }
            Err(error) => {
                return Err(error).with_context(|| format!("Failed to list {}", path.display()));
            }
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("Failed to list {}", path.display()))?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !dirs.contains(file_name.as_str()) {
                problems.push(Problem::new(
                    None,
                    format!("{folder}/{file_name}/"),
                    "belongs to no exercise of info.toml: add its entry or delete the folder",
                ));
            }
        }
    }
    for (name, _) in TABLE {
        if !names.contains(name) {
            problems.push(Problem::new(
                Some(name),
                "grader/src/exercises.rs",
                "`TABLE` grades an exercise info.toml does not list: add its entry or remove \
                 the line and its module",
            ));
        }
    }
    Ok(problems)
}
