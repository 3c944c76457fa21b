//! What the book says about the grader, read from the grader's own source.
//!
//! The book lists every check (name and points) and every field of the JSON report. Rather than
//! trust those lists to be updated by hand, the tests read them where the grader defines them:
//! the checks in `grader/src/exercises/NAME.rs` (`.check(POINTS, "NAME", ...)` calls), the
//! report's fields in `grader/src/report.rs` (`pub FIELD:` lines of its three structs). A scan
//! of the source is enough: the checks are written as literal calls on purpose, so the table
//! reads like the spec.

use std::fs;
use std::path::Path;

/// One `.check(points, "name", …)` of the grader's exercise table.
#[derive(Debug, PartialEq, Eq)]
pub struct CheckDecl {
    pub points: u32,
    pub name: String,
}

/// The checks of exercise `name`, from `grader/src/exercises/NAME.rs` (dashes as underscores).
pub fn checks_of(workspace: &Path, exercise: &str) -> Vec<CheckDecl> {
    let path = workspace
        .join("grader/src/exercises")
        .join(format!("{}.rs", exercise.replace('-', "_")));
    let source = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading the grader's checks of {exercise}, {}: {e}",
            path.display()
        )
    });
    let checks = parse_checks(&source);
    assert!(
        !checks.is_empty(),
        "found no `.check(POINTS, \"NAME\", …)` call in {}",
        path.display()
    );
    checks
}

/// Every `.check(` followed by an integer and a string literal.
pub fn parse_checks(source: &str) -> Vec<CheckDecl> {
    let mut checks = Vec::new();
    for (at, _) in source.match_indices(".check(") {
        let rest = source[at + ".check(".len()..].trim_start();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let Ok(points) = digits.parse() else { continue };
        let rest = rest[digits.len()..].trim_start();
        let Some(rest) = rest.strip_prefix(',') else {
            continue;
        };
        let Some(name) = string_literal(rest.trim_start()) else {
            continue;
        };
        checks.push(CheckDecl { points, name });
    }
    checks
}

/// The value of the Rust string literal at the start of `text` (simple escapes only).
fn string_literal(text: &str) -> Option<String> {
    let mut chars = text.strip_prefix('"')?.chars();
    let mut value = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => value.push(other), // \" \\ \'
            },
            other => value.push(other),
        }
    }
}

/// The `pub` fields of `struct NAME` in `source` (one field per line, as rustfmt writes them).
pub fn struct_fields(source: &str, name: &str) -> Vec<String> {
    let header = format!("pub struct {name} {{");
    let Some(start) = source.find(&header) else {
        return Vec::new();
    };
    let body = &source[start + header.len()..];
    let body = &body[..body.find("\n}").unwrap_or(body.len())];
    body.lines()
        .filter_map(|line| line.trim().strip_prefix("pub "))
        .filter_map(|line| {
            line.split_once(':')
                .map(|(field, _)| field.trim().to_string())
        })
        .collect()
}

/// The long options of the grader's command line (`--solutions`, …): every field declared with
/// `#[arg(long …)]` in `grader/src/cli.rs`, named as clap names it (underscores as dashes).
pub fn cli_options(source: &str) -> Vec<String> {
    let mut options = Vec::new();
    let mut long = false;
    for line in source.lines().map(str::trim) {
        if line.starts_with("#[arg(") {
            long = line.contains("long");
        } else if let Some((field, _)) = line.strip_prefix("pub ").unwrap_or(line).split_once(':')
            && !field.is_empty()
            && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            // A field (`pub solutions: bool,`, or `yes: bool,` in a subcommand's variant).
            if long {
                options.push(format!("--{}", field.replace('_', "-")));
            }
            long = false;
        }
    }
    options
}

/// The subcommands of the grader (`list`, `hint`, …): the variants of `enum Command` in
/// `grader/src/cli.rs`, lowercased as clap names them, each with whether it is hidden from
/// `--help` (`#[command(hide = true)]` just before it).
pub fn cli_subcommands(source: &str) -> Vec<(String, bool)> {
    let Some(start) = source.find("pub enum Command {") else {
        return Vec::new();
    };
    let body = &source[start..];
    let body = &body[..body.find("\n}").unwrap_or(body.len())];
    let mut hidden = false;
    let mut subcommands = Vec::new();
    for line in body
        .lines()
        .filter(|line| line.starts_with("    ") && !line.starts_with("     "))
        .map(str::trim)
    {
        if line.starts_with("#[command(") {
            hidden = line.contains("hide = true");
        } else if line.starts_with(|c: char| c.is_ascii_uppercase()) {
            let name = line.trim_end_matches([',', '{', ' ']).to_lowercase();
            subcommands.push((name, hidden));
            hidden = false;
        }
    }
    subcommands
}

/// The cells of the Markdown table rows in `text`.
pub fn table_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|line| line.starts_with('|'))
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().to_string())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_checks_across_lines_with_escapes() {
        let source = r#"
            .check(1, "exits with status 0", "advice", |run| run.exited(0, 0))
            .check(
                12,
                "fails with \"already exists\"",
                "advice",
                f,
            )
            .check(points, "not a literal", "advice", f)
        "#;
        assert_eq!(
            parse_checks(source),
            [
                CheckDecl {
                    points: 1,
                    name: "exits with status 0".into()
                },
                CheckDecl {
                    points: 12,
                    name: "fails with \"already exists\"".into()
                },
            ]
        );
    }

    #[test]
    fn finds_the_options_and_subcommands_of_the_cli() {
        let source = "pub struct Cli {\n    #[command(subcommand)]\n    pub command: Option<Command>,\n    #[arg(value_name = \"NAME\")]\n    pub names: Vec<String>,\n    /// doc\n    #[arg(long, global = true)]\n    pub dry_run: bool,\n}\npub enum Command {\n    /// doc\n    List,\n    Hint {\n        name: String,\n        #[arg(long)]\n        yes: bool,\n    },\n}\n";
        assert_eq!(cli_options(source), ["--dry-run", "--yes"]);
        assert_eq!(
            cli_subcommands(source),
            [("list".to_string(), false), ("hint".to_string(), false)]
        );
        let hidden = "pub enum Command {\n    List,\n    #[command(hide = true)]\n    Dev {\n        x: u8,\n    },\n}\n";
        assert_eq!(
            cli_subcommands(hidden),
            [("list".to_string(), false), ("dev".to_string(), true)]
        );
    }

    #[test]
    fn finds_the_pub_fields_of_a_struct() {
        let source = "pub struct A {\n    /// doc\n    pub x: u32,\n    y: u8,\n    pub z: Vec<u8>,\n}\npub struct B {\n    pub w: u8,\n}\n";
        assert_eq!(struct_fields(source, "A"), ["x", "z"]);
    }
}
