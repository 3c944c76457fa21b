//! `cargo grade new NAME`: the outline of a new exercise, in every place that shows it.
//!
//! It writes the stub and solution crates (the workspace's `exercises/*` and `solutions/*`
//! globs make them members), the solution's test, the grader's tests and checks
//! (`grader/src/exercises/NAME.rs`, with its `mod` and `TABLE` lines), the pristine stub for
//! `cargo grade reset`, the `info.toml` entry, the book chapter, its `SUMMARY.md` line and its
//! section in the grader reference, and
//! the exercise's rows in the README's and the instructor guide's tables (and the guide's
//! count of exercises and points).
//!
//! What only the author can write (the task, the checks, the solution, the chapter's prose)
//! is marked with [`PLACEHOLDER`], and `cargo grade dev check` ([`crate::dev`]) names every
//! file that still holds it, so the outline cannot be shipped by mistake: the exercise is
//! done when `dev check` accepts it. The outline compiles as it is, and its stub already stops
//! at a `todo!()`, as every stub must.
//!
//! Every file is prepared in memory first and nothing is written if one of the files to edit
//! is not as expected (an anchor missing) or the exercise already exists.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

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
    Ok(std::process::ExitCode::from(crate::app::EXIT_FULL_MARKS))
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

/// The values every file of the outline is written from.
struct Outline<'a> {
    name: &'a str,
    dir: &'a str,
    module: &'a str,
    number: usize,
    points: u32,
    key: i32,
}

impl Outline<'_> {
    fn manifest(&self, solution: bool) -> String {
        let (package, description, dev) = if solution {
            (
                format!("{}-solution", self.name),
                format!("Reference solution of exercise {}", self.dir),
                "\n[dev-dependencies]\nassert_cmd.workspace = true\n\
                 sysv = { workspace = true, features = [\"testing\"] }\n",
            )
        } else {
            (
                self.name.to_owned(),
                format!("Exercise {} (stub): edit src/main.rs", self.dir),
                "",
            )
        };
        format!(
            "[package]\nname = \"{package}\"\ndescription = \"{description}\"\nversion = \"0.1.0\"\n\
             edition.workspace = true\nrust-version.workspace = true\nlicense.workspace = true\n\
             publish.workspace = true\n\n[dependencies]\nsysv.workspace = true\n\n\
             [lints]\nworkspace = true\n{dev}"
        )
    }

    fn readme(&self) -> String {
        format!(
            "# Exercise {number}: {name}\n\n**Goal:** {PLACEHOLDER}: the task, as the student reads \
             it: what the program does, its key ({key}, `{key:#x}`), what it prints, its errors \
             and exit statuses.\n\nFollow the `// TODO` comments in `src/main.rs`; the chapter \
             (docs/src/exercises/{dir}.md) explains what the grader checks. Grade with `cargo \
             grade {name}`.\n",
            number = self.number,
            name = self.name,
            key = self.key,
            dir = self.dir,
        )
    }

    fn stub(&self) -> String {
        format!(
            "//! Exercise {number}, `{name}`: {PLACEHOLDER}: the task in one line.\n//!\n\
             //! The whole task is in exercises/{dir}/README.md. Run it with `cargo run -p {name}`;\n\
             //! grade it with `cargo grade {name}`.\n\nuse std::process::ExitCode;\n\n\
             fn main() -> ExitCode {{\n    \
             // {PLACEHOLDER}: the steps, as TODO comments: what to do and where to look, never the\n    \
             // code to type.\n    \
             todo!(\"write the program\")\n}}\n",
            number = self.number,
            name = self.name,
            dir = self.dir,
        )
    }

    fn solution(&self) -> String {
        format!(
            "//! Reference solution of exercise {number}, `{name}`.\n\nuse std::process::ExitCode;\n\n\
             fn main() -> ExitCode {{\n    \
             // {PLACEHOLDER}: the reference solution: every call checked, its cause printed,\n    \
             // cleanup on every path.\n    \
             todo!(\"write the reference solution\")\n}}\n",
            number = self.number,
            name = self.name,
        )
    }

    fn solution_test(&self) -> String {
        format!(
            "//! Runs the `{name}` solution as a process, in a private IPC namespace per test, and \
             checks\n//! what it prints and leaves in the kernel against the spec.\n\n\
             use assert_cmd::Command;\n\n#[test]\nfn does_what_the_spec_says() {{\n    \
             sysv::testing::private_ipc_namespace();\n    \
             // {PLACEHOLDER}: assert the output, the exit status and the segments left.\n    \
             Command::cargo_bin(\"{name}-solution\")\n        \
             .expect(\"the {name}-solution binary is built by cargo test\")\n        \
             .assert()\n        .success();\n}}\n",
            name = self.name,
        )
    }

    fn spec(&self) -> String {
        format!(
            "//! {dir}: {PLACEHOLDER}: the spec in one line.\n\n\
             use super::spec::{module}::KEY;\n\
             use crate::checks::{{Failure, Test}};\n\n\
             pub fn tests() -> Vec<Test> {{\n    \
             vec![\n        \
             Test::new(\"{PLACEHOLDER}: what the main scenario does\", &[KEY])\n            \
             .run(&[])\n            \
             .check(\n                \
             {points},\n                \
             \"{PLACEHOLDER}: the first check\",\n                \
             \"{PLACEHOLDER}: what to try when it fails\",\n                \
             |_run| Err(Failure::new(\"this check is not written yet\")),\n            \
             ),\n    ]\n}}\n",
            dir = self.dir,
            module = self.module,
            points = self.points,
        )
    }

    fn chapter(&self) -> String {
        format!(
            "# Exercise {number}: {name}\n\n\
             > - **Task:** `exercises/{dir}/README.md`; **you edit** `exercises/{dir}/src/main.rs`\n\
             > - **Run:** `cargo run -p {name}` · **grade:** `cargo grade {name}` · **hint:** `cargo grade hint {name}`\n\
             > - **Points:** {points}\n\n\
             **Goal:** {PLACEHOLDER}: what the program does with the segment of key {key} \
             (`{key:#x}`), and what it teaches.\n\n\
             ```console\n$ cargo run -p {name}\n{PLACEHOLDER}: what the solution prints\n```\n\n\
             ## What the grader checks\n\n\
             | check | why |\n|---|---|\n\
             | {PLACEHOLDER}: the first check | {PLACEHOLDER}: why |\n",
            number = self.number,
            name = self.name,
            dir = self.dir,
            points = self.points,
            key = self.key,
        )
    }

    fn info_entry(&self, info: &str) -> String {
        format!(
            "{}\n\n[[exercises]]\nname = \"{name}\"\ndir = \"{dir}\"\npoints = {points}\nkey = {key}\n\
             hint = \"\"\"\n{PLACEHOLDER}: the concept, and the question to ask yourself.\"\"\"\n\
             hint_calls = \"\"\"\n{PLACEHOLDER}: the calls involved, by name.\"\"\"\n\
             hint_shape = \"\"\"\n{PLACEHOLDER}: the shape of the code, with blanks (___).\"\"\"\n",
            info.trim_end(),
            name = self.name,
            dir = self.dir,
            points = self.points,
            key = self.key,
        )
    }

    /// `grader/src/exercises.rs` with `mod MODULE;` after the last `mod` line and the exercise's
    /// line at the end of `TABLE`.
    fn table(&self, source: &str) -> Result<String> {
        let with_mod = insert_mod(source, self.module)?;
        let table_start = with_mod
            .find("pub const TABLE")
            .context("found no `pub const TABLE`")?;
        let end = table_start
            + with_mod[table_start..]
                .find("\n];")
                .context("found no end of `TABLE` (`];` on a line of its own)")?;
        Ok(format!(
            "{}\n    (\"{}\", {}::tests),{}",
            &with_mod[..end],
            self.name,
            self.module,
            &with_mod[end..]
        ))
    }

    /// The grader reference with the exercise's section last under "Every check".
    fn reference_section(&self, reference: &str) -> Result<String> {
        let every_check = reference
            .find("\n## Every check")
            .context("found no \"## Every check\" heading")?;
        let end = reference[every_check + 1..]
            .find("\n## ")
            .map_or(reference.len(), |end| every_check + 1 + end + 1);
        Ok(format!(
            "{}### {name} ({points} points)\n\n\
             | test | check | points | passes when |\n|---|---|---|---|\n\
             | {PLACEHOLDER}: what the main scenario does | {PLACEHOLDER}: the first check | \
             {points} | {PLACEHOLDER}: what the check observes |\n\n{}",
            &reference[..end],
            &reference[end..],
            name = self.name,
            points = self.points,
        ))
    }

    fn summary_line(&self) -> String {
        format!(
            "- [Exercise {}: {}](exercises/{}.md)",
            self.number, self.name, self.dir
        )
    }

    fn readme_row(&self) -> String {
        format!(
            "| {} | `{}` | {PLACEHOLDER}: what you write | the calls |",
            self.number, self.name
        )
    }

    fn guide_row(&self) -> String {
        format!(
            "| {} | [{}](exercises/{}.md) | {} | {PLACEHOLDER}: what it adds |",
            self.number, self.name, self.dir, self.points
        )
    }
}
