//! The outline's files, written from the new exercise's name, folder, number, points and key:
//! each method is one file (or one line of a file) of the outline. Whatever only the author
//! can write is [`PLACEHOLDER`]; the rest is what `dev check` and the book's tests ask for.

use anyhow::{Context, Result};

use super::{PLACEHOLDER, insert_mod};

/// The values every file of the outline is written from.
pub struct Outline<'a> {
    pub name: &'a str,
    pub dir: &'a str,
    pub module: &'a str,
    pub number: usize,
    pub points: u32,
    pub key: i32,
}

impl Outline<'_> {
    pub fn manifest(&self, solution: bool) -> String {
        let (package, description, dev) = if solution {
            (
                format!("{}-solution", self.name),
                format!("Reference solution of exercise {}", self.dir),
                "\n[dev-dependencies]\n\
                 # The exercise's key, size and output, from info.toml (grader::exercises::spec).\n\
                 grader = { path = \"../../grader\" }\nassert_cmd.workspace = true\n\
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

    pub fn readme(&self) -> String {
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

    pub fn stub(&self) -> String {
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

    pub fn solution(&self) -> String {
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

    pub fn solution_test(&self) -> String {
        format!(
            "//! Runs the `{name}` solution as a process, in a private IPC namespace per test, and \
             checks\n//! what it prints and leaves in the kernel against the spec.\n\n\
             use assert_cmd::Command;\n\n#[test]\nfn does_what_the_spec_says() {{\n    \
             sysv::testing::private_ipc_namespace();\n    \
             // {PLACEHOLDER}: assert the output (its lines are grader::exercises::spec::{module}'s\n    \
             // constants, filled with grader::exercises::spec::fill), the exit status and the\n    \
             // segments left.\n    \
             Command::cargo_bin(\"{name}-solution\")\n        \
             .expect(\"the {name}-solution binary is built by cargo test\")\n        \
             .assert()\n        .success();\n}}\n",
            name = self.name,
            module = self.module,
        )
    }

    pub fn spec(&self) -> String {
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
             // The expected lines: super::spec::{module}'s constants (info.toml's\n                \
             // [exercises.output]), filled with super::spec::fill.\n                \
             |_run| Err(Failure::new(\"this check is not written yet\")),\n            \
             ),\n    ]\n}}\n",
            dir = self.dir,
            module = self.module,
            points = self.points,
        )
    }

    pub fn chapter(&self) -> String {
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

    pub fn info_entry(&self, info: &str) -> String {
        format!(
            "{}\n\n[[exercises]]\nname = \"{name}\"\ndir = \"{dir}\"\npoints = {points}\nkey = {key}\n\
             hint = \"\"\"\n{PLACEHOLDER}: the concept, and the question to ask yourself.\"\"\"\n\
             hint_calls = \"\"\"\n{PLACEHOLDER}: the calls involved, by name.\"\"\"\n\
             hint_shape = \"\"\"\n{PLACEHOLDER}: the shape of the code, with blanks (___).\"\"\"\n\n\
             [exercises.output]\n\
             line = \"{PLACEHOLDER}: a line the program prints, as its README states it, {{id}} where the id goes\"\n",
            info.trim_end(),
            name = self.name,
            dir = self.dir,
            points = self.points,
            key = self.key,
        )
    }

    /// `grader/src/exercises.rs` with `mod MODULE;` after the last `mod` line and the exercise's
    /// line at the end of `TABLE`.
    pub fn table(&self, source: &str) -> Result<String> {
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
    pub fn reference_section(&self, reference: &str) -> Result<String> {
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

    pub fn summary_line(&self) -> String {
        format!(
            "- [Exercise {}: {}](exercises/{}.md)",
            self.number, self.name, self.dir
        )
    }

    pub fn readme_row(&self) -> String {
        format!(
            "| {} | `{}` | {PLACEHOLDER}: what you write | the calls |",
            self.number, self.name
        )
    }

    pub fn guide_row(&self) -> String {
        format!(
            "| {} | [{}](exercises/{}.md) | {} | {PLACEHOLDER}: what it adds |",
            self.number, self.name, self.dir, self.points
        )
    }
}
