//! `cargo grade new NAME`: the outline of a new exercise, in every place that shows it.
//!
//! It writes the stub and solution crates (the workspace's `exercises/*` and `solutions/*`
//! globs make them members), the solution's test, the grader's tests and checks
//! (`grader/src/exercises/NAME.rs`, with its `mod` and `TABLE` lines), the pristine stub for
//! `cargo grade reset`, the `info.toml` entry, the book chapter, its `SUMMARY.md` line and its
//! section in the grader reference, and the exercise's rows in the README's and the instructor
//! guide's tables (and the guide's count of exercises and points). The files' text is in
//! [`outline`].
//!
//! What only the author can write (the task, the checks, the solution, the chapter's prose)
//! is marked with [`PLACEHOLDER`], and `cargo grade dev check` ([`crate::dev`]) names every
//! file that still holds it, so the outline cannot be shipped by mistake: the exercise is
//! done when `dev check` accepts it. The outline compiles as it is, and its stub already stops
//! at a `todo!()`, as every stub must.
//!
//! Every file is prepared in memory first and nothing is written if one of the files to edit
//! is not as expected (an anchor missing) or the exercise already exists.

mod outline;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use outline::Outline;

use crate::dev::layout::{Entries, expected_dir, invalid_name, module_name, read, totals_sentence};

/// What `new` leaves for the author to replace; `dev check` looks for it.
pub const PLACEHOLDER: &str = "TODO(cargo grade new)";

/// `cargo grade new NAME`: writes the outline and says what comes next.
pub fn new_command(root: &Path, name: &str, points: u32) -> Result<std::process::ExitCode> {
    let written = new_exercise(root, name, points)?;
    println!("wrote the outline of exercise {name} ({points} points):");
    for file in &written {
        println!("  {file}");
    }
    println!(
        "Next: replace every {PLACEHOLDER} (the task, the stub's TODO steps, the solution and \
         its test, the checks, the chapter, the hints, the table rows), add the checks to \
         docs/src/grader-reference.md, then run `cargo grade dev check` until it accepts the \
         exercise."
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// One file to write: created, or rewritten whole after an edit.
struct Write {
    path: PathBuf,
    text: String,
    created: bool,
}

/// Writes the outline of exercise `name`, worth `points`, at the end of the lab in `root`.
/// Returns the files written, relative to `root`, created ones first.
pub fn new_exercise(root: &Path, name: &str, points: u32) -> Result<Vec<String>> {
    if let Some(reason) = invalid_name(name) {
        bail!("{reason}");
    }
    if points == 0 {
        bail!("an exercise must be worth at least 1 point (--points)");
    }
    let info_text = read(&root.join("info.toml"))?;
    let info = Entries::parse(&info_text)?;
    if info.exercises.iter().any(|exercise| exercise.name == name) {
        bail!("info.toml already has an exercise named {name:?}: choose another name");
    }
    let number = info.exercises.len() + 1;
    let dir = expected_dir(info.exercises.len(), name);
    let module = module_name(name);
    let outline = Outline {
        name,
        dir: &dir,
        module: &module,
        number,
        points,
        key: number as i32 * 1000 + number as i32,
    };

    let mut writes = Vec::new();
    let mut create = |path: String, text: String| {
        writes.push(Write {
            path: PathBuf::from(path),
            text,
            created: true,
        });
    };
    let stub = outline.stub();
    create(
        format!("exercises/{dir}/Cargo.toml"),
        outline.manifest(false),
    );
    create(format!("exercises/{dir}/README.md"), outline.readme());
    create(format!("exercises/{dir}/src/main.rs"), stub.clone());
    create(format!("grader/src/student/originals/{dir}/main.rs"), stub);
    create(
        format!("solutions/{dir}/Cargo.toml"),
        outline.manifest(true),
    );
    create(format!("solutions/{dir}/src/main.rs"), outline.solution());
    create(
        format!("solutions/{dir}/tests/{name}.rs"),
        outline.solution_test(),
    );
    create(format!("grader/src/exercises/{module}.rs"), outline.spec());
    create(format!("docs/src/exercises/{dir}.md"), outline.chapter());

    let edit = |path: &str, edit: &dyn Fn(&str) -> Result<String>| -> Result<Write> {
        let text = read(&root.join(path))?;
        Ok(Write {
            path: PathBuf::from(path),
            text: edit(&text).with_context(|| format!("Failed to add {name} to {path}"))?,
            created: false,
        })
    };
    writes.push(edit("info.toml", &|text| Ok(outline.info_entry(text)))?);
    writes.push(edit("grader/src/exercises.rs", &|text| {
        outline.table(text)
    })?);
    writes.push(edit("docs/src/SUMMARY.md", &|text| {
        after_last(
            text,
            |line| line.contains("](exercises/"),
            &outline.summary_line(),
        )
    })?);
    writes.push(edit("README.md", &|text| {
        after_last(
            text,
            |line| is_numbered_row(line, "`"),
            &outline.readme_row(),
        )
    })?);
    writes.push(edit("docs/src/grader-reference.md", &|text| {
        outline.reference_section(text)
    })?);
    let before = totals_sentence(info.exercises.len(), info.total_points());
    let after = totals_sentence(number, info.total_points() + points);
    writes.push(edit("docs/src/instructor-guide.md", &|text| {
        let text = after_last(
            text,
            |line| is_numbered_row(line, "["),
            &outline.guide_row(),
        )?;
        Ok(text.replace(&before, &after))
    })?);

    for write in &writes {
        if write.created && root.join(&write.path).exists() {
            bail!(
                "{} already exists: remove it or choose another name",
                write.path.display()
            );
        }
    }
    for write in &writes {
        let path = root.join(&write.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("Failed to create {}", parent.display()))?;
        }
        fs::write(&path, &write.text)
            .with_context(|| format!("Failed to write {}", path.display()))?;
    }
    Ok(writes
        .iter()
        .map(|write| write.path.display().to_string())
        .collect())
}

/// `text` with `line` inserted after the last line that `is_anchor` accepts.
fn after_last(text: &str, is_anchor: impl Fn(&str) -> bool, line: &str) -> Result<String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(last) = lines.iter().rposition(|candidate| is_anchor(candidate)) else {
        bail!("found no exercise line to add one after");
    };
    let mut out: Vec<&str> = lines[..=last].to_vec();
    out.push(line);
    out.extend(&lines[last + 1..]);
    Ok(out.join("\n") + "\n")
}

/// `source` with `mod MODULE;` among its `mod` lines, in rustfmt's (alphabetical) order, before
/// the attributes of the line it goes before.
fn insert_mod(source: &str, module: &str) -> Result<String> {
    let lines: Vec<&str> = source.lines().collect();
    let name_of = |line: &str| {
        let rest = line.strip_prefix("pub ").unwrap_or(line);
        Some(rest.strip_prefix("mod ")?.strip_suffix(';')?.to_owned())
    };
    let is_mod = |line: &str| name_of(line).is_some();
    let last = lines
        .iter()
        .rposition(|line| is_mod(line))
        .context("found no `mod NAME;` line")?;
    let mut at = lines
        .iter()
        .position(|line| name_of(line).is_some_and(|name| name.as_str() > module))
        .unwrap_or(last + 1);
    while at > 0 && lines[at - 1].starts_with("#[") && at <= last {
        at -= 1;
    }
    let declaration = format!("mod {module};");
    let mut out: Vec<&str> = lines[..at].to_vec();
    out.push(&declaration);
    out.extend(&lines[at..]);
    Ok(out.join("\n") + "\n")
}

/// `| 7 | `guard` |…` (README) or `| 7 | [guard](…` (instructor guide).
fn is_numbered_row(line: &str, cell_start: &str) -> bool {
    let Some(rest) = line.strip_prefix("| ") else {
        return false;
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    !digits.is_empty() && rest[digits.len()..].starts_with(&format!(" | {cell_start}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODS: &str = "mod attach;\n#[cfg(feature = \"instructor\")]\nmod instructor;\nmod sized;\npub mod spec;\n\nuse x;\n";

    #[test]
    fn a_module_goes_in_rustfmts_order_before_the_attributes_of_the_next() {
        let with = |module| insert_mod(MODS, module).expect("inserted");
        assert!(with("demo").starts_with("mod attach;\nmod demo;\n#[cfg("));
        assert!(with("ring").contains("mod instructor;\nmod ring;\nmod sized;\n"));
        assert!(with("zebra").contains("pub mod spec;\nmod zebra;\n\nuse x;\n"));
        assert!(
            insert_mod("use x;\n", "demo").is_err(),
            "no mod line: refused"
        );
    }

    #[test]
    fn rows_are_added_after_the_last_numbered_row() {
        let table = "| # | x |\n|---|---|\n| 1 | `a` | b |\n| 2 | `c` | d |\n\ntext | 3 | `e`\n";
        let added =
            after_last(table, |line| is_numbered_row(line, "`"), "| 3 | `f` | g |").expect("added");
        assert!(
            added.contains("| 2 | `c` | d |\n| 3 | `f` | g |\n\ntext"),
            "{added}"
        );
        assert!(!is_numbered_row("| # | x |", "`"));
        assert!(is_numbered_row("| 12 | [a](b) |", "["));
    }
}
