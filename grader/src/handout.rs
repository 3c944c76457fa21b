//! `cargo grade handout DIR`: the students' repository, written from the instructor's checkout.
//!
//! Like nbgrader's `generate_assignment` or an Autolab handout target, the handout is the lab
//! minus what only the instructor may have:
//!
//! - no `solutions/`, no `grader/fixtures/` (each fixture is a correct program with one flaw:
//!   a solution in all but name), no instructor guide;
//! - no instructor-only source file: any `.rs` file under `grader/` whose first line is
//!   [`INSTRUCTOR_ONLY`]. That is `src/exercises/instructor.rs` (the checks students must not
//!   see) and the test suites that grade the solutions or the fixtures. The same attribute
//!   compiles them only with the `instructor` feature, which the handout's `grader/Cargo.toml`
//!   turns off, so the handout builds without them and its grader neither runs nor names those
//!   checks;
//! - a workspace of `sysv`, `exercises/*` and `grader` only: the book's tests (`docs/`'s
//!   package) replay the solutions, so the handout keeps the book's pages but not its tests;
//! - a README without the solutions and the benchmark, and a CI of its own
//!   (`.ci/run`, `.github/workflows/shmlab.yml`): the tests and `cargo grade`.
//!
//! [`write_lab`] also writes the lab that an autograder builds ([`Audience::Autograder`]): the
//! instructor's grader with its instructor-only checks, and the exercises' stubs, so that a
//! submission's sources are graded in a pristine copy of the lab.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The first line of an instructor-only source file.
pub const INSTRUCTOR_ONLY: &str = "#![cfg(feature = \"instructor\")]";

/// The handout's workspace members.
const MEMBERS: &str = r#"members = ["sysv", "exercises/*", "grader"]"#;

/// The book's page for instructors only.
const INSTRUCTOR_PAGE: &str = "instructor-guide.md";

/// The students' CI script and workflow.
const STUDENT_CI_RUN: &str = include_str!("handout/ci-run.sh");
const STUDENT_WORKFLOW: &str = include_str!("handout/shmlab.yml");

/// Who the lab is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The students' repository: the handout.
    Students,
    /// An autograder's copy: the instructor's grader (instructor-only checks included), the
    /// stubs and `sysv`; no tests, no book.
    Autograder,
}

/// Writes the lab of the checkout `lab` into `out` (which must not exist, or be empty) for
/// `audience`; returns the files written, relative to `out`, sorted.
pub fn write_lab(lab: &Path, out: &Path, audience: Audience) -> Result<Vec<PathBuf>> {
    if out.exists()
        && fs::read_dir(out)
            .with_context(|| format!("Failed to read {}", out.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} already exists and is not empty; name a new folder (the handout never overwrites)",
            out.display()
        );
    }
    let existed = out.exists();
    fs::create_dir_all(out).with_context(|| format!("Failed to create {}", out.display()))?;
    let written = write_files(lab, out, audience);
    if written.is_err() {
        // Nothing left behind: the folder was empty, or absent, before.
        let _ = fs::remove_dir_all(out);
        if existed {
            let _ = fs::create_dir(out);
        }
    }
    written
}

fn write_files(lab: &Path, out: &Path, audience: Audience) -> Result<Vec<PathBuf>> {
    let mut writer = Writer {
        lab,
        out,
        written: Vec::new(),
    };
    let students = audience == Audience::Students;

    let manifest = writer.read("Cargo.toml")?;
    writer.write("Cargo.toml", &with_members(&manifest)?)?;
    for file in ["Cargo.lock", ".cargo/config.toml", "info.toml"] {
        writer.copy_file(Path::new(file))?;
    }
    writer.copy_tree(Path::new("exercises"), &|_| true)?;
    writer.copy_tree(Path::new("sysv"), &|_| true)?;
    writer.copy_tree(Path::new("grader"), &|path| {
        !path.starts_with("grader/fixtures")
            && match audience {
                Audience::Students => !is_instructor_only(&lab.join(path)),
                Audience::Autograder => !path.starts_with("grader/tests"),
            }
    })?;
    // A `[[test]]` table naming a suite left out would stop cargo from reading the manifest.
    let grader_manifest = without_tests_left_out(&writer.read("grader/Cargo.toml")?, |name| {
        let tests = out.join("grader/tests");
        tests.join(format!("{name}.rs")).is_file() || tests.join(name).join("main.rs").is_file()
    });
    writer.write("grader/Cargo.toml", &grader_manifest)?;
    if students {
        writer.write(
            "grader/Cargo.toml",
            &without_instructor_default(&grader_manifest)?,
        )?;
        writer.copy_file(Path::new(".gitignore"))?;
        let readme = writer.read("README.md")?;
        writer.write("README.md", &readme_for_students(&readme))?;
        writer.write(".ci/run", STUDENT_CI_RUN)?;
        set_executable(&out.join(".ci/run"))?;
        writer.write(".github/workflows/shmlab.yml", STUDENT_WORKFLOW)?;
        writer.copy_file(Path::new("docs/book.toml"))?;
        writer.copy_tree(Path::new("docs/src"), &|path| {
            path.file_name().is_none_or(|name| name != INSTRUCTOR_PAGE)
        })?;
        for page in writer.written.clone() {
            if page.starts_with("docs/src") && page.extension().is_some_and(|ext| ext == "md") {
                let text = fs::read_to_string(out.join(&page))
                    .with_context(|| format!("Failed to read {}", page.display()))?;
                writer.write_path(&page, &for_students_page(&text))?;
            }
        }
    }
    update_lockfile(out)?;
    writer.written.sort();
    writer.written.dedup();
    Ok(writer.written)
}

/// Whether `path` is an instructor-only source file: a `.rs` file whose
/// first line is [`INSTRUCTOR_ONLY`].
fn is_instructor_only(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "rs")
        && fs::read_to_string(path).is_ok_and(|text| text.lines().next() == Some(INSTRUCTOR_ONLY))
}

struct Writer<'a> {
    lab: &'a Path,
    out: &'a Path,
    written: Vec<PathBuf>,
}

impl Writer<'_> {
    fn read(&self, relative: &str) -> Result<String> {
        let path = self.lab.join(relative);
        fs::read_to_string(&path).with_context(|| format!("Failed to read {}", path.display()))
    }

    fn write(&mut self, relative: &str, text: &str) -> Result<()> {
        self.write_path(Path::new(relative), text)
    }

    fn write_path(&mut self, relative: &Path, text: &str) -> Result<()> {
        let path = self.out.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("Failed to create {}", parent.display()))?;
        }
        fs::write(&path, text).with_context(|| format!("Failed to write {}", path.display()))?;
        self.written.push(relative.to_path_buf());
        Ok(())
    }

    fn copy_file(&mut self, relative: &Path) -> Result<()> {
        let (from, to) = (self.lab.join(relative), self.out.join(relative));
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("Failed to create {}", parent.display()))?;
        }
        fs::copy(&from, &to)
            .with_context(|| format!("Failed to copy {} to {}", from.display(), to.display()))?;
        self.written.push(relative.to_path_buf());
        Ok(())
    }

    /// Copies the files and folders under `relative` that `keep` accepts (it sees paths
    /// relative to the lab), skipping build output.
    fn copy_tree(&mut self, relative: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<()> {
        let from = self.lab.join(relative);
        let mut entries: Vec<_> = fs::read_dir(&from)
            .with_context(|| format!("Failed to read {}", from.display()))?
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("Failed to read {}", from.display()))?;
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let name = entry.file_name();
            if name == "target" || name == "book" {
                continue;
            }
            let child = relative.join(&name);
            let kind = entry
                .file_type()
                .with_context(|| format!("Failed to inspect {}", entry.path().display()))?;
            if !keep(&child) {
                continue;
            }
            if kind.is_dir() {
                self.copy_tree(&child, keep)?;
            } else if kind.is_file() {
                self.copy_file(&child)?;
            }
        }
        Ok(())
    }
}

/// The workspace manifest with the handout's members.
fn with_members(manifest: &str) -> Result<String> {
    let mut found = false;
    let lines: Vec<&str> = manifest
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("members = [") {
                found = true;
                MEMBERS
            } else {
                line
            }
        })
        .collect();
    if !found {
        bail!("the workspace Cargo.toml has no `members = [...]` line to rewrite");
    }
    Ok(lines.join("\n") + "\n")
}

/// The manifest without its `[[test]]` tables whose suite is not `kept` (by test name).
fn without_tests_left_out(manifest: &str, kept: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    let mut table: Vec<&str> = Vec::new();
    let flush = |table: &mut Vec<&str>, text: &mut String| {
        let name = table.iter().find_map(|line| {
            let value = line.trim().strip_prefix("name")?.trim().strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_owned())
        });
        let left_out = table.first() == Some(&"[[test]]") && name.is_some_and(|name| !kept(&name));
        if !left_out {
            table.iter().for_each(|line| {
                text.push_str(line);
                text.push('\n');
            });
        }
        table.clear();
    };
    for line in manifest.lines() {
        if line.starts_with('[') {
            flush(&mut table, &mut text);
        }
        table.push(line);
    }
    flush(&mut table, &mut text);
    text
}

/// The grader's manifest with the `instructor` feature off by default.
fn without_instructor_default(manifest: &str) -> Result<String> {
    const ON: &str = r#"default = ["instructor"]"#;
    if !manifest.contains(ON) {
        bail!("grader/Cargo.toml has no `{ON}` line to turn off");
    }
    Ok(manifest.replace(ON, "default = []"))
}

/// The README without the solutions and the benchmark (it grades the solutions).
fn readme_for_students(readme: &str) -> String {
    let mut text = String::new();
    let mut skipping = false;
    for line in readme.lines() {
        if line.starts_with("## ") {
            skipping = line == "## Performance";
        }
        if skipping || line.contains("solutions") {
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// A page of the book for students: links to the instructor guide become plain text, the
/// summary loses its entry (its part, left with the grader reference, becomes "Reference"), and
/// the reference solutions, which the handout leaves out, are named as the instructor's.
fn for_students_page(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("- [") && line.contains(&format!("]({INSTRUCTOR_PAGE})")) {
            continue;
        }
        if line.trim_start().starts_with("solutions/") {
            continue; // the solutions' folder in a drawing of the checkout
        }
        let line = &without_solution_path(line);
        if line == "# For instructors" {
            out.push_str(
                "# Reference
",
            );
            continue;
        }
        out.push_str(&unlink(line, INSTRUCTOR_PAGE));
        out.push('\n');
    }
    out
}

/// "the reference solution, `solutions/DIR/src/main.rs`" becomes "the reference solution
/// (your instructor's: the handout has no `solutions/`)".
fn without_solution_path(line: &str) -> String {
    const NAMED: &str = "the reference solution, `solutions/";
    let Some(at) = line.find(NAMED) else {
        return line.to_owned();
    };
    let rest = &line[at + NAMED.len()..];
    let Some(close) = rest.find('`') else {
        return line.to_owned();
    };
    format!(
        "{}the reference solution (your instructor's: the handout has no `solutions/`){}",
        &line[..at],
        &rest[close + 1..]
    )
}

/// `line` with every markdown link `[text](PAGE...)` replaced by `text`.
fn unlink(line: &str, page: &str) -> String {
    let marker = format!("]({page}");
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(&marker) {
        let (before, after) = rest.split_at(at);
        let (Some(open), Some(close)) = (before.rfind('['), after.find(')')) else {
            break;
        };
        out.push_str(&before[..open]);
        out.push_str(&before[open + 1..]);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("Failed to make {} executable", path.display()))
}

/// Drops the packages the handout does not have from its Cargo.lock, offline (every
/// remaining package is already locked), so that the students' first build leaves it as is.
fn update_lockfile(out: &Path) -> Result<()> {
    crate::build::trim_lockfile(crate::build::cargo_command(), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_tables_of_suites_left_out_are_dropped() {
        let manifest = "[package]\nname = \"grader\"\n\n[[test]]\nname = \"kept\"\nharness = false\n\n[[test]]\nname = \"gone\"\nharness = false\n\n[lints]\nworkspace = true\n";
        let trimmed = without_tests_left_out(manifest, |name| name == "kept");
        assert_eq!(
            trimmed,
            "[package]\nname = \"grader\"\n\n[[test]]\nname = \"kept\"\nharness = false\n\n[lints]\nworkspace = true\n"
        );
    }

    #[test]
    fn links_to_the_instructor_guide_become_text() {
        assert_eq!(
            unlink(
                "see the [instructor guide](instructor-guide.md#isolation) and [this](a.md).",
                INSTRUCTOR_PAGE
            ),
            "see the instructor guide and [this](a.md)."
        );
        let summary = "# For instructors\n\n- [Instructor guide](instructor-guide.md)\n- [Grader reference](grader-reference.md)\n";
        assert_eq!(
            for_students_page(summary),
            "# Reference\n\n- [Grader reference](grader-reference.md)\n"
        );
    }

    #[test]
    fn the_book_names_the_solutions_as_the_instructors() {
        let page = "```text\nexercises/01-create/\nsolutions/01-create/ the answer\n```\n\
                    Read the reference solution, `solutions/01-create/src/main.rs`, and compare.\n";
        assert_eq!(
            for_students_page(page),
            "```text\nexercises/01-create/\n```\nRead the reference solution (your instructor's: \
             the handout has no `solutions/`), and compare.\n"
        );
    }

    #[test]
    fn the_readme_loses_the_solutions_and_the_benchmark() {
        let readme = "# lab\n\n## Folders\n| `solutions/` | answers |\n| `sysv/` | calls |\n\n## Performance\nhyperfine\n\n## License\nMIT\n";
        assert_eq!(
            readme_for_students(readme),
            "# lab\n\n## Folders\n| `sysv/` | calls |\n\n## License\nMIT\n"
        );
    }

    #[test]
    fn a_failed_handout_leaves_nothing_behind() {
        let lab = tempfile::tempdir().expect("a temporary folder");
        fs::write(lab.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").expect("a file");
        let out = tempfile::tempdir().expect("a temporary folder");
        let handout = out.path().join("handout");
        let error = write_lab(lab.path(), &handout, Audience::Students)
            .expect_err("not a lab")
            .to_string();
        assert!(error.contains("no `members = [...]` line"), "{error}");
        assert!(!handout.exists(), "the new folder is removed again");
        fs::write(out.path().join("notes"), "mine").expect("a file");
        let error = write_lab(lab.path(), out.path(), Audience::Students).expect_err("not empty");
        assert!(error.to_string().contains("not empty"), "{error}");
        assert!(
            out.path().join("notes").is_file(),
            "a folder in use is left alone"
        );
    }

    #[test]
    fn the_members_line_is_replaced_or_its_absence_is_an_error() {
        let manifest = "[workspace]\nmembers = [\"sysv\", \"solutions/*\", \"docs\"]\n";
        assert_eq!(
            with_members(manifest).expect("a members line"),
            format!("[workspace]\n{MEMBERS}\n")
        );
        assert!(with_members("[workspace]\n").is_err());
    }
}
