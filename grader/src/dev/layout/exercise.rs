//! The pieces of one exercise, each looked at by one method of [`Inspection`], in the order
//! an author writes them: the crates, the key, the output the task states, the grader's checks,
//! the copy `reset` restores,
//! the book, the tables, and what `cargo grade new` left to write.

use std::fs;
use std::path::Path;

use super::{Entry, Files, declared_spec, module_name, table_rows};
use crate::checks::Test;
use crate::dev::Problem;
use crate::exercises::{TABLE, spec};
use crate::scaffold::PLACEHOLDER;

/// One exercise's pieces, and the problems found so far.
pub struct Inspection<'a> {
    root: &'a Path,
    files: &'a Files,
    /// Its place in `info.toml` (0-based).
    index: usize,
    exercise: &'a Entry,
    pub problems: Vec<Problem>,
}

impl<'a> Inspection<'a> {
    pub fn new(root: &'a Path, files: &'a Files, index: usize, exercise: &'a Entry) -> Self {
        Inspection {
            root,
            files,
            index,
            exercise,
            problems: Vec::new(),
        }
    }

    /// Every check, in the order an author writes the pieces.
    pub fn run(mut self) -> Vec<Problem> {
        self.crates();
        self.declared_key_and_size();
        self.readme_states_the_output();
        let checks = self.grader_checks();
        self.original();
        self.chapter(&checks);
        self.summary_and_reference(&checks);
        self.tables();
        self.placeholders();
        self.problems
    }

    fn name(&self) -> &'a str {
        &self.exercise.name
    }

    fn dir(&self) -> &'a str {
        &self.exercise.dir
    }

    fn problem(&mut self, piece: impl Into<String>, message: impl Into<String>) {
        let name = self.exercise.name.as_str();
        self.problems.push(Problem::new(Some(name), piece, message));
    }

    fn read(&self, file: &str) -> Option<String> {
        fs::read_to_string(self.root.join(file)).ok()
    }

    fn stub(&self) -> String {
        format!("exercises/{}/src/main.rs", self.dir())
    }

    fn module(&self) -> String {
        format!("grader/src/exercises/{}.rs", module_name(self.name()))
    }

    fn chapter_path(&self) -> String {
        format!("exercises/{}.md", self.dir())
    }

    fn readme_row(&self) -> String {
        format!("| {} | `{}` |", self.index + 1, self.name())
    }

    fn guide_row(&self) -> String {
        format!(
            "| {} | [{}]({}) | {} |",
            self.index + 1,
            self.name(),
            self.chapter_path(),
            self.exercise.points
        )
    }

    /// The stub and solution crates, the task, the solution's tests.
    fn crates(&mut self) {
        let (name, dir) = (self.name(), self.dir());
        for (folder, package, what) in [
            ("exercises", name.to_owned(), "stub"),
            ("solutions", format!("{name}-solution"), "solution"),
        ] {
            let manifest = format!("{folder}/{dir}/Cargo.toml");
            match self.read(&manifest) {
                None => self.problem(
                    manifest,
                    format!(
                        "missing: the {what}'s crate, package `{package}` (`cargo grade new` \
                         writes one)"
                    ),
                ),
                Some(text) if !text.contains(&format!("name = \"{package}\"")) => self.problem(
                    manifest,
                    format!("its package is not named `{package}`: set `name = \"{package}\"`"),
                ),
                Some(_) => {}
            }
            let main = format!("{folder}/{dir}/src/main.rs");
            if !self.root.join(&main).is_file() {
                self.problem(main, format!("missing: the {what}'s program"));
            }
        }
        let stub = self.stub();
        if self
            .read(&stub)
            .is_some_and(|text| !text.contains("todo!("))
        {
            self.problem(
                stub,
                "has no `todo!(…)`: a stub stops at a todo!() so that the grader reports it \
                 \"not started\"; state the task in TODO comments and end each unwritten part \
                 with todo!(\"…\")",
            );
        }
        let readme = format!("exercises/{dir}/README.md");
        if !self.root.join(&readme).is_file() {
            self.problem(readme, "missing: the task, as the student reads it");
        }
        if self.solution_tests().is_empty() {
            self.problem(
                format!("solutions/{dir}/tests/"),
                format!(
                    "has no test: the solution's tests run it as a process against the spec \
                     (`cargo test -p {name}-solution`)"
                ),
            );
        }
    }

    /// The solution's test files, relative to the root.
    fn solution_tests(&self) -> Vec<String> {
        let folder = format!("solutions/{}/tests", self.dir());
        let Ok(entries) = fs::read_dir(self.root.join(&folder)) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "rs"))
            .map(|entry| format!("{folder}/{}", entry.file_name().to_string_lossy()))
            .collect()
    }

    /// The key and size, written in info.toml, declared again by the programs themselves (and
    /// by a grader module that does not take them from `spec` yet).
    fn declared_key_and_size(&mut self) {
        let sources = [
            self.stub(),
            format!("solutions/{}/src/main.rs", self.dir()),
            self.module(),
        ];
        for program in sources {
            let Some(text) = self.read(&program) else {
                continue;
            };
            for (constant, declared, expected) in declared_spec(&text, self.exercise) {
                self.problem(
                    program.clone(),
                    format!(
                        "declares {constant} = {declared}; info.toml says {expected}: make them \
                         agree (a grader module takes them from `super::spec::NAME`)"
                    ),
                );
            }
        }
    }

    /// The task states every output text of the spec, as info.toml writes it (the checks, the
    /// solutions' tests and the book take them from there).
    fn readme_states_the_output(&mut self) {
        let readme = format!("exercises/{}/README.md", self.dir());
        let Some(text) = self.read(&readme) else {
            return; // named by `crates`
        };
        let exercise = self.exercise;
        for name in spec::unstated(&text, exercise.key, &exercise.output) {
            self.problem(
                readme.clone(),
                format!(
                    "does not state the output `{name}` of info.toml, {}: show it as the \
                     program prints it (the key in hex, any value where another placeholder is), \
                     or fix info.toml",
                    exercise.output[&name]
                ),
            );
        }
    }

    /// The grader's tests and checks; returns the checks' points and names.
    fn grader_checks(&mut self) -> Vec<(u32, &'static str)> {
        let (name, module) = (self.name(), self.module());
        if !self.root.join(&module).is_file() {
            self.problem(
                module.clone(),
                "missing: the exercise's tests and checks (`pub fn tests() -> Vec<Test>`)",
            );
        }
        let Some((_, tests)) = TABLE.iter().find(|(entry, _)| *entry == name) else {
            self.problem(
                "grader/src/exercises.rs",
                format!(
                    "`TABLE` has no line for it: add `mod {0};` and `(\"{name}\", {0}::tests),` \
                     (then rebuild the grader: run through `cargo grade`)",
                    module_name(name)
                ),
            );
            return Vec::new();
        };
        let tests = tests();
        let points: u32 = tests.iter().map(Test::points).sum();
        if points != self.exercise.points {
            self.problem(
                module,
                format!(
                    "its checks are worth {points} points in all; info.toml says {}: make them \
                     agree",
                    self.exercise.points
                ),
            );
        }
        tests
            .iter()
            .flat_map(|test| &test.checks)
            .map(|check| (check.points, check.name))
            .collect()
    }

    /// What `cargo grade reset` restores.
    fn original(&mut self) {
        let (name, stub) = (self.name(), self.stub());
        let original = format!("grader/src/student/originals/{}/main.rs", self.dir());
        match (self.read(&original), self.read(&stub)) {
            (None, _) => self.problem(
                original,
                format!(
                    "missing: the pristine stub `cargo grade reset {name}` restores: copy {stub} \
                     there"
                ),
            ),
            (Some(copy), Some(stub_text)) if copy != stub_text => self.problem(
                original,
                format!(
                    "differs from {stub}: copy the stub again \
                     (`SHMLAB_BLESS=1 cargo test -p grader --test student_originals`)"
                ),
            ),
            _ => {}
        }
    }

    /// The chapter: title, session, key, points, a row per check.
    fn chapter(&mut self, checks: &[(u32, &'static str)]) {
        let name = self.name();
        let file = format!("docs/src/{}", self.chapter_path());
        let Some(chapter) = self.read(&file) else {
            self.problem(
                file,
                "missing: the exercise's chapter (`cargo grade new` writes its outline)",
            );
            return;
        };
        let title = chapter.lines().next().unwrap_or("");
        if !(title.starts_with("# ") && title.contains(name)) {
            self.problem(
                file.clone(),
                format!("its first line should be the title, naming `{name}`; it is {title:?}"),
            );
        }
        let session = format!("$ cargo run -p {name}");
        if !chapter.contains(&session) {
            self.problem(
                file.clone(),
                format!(
                    "has no terminal session: open it with a ```console block of `{session}` and \
                     what the solution prints (the book's tests replay it)"
                ),
            );
        }
        if let Some(key) = self.exercise.key
            && !(chapter.contains(&key.to_string()) && chapter.contains(&format!("`{key:#x}`")))
        {
            self.problem(
                file.clone(),
                format!("should state the key, {key} (`{key:#x}`), as info.toml gives it"),
            );
        }
        let points = format!("**Points:** {}", self.exercise.points);
        if !chapter.contains(&points) {
            self.problem(file.clone(), format!("should say {points} (info.toml's)"));
        }
        for (_, check) in checks {
            if !chapter.contains(check) {
                self.problem(
                    file.clone(),
                    format!("its \"What the grader checks\" table has no row for {check:?}"),
                );
            }
        }
    }

    /// The chapter's line in SUMMARY.md, in the lab's order, and the checks in the reference.
    fn summary_and_reference(&mut self, checks: &[(u32, &'static str)]) {
        let (name, index, chapter_path) = (self.name(), self.index, self.chapter_path());
        let entry = format!("({chapter_path})");
        let position = self
            .files
            .summary
            .lines()
            .filter(|line| line.contains("(exercises/"))
            .position(|line| line.contains(&entry));
        match position {
            None => self.problem(
                "docs/src/SUMMARY.md",
                format!(
                    "has no line for its chapter: add `- [Exercise {}: {name}]({chapter_path})` \
                     after exercise {index}'s",
                    index + 1
                ),
            ),
            Some(position) if position != index => self.problem(
                "docs/src/SUMMARY.md",
                format!(
                    "lists its chapter in place {}; it is exercise {} in info.toml: keep the \
                     lab's order",
                    position + 1,
                    index + 1
                ),
            ),
            Some(_) => {}
        }
        for (points, check) in checks {
            let points = points.to_string();
            let found = table_rows(&self.files.reference)
                .any(|row| row.contains(check) && row.split('|').any(|cell| cell.trim() == points));
            if !found {
                self.problem(
                    "docs/src/grader-reference.md",
                    format!(
                        "has no row for the check {check:?} with its {points} point(s): add one \
                         to the exercise's table under \"Every check\""
                    ),
                );
            }
        }
    }

    /// The rows of the README's and the instructor guide's tables of exercises.
    fn tables(&mut self) {
        let readme_row = self.readme_row();
        if !table_rows(&self.files.readme).any(|row| row.starts_with(&readme_row)) {
            self.problem(
                "README.md",
                format!(
                    "\"The exercises\" has no row `{readme_row} what you write | C calls |`: add it"
                ),
            );
        }
        let guide_row = self.guide_row();
        if !table_rows(&self.files.guide).any(|row| row.starts_with(&guide_row)) {
            self.problem(
                "docs/src/instructor-guide.md",
                format!("\"The exercises\" has no row `{guide_row} what it adds |`: add it"),
            );
        }
    }

    /// What `cargo grade new` left to write: every piece still holding [`PLACEHOLDER`].
    fn placeholders(&mut self) {
        let dir = self.dir();
        let mut own_files = vec![
            format!("exercises/{dir}/README.md"),
            self.stub(),
            format!("solutions/{dir}/src/main.rs"),
            self.module(),
            format!("docs/src/{}", self.chapter_path()),
        ];
        own_files.extend(self.solution_tests());
        let mut left: Vec<String> = own_files
            .into_iter()
            .filter(|file| {
                self.read(file)
                    .is_some_and(|text| text.contains(PLACEHOLDER))
            })
            .collect();
        for (file, text, row) in [
            ("README.md", &self.files.readme, self.readme_row()),
            (
                "docs/src/instructor-guide.md",
                &self.files.guide,
                self.guide_row(),
            ),
        ] {
            if text
                .lines()
                .any(|line| line.starts_with(&row) && line.contains(PLACEHOLDER))
            {
                left.push(format!("{file} (its row)"));
            }
        }
        let heading = format!("### {} (", self.name());
        if let Some(start) = self.files.reference.find(&heading) {
            let section = &self.files.reference[start + 1..];
            let section = &section[..section.find("\n#").unwrap_or(section.len())];
            if section.contains(PLACEHOLDER) {
                left.push("docs/src/grader-reference.md (its section)".to_owned());
            }
        }
        for file in left {
            self.problem(
                file,
                format!("still says {PLACEHOLDER}: write what it asks for, then delete the marker"),
            );
        }
    }
}
