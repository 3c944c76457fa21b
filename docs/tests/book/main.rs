//! Tests of the shmlab book (`docs/`): that it is complete, that it holds together, and that its
//! code compiles.
//!
//! - Completeness: every exercise of `info.toml` has its chapter, in the lab's order, and every
//!   page is reachable from `SUMMARY.md`.
//! - Links: every relative link points at a page that exists, and every `#anchor` at a heading
//!   of the rendered page (checked in mdBook's HTML, so the ids are mdBook's own).
//! - Code: every fenced block names its language (mdBook treats a bare block as Rust), and every
//!   ```` ```rust ```` block not marked `ignore` compiles against the lab's `sysv` crate; every
//!   whole C program compiles warning-free; every ```` ```sh ```` script parses (`bash -n`); every
//!   ```` ```json ```` example parses.
//! - Rendering: the book builds (in-process, with mdBook's library crates) and has an HTML page
//!   for every chapter.
//! - The grader: every check the grader defines is in the grader reference with its points, and
//!   in its exercise's chapter, and renders verbatim (no smart dashes in `--exclusive`); every
//!   field of the JSON report is in the reference.
//!
//! - Examples: the terminal session at the top of each exercise chapter is replayed against the
//!   reference solution and must print what the book shows; and the chapter's sessions and
//!   output blocks show every output text of the exercise's spec (info.toml, read through
//!   `grader::exercises::spec`, as the grader's checks and the solutions' tests read it).
//!
//! Only the replayed sessions touch System V IPC, each chapter's in a private IPC namespace of
//! its own (so ids start at 0, as the book shows them, and nothing reaches the machine).

mod examples;
mod grader;
mod markdown;
mod render;
mod snippets;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

use ::grader::exercises::spec;
use serde::Deserialize;

use markdown::Page;

/// `docs/`.
fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `docs/src/`.
fn src() -> PathBuf {
    docs().join("src")
}

/// The workspace root (`info.toml`, `sysv/`, `Cargo.lock`).
fn workspace() -> PathBuf {
    docs()
        .parent()
        .expect("docs/ is inside the workspace")
        .to_path_buf()
}

fn pages() -> Vec<Page> {
    markdown::read_pages(&src())
}

fn summary_chapters() -> Vec<PathBuf> {
    let summary = fs::read_to_string(src().join("SUMMARY.md")).expect("reading SUMMARY.md");
    markdown::summary_chapters(&summary)
}

#[derive(Deserialize)]
struct Info {
    exercises: Vec<Exercise>,
}

#[derive(Deserialize)]
struct Exercise {
    name: String,
    dir: String,
    points: u32,
    /// The segment's key, written once in info.toml (the grader's checks and the solutions'
    /// tests take it from there too).
    key: Option<i32>,
    /// What the program prints (`[exercises.output]`), as the grader's checks and the
    /// solutions' tests expect it.
    #[serde(default)]
    output: toml::Table,
}

impl Exercise {
    /// Its chapter: the path under `docs/src/` and the text.
    fn chapter(&self) -> (String, String) {
        let chapter = format!("exercises/{}.md", self.dir);
        let text = fs::read_to_string(src().join(&chapter))
            .unwrap_or_else(|e| panic!("reading {chapter}: {e}"));
        (chapter, text)
    }
}

fn exercises() -> Vec<Exercise> {
    let text = fs::read_to_string(workspace().join("info.toml")).expect("reading info.toml");
    toml::from_str::<Info>(&text)
        .expect("parsing info.toml")
        .exercises
}

/// `dir/../a.md` -> `a.md`, so paths can be compared.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn every_exercise_has_its_chapter_in_the_labs_order() {
    let chapters = summary_chapters();
    let exercise_chapters: Vec<PathBuf> = chapters
        .iter()
        .filter(|chapter| chapter.starts_with("exercises"))
        .cloned()
        .collect();
    let expected: Vec<PathBuf> = exercises()
        .iter()
        .map(|exercise| PathBuf::from(format!("exercises/{}.md", exercise.dir)))
        .collect();
    assert_eq!(
        exercise_chapters, expected,
        "SUMMARY.md must list one chapter per exercise of info.toml, as exercises/DIR.md, in the same order"
    );
    for (exercise, chapter) in exercises().iter().zip(&expected) {
        let text = fs::read_to_string(src().join(chapter)).unwrap_or_else(|e| {
            panic!(
                "the chapter of `{}`, {}: {e}",
                exercise.name,
                chapter.display()
            )
        });
        let title = text.lines().next().unwrap_or("");
        assert!(
            title.starts_with("# ") && title.contains(&exercise.name),
            "{}: the first line should be the title, naming the exercise `{}`; it is {title:?}",
            chapter.display(),
            exercise.name
        );
    }
}

#[test]
fn every_chapter_says_where_its_exercise_is_and_what_it_is_worth() {
    for exercise in exercises() {
        let (chapter, text) = exercise.chapter();
        for needed in [
            format!("`exercises/{}/README.md`", exercise.dir),
            format!("`exercises/{}/src/main.rs`", exercise.dir),
            format!("`cargo run -p {}`", exercise.name),
            format!("`cargo grade {}`", exercise.name),
            format!("`cargo grade hint {}`", exercise.name),
            format!("**Points:** {}", exercise.points),
        ]
        .into_iter()
        .chain(exercise.key.into_iter().flat_map(|key| {
            // The key in decimal, as the code writes it, and in hex, as ipcs shows it.
            [format!("{key}"), format!("`{key:#x}`")]
        })) {
            assert!(
                text.contains(&needed),
                "{chapter} should say {needed} (info.toml's values)"
            );
        }
    }
}

#[test]
fn every_summary_entry_exists_and_every_page_is_listed() {
    let listed: BTreeSet<PathBuf> = summary_chapters().into_iter().collect();
    for chapter in &listed {
        assert!(
            src().join(chapter).is_file(),
            "SUMMARY.md lists {}, which does not exist",
            chapter.display()
        );
    }
    for page in pages() {
        if page.path != Path::new("SUMMARY.md") {
            assert!(
                listed.contains(&page.path),
                "{} is not in SUMMARY.md, so no reader can reach it",
                page.path.display()
            );
        }
    }
}

#[test]
fn every_internal_link_points_at_an_existing_page() {
    let mut broken = Vec::new();
    for page in pages() {
        for link in markdown::links(&page.text)
            .into_iter()
            .filter(|l| markdown::is_internal(&l.target))
        {
            let (file, _) = markdown::split_anchor(&link.target);
            if file.is_empty() {
                continue; // `#anchor` in the same page: see every_anchor_exists
            }
            let base = page.path.parent().unwrap_or(Path::new(""));
            let target = normalize(&base.join(file));
            if !src().join(&target).is_file() {
                broken.push(format!(
                    "{}:{}: {} (no file {})",
                    page.path.display(),
                    link.line,
                    link.target,
                    target.display()
                ));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_anchor_in_a_link_exists_in_the_rendered_page() {
    let book = render::book(&docs());
    let mut broken = Vec::new();
    for page in pages()
        .iter()
        .filter(|page| page.path != Path::new("SUMMARY.md"))
    {
        for link in markdown::links(&page.text)
            .into_iter()
            .filter(|l| markdown::is_internal(&l.target))
        {
            let (file, Some(anchor)) = markdown::split_anchor(&link.target) else {
                continue;
            };
            let target = if file.is_empty() {
                page.path.clone()
            } else {
                normalize(&page.path.parent().unwrap_or(Path::new("")).join(file))
            };
            let is_page = target.extension().is_some_and(|ext| ext == "md");
            if !is_page || !src().join(&target).is_file() {
                continue; // reported by every_internal_link_points_at_an_existing_page
            }
            if !book.anchors(&target).contains(anchor) {
                broken.push(format!(
                    "{}:{}: {} (no heading with id {anchor:?} in {})",
                    page.path.display(),
                    link.line,
                    link.target,
                    target.display()
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to missing anchors:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_book_renders_every_chapter() {
    let book = render::book(&docs());
    for chapter in summary_chapters() {
        let html = book.html_path(&chapter);
        let text = fs::read_to_string(&html).unwrap_or_else(|e| {
            panic!(
                "{} was not rendered ({}): {e}",
                chapter.display(),
                html.display()
            )
        });
        assert!(text.contains("<main>"), "{} has no content", html.display());
        // A Markdown table that did not parse (a stray `|`, a missing header row) becomes a
        // paragraph that starts with its first `|`.
        assert!(
            !text.contains("<p>|"),
            "{}: a table did not render (a paragraph starts with `|`)",
            chapter.display()
        );
    }
}

#[test]
fn every_code_block_names_its_language() {
    const LANGUAGES: [&str; 8] = ["rust", "c", "text", "console", "sh", "json", "toml", "yaml"];
    let mut unnamed = Vec::new();
    for page in pages() {
        for block in markdown::code_blocks(&page.text) {
            if !LANGUAGES.contains(&block.language()) {
                unnamed.push(format!(
                    "{}:{}: ```{}",
                    page.path.display(),
                    block.line,
                    block.info
                ));
            }
        }
    }
    assert!(
        unnamed.is_empty(),
        "code blocks must name one of {LANGUAGES:?} (mdBook treats a bare block as Rust):\n{}",
        unnamed.join("\n")
    );
}

#[test]
fn rust_snippets_compile_against_sysv() {
    let snippets = snippets::collect(&pages());
    assert!(
        !snippets.is_empty(),
        "the book should have compiled Rust snippets; found none"
    );
    if let Err(report) = snippets::check_all(&workspace(), &snippets) {
        panic!(
            "some of the book's Rust snippets do not compile (mark fragments ```rust,ignore):\n{report}"
        );
    }
}

#[test]
fn every_grader_check_is_in_the_reference_with_its_points() {
    let reference =
        fs::read_to_string(src().join("grader-reference.md")).expect("reading grader-reference.md");
    let rows = grader::table_rows(&reference);
    let mut missing = Vec::new();
    for exercise in exercises() {
        for check in grader::checks_of(&workspace(), &exercise.name) {
            let points = check.points.to_string();
            let found = rows
                .iter()
                .any(|row| row.contains(&check.name) && row.contains(&points));
            if !found {
                missing.push(format!(
                    "{}: {:?} ({} points)",
                    exercise.name, check.name, check.points
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "grader-reference.md needs a table row with each check's exact name and points; missing:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_grader_check_is_explained_in_its_chapter() {
    let mut missing = Vec::new();
    for exercise in exercises() {
        let (chapter, text) = exercise.chapter();
        let rows = grader::table_rows(&text);
        for check in grader::checks_of(&workspace(), &exercise.name) {
            if !rows.iter().any(|row| row.first() == Some(&check.name)) {
                missing.push(format!("{chapter}: {:?}", check.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "each chapter's \"What the grader checks\" table needs a row per check, named exactly as in the grader; missing:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_field_of_the_json_report_is_in_the_reference() {
    let source = fs::read_to_string(workspace().join("grader/src/report.rs"))
        .expect("reading grader/src/report.rs");
    let reference =
        fs::read_to_string(src().join("grader-reference.md")).expect("reading grader-reference.md");
    // The field table's first column names fields by path: `score`, `exercises[].name`, `.dir`,
    // `checks[].test`. A row documents the fields of the struct its first path belongs to.
    let rows = grader::table_rows(&reference);
    let documented = |prefix: &str, field: &str| {
        rows.iter().filter_map(|row| row.first()).any(|cell| {
            let paths: Vec<&str> = cell
                .split(',')
                .map(|path| path.trim().trim_matches('`'))
                .collect();
            let owner = paths.first().map_or("", |first| {
                first.rsplit_once('.').map_or("", |(owner, _)| owner)
            });
            let owner_matches = owner == prefix;
            owner_matches
                && paths.iter().any(|path| {
                    let name = path.rsplit_once('.').map_or(*path, |(_, name)| name);
                    name.trim_end_matches("[]") == field
                })
        })
    };
    let mut missing = Vec::new();
    for (name, prefix) in [
        ("Report", ""),
        ("ExerciseResult", "exercises[]"),
        ("CheckResult", "checks[]"),
    ] {
        let fields = grader::struct_fields(&source, name);
        assert!(
            !fields.is_empty(),
            "found no fields of `pub struct {name}` in grader/src/report.rs"
        );
        for field in fields {
            if !documented(prefix, &field) {
                missing.push(if prefix.is_empty() {
                    field
                } else {
                    format!("{prefix}.{field}")
                });
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fields of the JSON report without a row in grader-reference.md's field table: {}",
        missing.join(", ")
    );
}

#[test]
fn c_programs_compile() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut compiled = 0;
    let mut failures = Vec::new();
    for page in pages() {
        for block in markdown::code_blocks(&page.text) {
            // Whole programs only: the other C blocks are excerpts of one.
            if block.language() != "c" || !block.code.contains("int main(") {
                continue;
            }
            let file = dir.path().join(format!("program{compiled}.c"));
            fs::write(&file, &block.code).expect("writing a C file");
            compiled += 1;
            let output = std::process::Command::new("cc")
                .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"])
                .arg(&file)
                .output()
                .expect("running cc (the C compiler Rust links with)");
            if !output.status.success() {
                failures.push(format!(
                    "{}:{}:\n{}",
                    page.path.display(),
                    block.line,
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }
    }
    assert!(
        compiled > 0,
        "the book should have at least one whole C program; found none"
    );
    assert!(
        failures.is_empty(),
        "C programs in the book that do not compile:\n{}",
        failures.join("\n")
    );
}

#[test]
fn shell_scripts_parse() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut checked = 0;
    let mut failures = Vec::new();
    for page in pages() {
        for block in markdown::code_blocks(&page.text)
            .iter()
            .filter(|block| block.language() == "sh")
        {
            let file = dir.path().join(format!("script{checked}.sh"));
            fs::write(&file, &block.code).expect("writing a script");
            checked += 1;
            let output = std::process::Command::new("bash")
                .arg("-n")
                .arg(&file)
                .output()
                .expect("running bash -n");
            if !output.status.success() {
                failures.push(format!(
                    "{}:{}: {}",
                    page.path.display(),
                    block.line,
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }
    }
    assert!(
        checked > 0,
        "the book should have shell scripts (```sh); found none"
    );
    assert!(
        failures.is_empty(),
        "shell scripts in the book with syntax errors:\n{}",
        failures.join("\n")
    );
}

#[test]
fn json_examples_parse() {
    let mut checked = 0;
    for page in pages() {
        for block in markdown::code_blocks(&page.text)
            .iter()
            .filter(|block| block.language() == "json")
        {
            checked += 1;
            if let Err(error) = serde_json::from_str::<serde_json::Value>(&block.code) {
                panic!(
                    "{}:{}: the JSON example does not parse: {error}",
                    page.path.display(),
                    block.line
                );
            }
        }
    }
    assert!(
        checked > 0,
        "the grader reference should show the JSON report; found no ```json block"
    );
}

#[test]
fn check_names_render_verbatim() {
    // Students search the book for the name a failing check printed: mdBook must not turn
    // `--exclusive` into a dash or straight quotes into curly ones (smart punctuation).
    let book = render::book(&docs());
    let html_path = book.html_path(Path::new("grader-reference.md"));
    let html = fs::read_to_string(&html_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", html_path.display()));
    // Text is HTML-escaped; quotes may or may not be, depending on the renderer's version.
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut altered = Vec::new();
    for exercise in exercises() {
        for check in grader::checks_of(&workspace(), &exercise.name) {
            let escaped = escape(&check.name);
            if !html.contains(&escaped) && !html.contains(&escaped.replace('"', "&quot;")) {
                altered.push(check.name);
            }
        }
    }
    assert!(
        altered.is_empty(),
        "check names not found verbatim in the rendered grader reference: {altered:?}"
    );
}

#[test]
fn every_option_and_subcommand_of_the_grader_is_documented() {
    let source = fs::read_to_string(workspace().join("grader/src/cli.rs"))
        .expect("reading grader/src/cli.rs");
    let reference =
        fs::read_to_string(src().join("grader-reference.md")).expect("reading grader-reference.md");
    let student_loop =
        fs::read_to_string(src().join("student-loop.md")).expect("reading student-loop.md");
    let options = grader::cli_options(&source);
    let subcommands = grader::cli_subcommands(&source);
    assert!(
        options.contains(&"--submission".to_string()),
        "found no options in grader/src/cli.rs: {options:?}"
    );
    assert!(
        subcommands.contains(&("list".to_string(), false)),
        "found no subcommands in grader/src/cli.rs: {subcommands:?}"
    );
    let mut missing = Vec::new();
    for option in &options {
        if !reference.contains(&format!("`{option}")) && !reference.contains(&format!(" {option}"))
        {
            missing.push(format!("grader-reference.md: {option}"));
        }
    }
    for (subcommand, hidden) in &subcommands {
        let command = format!("cargo grade {subcommand}");
        // A hidden command (for lab authors) is in the reference, not in the students' loop.
        let pages = [
            ("grader-reference.md", &reference),
            ("student-loop.md", &student_loop),
        ];
        for (page, text) in &pages[..if *hidden { 1 } else { 2 }] {
            if !text.contains(&command) {
                missing.push(format!("{page}: {command}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "parts of the grader's command line the book does not describe:\n{}",
        missing.join("\n")
    );
}

/// The chapter's terminal sessions and output blocks (```` ```console ````, ```` ```text ````)
/// show every output text of its exercise's spec (info.toml's `[exercises.output]`), filled in:
/// so the book cannot drift from what the grader checks. The sessions are also replayed
/// against the solutions (`exercise_sessions_print_what_the_book_shows`).
#[test]
fn every_chapter_session_shows_the_spec_output() {
    let mut unshown = Vec::new();
    for exercise in exercises() {
        let (chapter, text) = exercise.chapter();
        let sessions: String = markdown::code_blocks(&text)
            .into_iter()
            .filter(|block| ["console", "text"].contains(&block.language()))
            .map(|block| block.code)
            .collect::<Vec<_>>()
            .join("\n");
        for name in spec::unstated(&sessions, exercise.key, &exercise.output) {
            let text = exercise.output[&name].to_string();
            unshown.push(format!("{chapter}: {name} = {text}"));
        }
    }
    assert!(
        unshown.is_empty(),
        "texts of info.toml's [exercises.output] that no ```console session or ```text block of \
         the chapter shows (filled in, the key in hex): show them, or fix info.toml\n{}",
        unshown.join("\n")
    );
}

#[test]
fn exercise_sessions_print_what_the_book_shows() {
    let mut sessions = Vec::new();
    for exercise in exercises() {
        let (chapter, text) = exercise.chapter();
        let replayable: Vec<_> = markdown::code_blocks(&text)
            .into_iter()
            .filter(|block| block.language() == "console")
            .filter_map(|block| {
                examples::parse_session(&block.code).map(|steps| (block.line, steps))
            })
            .collect();
        assert!(
            !replayable.is_empty(),
            "{chapter} should open with a `$ cargo run -p {}` session",
            exercise.name
        );
        sessions.extend(
            replayable
                .into_iter()
                .map(|(line, steps)| (format!("{chapter}:{line}"), steps)),
        );
    }
    let mut packages: Vec<String> = sessions
        .iter()
        .flat_map(|(_, steps)| steps.iter().map(|step| step.package.clone()))
        .collect();
    packages.sort();
    packages.dedup();
    let programs = examples::build_solutions(&workspace(), &packages);

    let mut differences = Vec::new();
    for (origin, steps) in &sessions {
        // A fresh, empty namespace per session: the first segment gets id 0, as in the book.
        sysv::testing::private_ipc_namespace();
        for step in steps {
            let Some((_, program)) = programs
                .iter()
                .find(|(package, _)| *package == step.package)
            else {
                panic!(
                    "{origin}: `cargo run -p {}`: no such exercise",
                    step.package
                );
            };
            let actual = examples::without_pids(&examples::run(program, step));
            let expected = examples::without_pids(&step.expected);
            if actual != expected {
                differences.push(format!(
                    "{origin}: `cargo run -p {} {}`\n  the book shows:\n    {}\n  the solution prints:\n    {}",
                    step.package,
                    step.args.join(" "),
                    expected.join("\n    "),
                    actual.join("\n    ")
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "sessions in the book that the solutions do not reproduce:\n{}",
        differences.join("\n")
    );
}
