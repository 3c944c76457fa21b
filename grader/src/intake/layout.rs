//! Which of a submission's entries are sources, and why the others are not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::{Entry, ExerciseSources, Kind, Submission};
use crate::info::{ExerciseInfo, Info};

/// Folders an archive tool adds that are never the submission.
const JUNK: &[&str] = &["__MACOSX", ".DS_Store"];

/// Sorts `entries` into sources (per exercise) and ignored lines.
pub fn classify(origin: &Path, mut entries: Vec<Entry>) -> Result<Submission> {
    let info = Info::builtin()?;
    entries.retain(|entry| !first(&entry.path).is_some_and(|top| JUNK.contains(&top)));
    // A submission wrapped in folders (`alice/exercises/...`): look inside.
    for _ in 0..3 {
        let tops: BTreeSet<&str> = entries.iter().filter_map(|e| first(&e.path)).collect();
        let [top] = tops.into_iter().collect::<Vec<_>>()[..] else {
            break;
        };
        let wrapper = PathBuf::from(top);
        let is_folder = entries
            .iter()
            .any(|entry| entry.path.starts_with(&wrapper) && entry.path != wrapper);
        if !is_folder || top == "exercises" || exercise_named(&info, top).is_some() {
            break;
        }
        entries = entries
            .into_iter()
            .filter_map(|entry| {
                let path = entry.path.strip_prefix(&wrapper).ok()?.to_path_buf();
                (!path.as_os_str().is_empty()).then_some(Entry { path, ..entry })
            })
            .collect();
    }
    let is_checkout = entries
        .iter()
        .any(|entry| entry.path.starts_with("exercises"));
    let mut found = Found::default();
    for entry in entries {
        if is_checkout {
            found.checkout_entry(&info, entry)?;
        } else {
            found.loose_entry(&info, entry)?;
        }
    }
    if found.sources.is_empty() {
        bail!(
            "{} holds no exercise sources; expected a checkout (exercises/01-create/src/main.rs, …), \
             files named by exercise (create.rs, attach.rs, … or 01-create.rs), or folders named by \
             exercise holding a main.rs",
            origin.display()
        );
    }
    let missing = info
        .exercises
        .iter()
        .filter(|exercise| !found.sources.contains_key(&exercise.dir))
        .map(|exercise| exercise.name.clone())
        .collect();
    Ok(Submission {
        sources: found
            .sources
            .into_iter()
            .map(|(dir, (_, files))| (dir, files))
            .collect(),
        ignored: found.ignored.into_iter().collect(),
        missing,
    })
}

/// A name from the submission, safe to print: control characters (a terminal's escape
/// sequences) are written as escapes.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Errs for an entry that is a link (or not a plain file) where sources are taken.
fn refuse_link(entry: &Entry) -> Result<()> {
    if let Kind::Refused(what) = &entry.kind {
        bail!(
            "{} is {what}; refused: sources must be plain files and folders of the submission \
             (copy the files themselves there)",
            printable(&entry.path.display().to_string())
        );
    }
    Ok(())
}

/// The path's components as text (a name that is not UTF-8 is kept, its bad bytes replaced).
fn components(path: &Path) -> Vec<String> {
    path.components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect()
}

fn first(path: &Path) -> Option<&str> {
    path.components().next()?.as_os_str().to_str()
}

/// The exercise a file or folder is named after: `create`, `01-create` (and `.rs` of those).
fn exercise_named<'a>(info: &'a Info, name: &str) -> Option<&'a ExerciseInfo> {
    let stem = name.strip_suffix(".rs").unwrap_or(name);
    info.exercises
        .iter()
        .find(|exercise| exercise.name == stem || exercise.dir == stem)
}

#[derive(Default)]
struct Found {
    /// Exercise dir → (where its sources came from, the sources).
    sources: BTreeMap<String, (String, ExerciseSources)>,
    ignored: BTreeSet<String>,
}

impl Found {
    /// An entry of a checkout: `exercises/DIR/src/**.rs` is a source; the rest is ignored.
    fn checkout_entry(&mut self, info: &Info, entry: Entry) -> Result<()> {
        let names = components(&entry.path);
        let parts: Vec<&str> = names.iter().map(String::as_str).collect();
        let on_the_way = match parts[..] {
            ["exercises"] => true,
            ["exercises", dir, ..] => info.exercises.iter().any(|e| e.dir == dir),
            _ => false,
        };
        if on_the_way {
            refuse_link(&entry)?;
        }
        match parts[..] {
            ["exercises"] => {}
            ["exercises", dir, ..] if !info.exercises.iter().any(|e| e.dir == dir) => {
                self.ignore(format!("exercises/{dir}/ (not an exercise of this lab)"));
            }
            ["exercises", _] => {}
            ["exercises", dir, "src", ref rest @ ..] if !rest.is_empty() => {
                let within: PathBuf = rest.iter().collect();
                self.source(dir, "exercises", &entry, within)?;
            }
            ["exercises", _, "src"] => {}
            ["exercises", _, "Cargo.toml" | "README.md"] => {
                self.ignore(
                    "exercises/*/Cargo.toml, README.md (the grader uses its own manifests)",
                );
            }
            ["exercises", dir, "build.rs"] => {
                self.ignore(format!(
                    "exercises/{dir}/build.rs (build scripts never run)"
                ));
            }
            ["exercises", dir, name, ..] => {
                let folder = parts.len() > 3 || matches!(entry.kind, Kind::Dir | Kind::Skipped);
                self.ignore(format!(
                    "exercises/{dir}/{name}{}",
                    if folder { "/" } else { "" }
                ));
            }
            [top, ..] => self.ignore_top(top, &entry),
            [] => {}
        }
        Ok(())
    }

    /// An entry of loose files: `create.rs`, `01-create.rs`, `create/main.rs`,
    /// `create/src/**.rs`, `create/**.rs`.
    fn loose_entry(&mut self, info: &Info, entry: Entry) -> Result<()> {
        let names = components(&entry.path);
        let parts: Vec<&str> = names.iter().map(String::as_str).collect();
        let Some(top) = parts.first() else {
            return Ok(());
        };
        let Some(exercise) = exercise_named(info, top) else {
            self.ignore_top(top, &entry);
            return Ok(());
        };
        refuse_link(&entry)?;
        match parts[..] {
            [file] if file.ends_with(".rs") => {
                self.source(&exercise.dir, "", &entry, "main.rs".into())
            }
            [_] => {
                if !matches!(entry.kind, Kind::Dir) {
                    self.ignore_top(top, &entry);
                }
                Ok(())
            }
            [_, "src", ref rest @ ..] if !rest.is_empty() => {
                self.source(&exercise.dir, top, &entry, rest.iter().collect())
            }
            [_, ref rest @ ..] => self.source(&exercise.dir, top, &entry, rest.iter().collect()),
            [] => Ok(()),
        }
    }

    /// Takes the file as `within` (a path under `src/`) of the exercise in `dir`, if it is a
    /// `.rs` file; `origin` tells the shapes apart (a submission must not give two).
    fn source(&mut self, dir: &str, origin: &str, entry: &Entry, within: PathBuf) -> Result<()> {
        let shown = printable(&entry.path.display().to_string());
        let bytes = match &entry.kind {
            Kind::Dir => return Ok(()),
            Kind::Skipped => {
                self.ignore(format!("{shown}/"));
                return Ok(());
            }
            Kind::Refused(_) => return refuse_link(entry),
            Kind::File(None) => {
                self.ignore(format!("{shown} (only .rs files are sources)"));
                return Ok(());
            }
            Kind::File(Some(bytes)) => bytes.clone(),
        };
        if !super::is_source_name(&within) {
            self.ignore(format!("{shown} (only .rs files are sources)"));
            return Ok(());
        }
        let origin_name = if origin.is_empty() {
            shown.clone()
        } else {
            origin.to_string()
        };
        let (taken_from, files) = self
            .sources
            .entry(dir.to_string())
            .or_insert_with(|| (origin_name.clone(), BTreeMap::new()));
        if *taken_from != origin_name || files.contains_key(&within) {
            bail!(
                "the submission has two sources for exercises/{dir}/src/{}: {taken_from} and {shown}; keep one",
                within.display()
            );
        }
        files.insert(within, bytes);
        Ok(())
    }

    fn ignore_top(&mut self, top: &str, entry: &Entry) {
        let folder =
            entry.path != Path::new(top) || matches!(entry.kind, Kind::Dir | Kind::Skipped);
        let reason = match (top, folder) {
            ("target", true) => " (prebuilt binaries)",
            ("sysv", true) => " (the grader uses its own)",
            ("grader" | "solutions", true) => " (not part of a submission)",
            (".cargo", true) => " (cargo configuration)",
            ("Cargo.toml" | "Cargo.lock", false) => " (the grader uses its own workspace)",
            ("info.toml", false) => " (the grader uses its own)",
            _ => "",
        };
        let slash = if folder { "/" } else { "" };
        self.ignore(format!("{top}{slash}{reason}"));
    }

    fn ignore(&mut self, line: impl Into<String>) {
        self.ignored.insert(printable(&line.into()));
    }
}
