#![cfg(feature = "instructor")]
//! The rule that keeps the lab a lab: stubs, hints and the book state the task; they never hand
//! over the code to type.
//!
//! No line of a solution's code appears (whitespace aside) in what a student reads before
//! passing: the stub's comments (its TODOs), the exercise's hints (every level, `info.toml`),
//! its README and its book chapter. The one exception is the **given scaffolding**: the code of
//! the stub itself (argument parsing, `main`, error helpers, signatures, the helpers that are not
//! the exercise's lesson). By definition a stub's code is given; what this test guards is that
//! the *solution's other lines* do not leak through prose, TODOs or hints. Reviewers see a
//! stub's code in its diff, so "the stub gives too much" is a review question, not this test's.
//!
//! How a solution line is compared:
//! - comments are dropped, then all whitespace, so `let  x = f( a );` and `letx=f(a)` are one;
//!   a trailing `{`, `;`, `,` is dropped too;
//! - the texts searched get the same treatment (and markdown's `\|` is read as `|`), and a
//!   line matches if it appears anywhere in them, also split over several comment lines;
//! - besides the whole line, the expression on the right of `let … =` and after `match`/`if`/
//!   `while`/`return` is searched on its own when it is a call (`sysv::shmget(KEY, SIZE,
//!   flags, mode)` must not be given either, whatever the student names the result);
//! - names alone (`ShmgetFlag::IPC_CREAT`, `attachment.len()`: pointing to the item is the
//!   stub's job), short fragments (under 14 characters without whitespace: `Ok(())`, `}`),
//!   string literals
//!   alone on a line or continued from the line before (the required output *is* the spec,
//!   and the README states it), unfinished calls (`return Err(format!(`), `use` lines and
//!   attributes are not searched.

use std::fs;
use std::path::{Path, PathBuf};

use grader::info::Info;

/// Fragments shorter than this (whitespace removed) say nothing about the solution.
const SHORTEST_FRAGMENT: usize = 14;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("grader/ is inside the workspace")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("Failed to read {}: {err}", path.display()))
}

/// `line` without its `//` comment (a `//` inside a string literal is kept).
fn strip_comment(line: &str) -> &str {
    match comment_start(line, &mut false) {
        Some(index) => &line[..index],
        None => line,
    }
}

/// Where the `//` comment of `line` starts, reading it from inside a string literal when
/// `in_string` says so; `in_string` then says whether the next line starts inside one.
fn comment_start(line: &str, in_string: &mut bool) -> Option<usize> {
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if *in_string => escaped = true,
            b'"' => *in_string = !*in_string,
            b'/' if !*in_string && bytes.get(index + 1) == Some(&b'/') => return Some(index),
            _ => {}
        }
    }
    None
}

/// The `//` comment of `line`, if any (doc comments included).
fn comment_of(line: &str) -> Option<&str> {
    let code = strip_comment(line);
    (code.len() < line.len()).then(|| &line[code.len()..])
}

/// The text of the `//` comments of `source`, without the slashes, one line each.
fn comments(source: &str) -> String {
    source
        .lines()
        .filter_map(comment_of)
        .map(|comment| comment.trim_start_matches(['/', '!']))
        .collect::<Vec<_>>()
        .join("\n")
}

fn squeeze(text: &str) -> String {
    text.replace("\\|", "|")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// What of a solution line must not be given away (see the module docs).
fn fragments(line: &str) -> Vec<String> {
    let code = strip_comment(line).trim();
    if code.starts_with("use ") || code.starts_with("#[") || code.starts_with("#!") {
        return Vec::new();
    }
    let mut found = Vec::new();
    let whole = squeeze(code);
    let whole = whole.trim_end_matches(['{', ';', ',']).to_owned();
    found.push(whole.clone());
    let expression = if let Some(rest) = code.strip_prefix("let ") {
        rest.split_once('=').map(|(_, value)| value)
    } else {
        ["match ", "if ", "while ", "return "]
            .iter()
            .find_map(|keyword| code.strip_prefix(keyword))
    };
    if let Some(expression) = expression {
        let expression = squeeze(expression);
        let expression = expression.trim_end_matches(['{', ';', ',', '?']);
        if expression.contains('(') && expression != whole {
            found.push(expression.to_owned());
        }
    }
    // An unfinished call (`return Err(format!(`) says nothing until its arguments do, and a
    // name alone (`ShmgetFlag::IPC_CREAT`, `size_of::<i32>()`) is what a stub should point to.
    found.retain(|fragment| {
        fragment.len() >= SHORTEST_FRAGMENT
            && !fragment.starts_with('"')
            && !fragment.ends_with('(')
            && !is_a_name(fragment)
    });
    found
}

/// A path or a method name, with no arguments: `ExitCode::SUCCESS`, `attachment.len()`.
fn is_a_name(fragment: &str) -> bool {
    let name = fragment.trim_end_matches(',').trim_end_matches("()");
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '<' | '>'))
}

struct Exercise {
    name: String,
    dir: String,
    solution: String,
    stub: String,
    hints: Vec<String>,
}

fn exercises() -> Vec<Exercise> {
    let root = workspace();
    let info = Info::parse(&read(&root.join("info.toml"))).expect("info.toml parses");
    info.exercises
        .iter()
        .map(|exercise| Exercise {
            name: exercise.name.clone(),
            dir: exercise.dir.clone(),
            solution: read(
                &root
                    .join("solutions")
                    .join(&exercise.dir)
                    .join("src/main.rs"),
            ),
            stub: read(
                &root
                    .join("exercises")
                    .join(&exercise.dir)
                    .join("src/main.rs"),
            ),
            hints: exercise.hint.0.clone(),
        })
        .collect()
}

/// Whether each line of `source` starts inside a string literal (the continuation of a long
/// message: the spec's text, not code).
fn starts_in_string(source: &str) -> Vec<bool> {
    let mut in_string = false;
    let mut starts = Vec::new();
    for line in source.lines() {
        starts.push(in_string);
        comment_start(line, &mut in_string);
    }
    starts
}

/// The text of the string literals of `source` (a grader module: its checks' advice and its
/// failures' messages, which a failing student reads), one per line. A `\` at the end of a
/// line continues the literal, as in Rust.
fn string_literals(source: &str) -> String {
    let mut literals = Vec::new();
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                // A comment: up to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '\'' => {
                // A char literal ('"' among them), or a lifetime: skip what may be one.
                let mut ahead = chars.clone();
                match (ahead.next(), ahead.next(), ahead.next()) {
                    (Some('\\'), Some(_), Some('\'')) => {
                        chars.nth(2);
                    }
                    (Some(_), Some('\''), _) => {
                        chars.nth(1);
                    }
                    _ => {}
                }
            }
            '"' => {
                let mut literal = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('\n') => {
                                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                                    chars.next();
                                }
                            }
                            Some('n') => literal.push('\n'),
                            Some(other) => literal.push(other),
                            None => {}
                        },
                        _ => literal.push(c),
                    }
                }
                literals.push(literal);
            }
            _ => {}
        }
    }
    literals.join("\n")
}

/// The lines of `solution` (numbered from 1) whose fragments appear in `text`, minus the
/// scaffolding `given`.
fn leaks(solution: &str, given: &str, text: &str) -> Vec<(usize, String)> {
    let text = squeeze(text);
    let mut leaked = Vec::new();
    let continuations = starts_in_string(solution);
    for (index, line) in solution.lines().enumerate() {
        if continuations[index] {
            continue;
        }
        for fragment in fragments(line) {
            if text.contains(&fragment) && !given.contains(&fragment) {
                leaked.push((index + 1, line.trim().to_owned()));
                break;
            }
        }
    }
    leaked
}

#[test]
fn no_solution_line_is_handed_over_before_the_pass() {
    let root = workspace();
    let mut problems = Vec::new();
    for exercise in exercises() {
        let stub_code: String = exercise
            .stub
            .lines()
            .map(strip_comment)
            .collect::<Vec<_>>()
            .join("\n");
        let given = squeeze(&stub_code);
        let stub_comments = comments(&exercise.stub);
        let readme = read(&root.join("exercises").join(&exercise.dir).join("README.md"));
        let chapter = read(
            &root
                .join("docs/src/exercises")
                .join(format!("{}.md", exercise.dir)),
        );
        let messages = string_literals(&read(
            &root
                .join("grader/src/exercises")
                .join(format!("{}.rs", exercise.name.replace('-', "_"))),
        ));
        let places = [
            ("the stub's comments", stub_comments),
            ("the hints (info.toml)", exercise.hints.join("\n")),
            ("the exercise README", readme),
            ("the book chapter", chapter),
            ("the grader's advice and messages", messages),
        ];
        for (place, text) in &places {
            for (line_number, line) in leaks(&exercise.solution, &given, text) {
                problems.push(format!(
                    "{} ({}): solutions/{}/src/main.rs:{line_number} `{line}` is written out in {place}",
                    exercise.name, exercise.dir, exercise.dir
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "say what to do and which concept or `sysv` item to look up, not the code:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_exercise_has_three_hint_levels() {
    for exercise in exercises() {
        assert_eq!(
            exercise.hints.len(),
            3,
            "{}: info.toml needs hint, hint_calls and hint_shape",
            exercise.name
        );
        assert!(
            exercise.hints.iter().all(|hint| !hint.trim().is_empty()),
            "{}: an empty hint level",
            exercise.name
        );
    }
}

/// The rule can fail: a solution line pasted into a TODO, a hint, a chapter or the grader's
/// advice is caught, also re-indented or split over two comment lines or a continued string,
/// and so is a call bound to another name.
#[test]
fn the_rule_catches_a_pasted_line() {
    let solution = "fn main() {\n    let mode = Mode::from_bits_truncate(0o666);\n    flags |= ShmgetFlag::IPC_EXCL;\n    Ok(())\n}\n";
    let given = squeeze("fn main() {\n    Ok(())\n}\n");
    let grader = "test.check(1, \"mode\", \"pass Mode::from_bits_truncate(\\\n    0o666) to shmget\", |_| Ok(()));\n// \"flags |= ShmgetFlag::IPC_EXCL\" in a comment is no message\nlet quote = '\"';";
    assert_eq!(
        string_literals(grader),
        "mode\npass Mode::from_bits_truncate(0o666) to shmget"
    );
    assert_eq!(leaks(solution, &given, &string_literals(grader)).len(), 1);
    assert_eq!(
        leaks(solution, &given, "// TODO: flags |= ShmgetFlag::IPC_EXCL;").len(),
        1
    );
    assert_eq!(
        leaks(
            solution,
            &given,
            &comments("    // TODO: write flags |=\n    //     ShmgetFlag::IPC_EXCL")
        )
        .len(),
        1
    );
    assert_eq!(
        leaks(
            solution,
            &given,
            "use `let m = Mode::from_bits_truncate(0o666);`"
        )
        .len(),
        1
    );
    assert!(
        leaks(
            solution,
            &given,
            "look up `Mode::from_bits_truncate` and `IPC_EXCL`"
        )
        .is_empty()
    );
    assert!(leaks(solution, &given, "return Ok(()) at the end").is_empty());
    // Given scaffolding may be repeated anywhere.
    let given = squeeze("    flags |= ShmgetFlag::IPC_EXCL;\n");
    assert!(leaks(solution, &given, "flags |= ShmgetFlag::IPC_EXCL;").is_empty());
}
