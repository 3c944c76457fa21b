//! Compiling the book's Rust snippets against the lab's `sysv` crate.
//!
//! Each ```` ```rust ```` block (unless marked `ignore`) becomes one example program of a
//! throw-away Cargo project that depends on `sysv` (and `nix`, `libc`) by the workspace's own
//! versions, and `cargo check --examples` compiles them all in one go. The rules follow rustdoc's,
//! so a snippet reads in the book as it would in API docs:
//! - lines starting with `# ` are hidden in the book (mdBook hides them) but compiled;
//! - a snippet without `fn main` is wrapped in one, so a fragment of statements or a helper
//!   function compiles as is;
//! - `no_run` snippets are compiled too (nothing is ever run);
//! - `compile_fail` snippets must *not* compile (they show what the compiler prevents), and
//!   with an error code (`compile_fail,E0382`) must fail with that error.
//!
//! The build directory is shared (`target/book-snippets` in the workspace), so only the first
//! run compiles the dependencies.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use crate::markdown::{CodeBlock, Page};

/// A Rust block to compile, and where it came from.
pub struct Snippet {
    /// The example's name: page and line, e.g. `exercises_01_create_md_l42`.
    pub name: String,
    /// Where to find it, for messages: `exercises/01-create.md:42`.
    pub origin: String,
    pub source: String,
    pub expect: Expect,
}

/// What compiling a snippet must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Compiles,
    /// Fails, with this error code (`E0382`) in the compiler's output if one is given.
    FailsWith(Option<String>),
}

/// What the block must do, or `None` if it is not compiled at all (not Rust, or `ignore`).
pub fn expectation(block: &CodeBlock) -> Option<Expect> {
    if block.language() != "rust" || block.attributes().any(|a| a == "ignore") {
        return None;
    }
    if block.attributes().any(|a| a == "compile_fail") {
        let code = block
            .attributes()
            .find(|a| a.len() == 5 && a.starts_with('E'))
            .map(str::to_string);
        return Some(Expect::FailsWith(code));
    }
    Some(Expect::Compiles)
}

/// The Rust snippets of `pages`, as compilable sources.
pub fn collect(pages: &[Page]) -> Vec<Snippet> {
    let mut snippets = Vec::new();
    for page in pages {
        for block in crate::markdown::code_blocks(&page.text) {
            let Some(expect) = expectation(&block) else {
                continue;
            };
            let page_name: String = page
                .path
                .to_string_lossy()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            snippets.push(Snippet {
                name: format!("{page_name}_l{}", block.line),
                origin: format!("{}:{}", page.path.display(), block.line),
                source: program(&block.code),
                expect,
            });
        }
    }
    snippets
}

/// Turns a block's text into a whole program, as rustdoc does.
pub fn program(code: &str) -> String {
    let code: Vec<String> = code.lines().map(unhide).collect();
    let (attributes, body): (Vec<&String>, Vec<&String>) = code
        .iter()
        .partition(|line| line.trim_start().starts_with("#!["));
    let mut program = String::from("#![allow(unused, dead_code)]\n");
    for line in attributes {
        writeln!(program, "{line}").expect("writing to a String");
    }
    let has_main = body.iter().any(|line| line.contains("fn main("));
    if !has_main {
        // Like rustdoc: a fragment ending in `Ok::<(), E>(())` may use `?`, so main returns it.
        let ending = body
            .iter()
            .rev()
            .map(|line| line.trim())
            .find(|line| !line.is_empty());
        match ending
            .and_then(|line| line.strip_prefix("Ok::<(), "))
            .and_then(|rest| rest.strip_suffix(">(())"))
        {
            Some(error) => writeln!(program, "fn main() -> Result<(), {error}> {{")
                .expect("writing to a String"),
            None => program.push_str("fn main() {\n"),
        }
    }
    for line in body {
        writeln!(program, "{line}").expect("writing to a String");
    }
    if !has_main {
        program.push_str("}\n");
    }
    program
}

/// A line as the compiler sees it: mdBook hides `# code` lines in the book but they are code.
fn unhide(line: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    let (lead, rest) = line.split_at(indent);
    if rest == "#" {
        String::new()
    } else if let Some(code) = rest.strip_prefix("# ") {
        format!("{lead}{code}")
    } else if let Some(escaped) = rest.strip_prefix("##") {
        // `##x` is how a line starting with `#` is written so it is not hidden.
        format!("{lead}#{escaped}")
    } else {
        line.to_string()
    }
}

/// Compiles every snippet; returns `Err(report)` if any does not do what it should.
pub fn check_all(workspace: &Path, snippets: &[Snippet]) -> Result<(), String> {
    let project = tempfile::tempdir().map_err(|e| format!("creating a temporary project: {e}"))?;
    write_project(workspace, project.path(), snippets)?;
    let check = |names: &[&str]| -> Result<Output, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut command = Command::new(cargo);
        command.args(["check", "--offline", "--quiet", "--message-format", "short"]);
        for name in names {
            command.args(["--example", name]);
        }
        command
            .current_dir(project.path())
            .env("CARGO_TARGET_DIR", workspace.join("target/book-snippets"))
            .output()
            .map_err(|e| format!("running cargo check: {e}"))
    };

    let mut problems = String::new();
    let compiling: Vec<&str> = snippets
        .iter()
        .filter(|s| s.expect == Expect::Compiles)
        .map(|s| s.name.as_str())
        .collect();
    let output = check(&compiling)?;
    if !output.status.success() {
        problems.push_str(&String::from_utf8_lossy(&output.stderr));
        problems.push_str("\nsnippets (example name -> page:line):\n");
        for snippet in snippets {
            writeln!(problems, "  {} -> {}", snippet.name, snippet.origin)
                .expect("writing to a String");
        }
    }
    for snippet in snippets {
        let Expect::FailsWith(code) = &snippet.expect else {
            continue;
        };
        let output = check(&[snippet.name.as_str()])?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            writeln!(
                problems,
                "{}: marked compile_fail, but it compiles",
                snippet.origin
            )
            .expect("writing to a String");
        } else if let Some(code) = code
            && !stderr.contains(code.as_str())
        {
            writeln!(
                problems,
                "{}: should fail with {code}, but fails with:\n{stderr}",
                snippet.origin
            )
            .expect("writing to a String");
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Writes a Cargo project with one example per snippet, depending on the workspace's crates.
fn write_project(workspace: &Path, dir: &Path, snippets: &[Snippet]) -> Result<(), String> {
    let root: toml::Table = fs::read_to_string(workspace.join("Cargo.toml"))
        .map_err(|e| format!("reading the workspace's Cargo.toml: {e}"))?
        .parse()
        .map_err(|e| format!("parsing the workspace's Cargo.toml: {e}"))?;
    let deps = &root["workspace"]["dependencies"];
    let mut dependencies = toml::Table::new();
    let mut sysv = toml::Table::new();
    sysv.insert(
        "path".into(),
        workspace.join("sysv").to_string_lossy().into_owned().into(),
    );
    dependencies.insert("sysv".into(), sysv.into());
    for name in ["nix", "libc"] {
        dependencies.insert(name.into(), deps[name].clone());
    }
    let mut package = toml::Table::new();
    package.insert("name".into(), "book-snippets".into());
    package.insert("version".into(), "0.0.0".into());
    package.insert("edition".into(), "2024".into());
    package.insert("publish".into(), false.into());
    let mut manifest = toml::Table::new();
    manifest.insert("package".into(), package.into());
    // An empty [workspace]: the project is a workspace of its own, not part of the lab's.
    manifest.insert("workspace".into(), toml::Table::new().into());
    manifest.insert("dependencies".into(), dependencies.into());

    let write = |path: &Path, text: &str| {
        fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
    };
    fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    fs::create_dir_all(dir.join("examples")).map_err(|e| e.to_string())?;
    write(&dir.join("Cargo.toml"), &manifest.to_string())?;
    write(&dir.join("src/lib.rs"), "")?;
    // The workspace's lock file pins the same versions the lab builds with (and lets --offline work).
    fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock"))
        .map_err(|e| format!("copying Cargo.lock: {e}"))?;
    for snippet in snippets {
        write(
            &dir.join("examples").join(format!("{}.rs", snippet.name)),
            &snippet.source,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_lines_are_compiled_and_fragments_wrapped() {
        let program = program("# use std::fmt;\nlet x = 1;\n##[derive(Debug)]\n#");
        assert_eq!(
            program,
            "#![allow(unused, dead_code)]\nfn main() {\nuse std::fmt;\nlet x = 1;\n#[derive(Debug)]\n\n}\n"
        );
    }

    #[test]
    fn fragments_ending_in_ok_may_use_the_question_mark() {
        let program = program("let id = f()?;\n# Ok::<(), sysv::Errno>(())\n");
        assert_eq!(
            program,
            "#![allow(unused, dead_code)]\nfn main() -> Result<(), sysv::Errno> {\nlet id = f()?;\nOk::<(), sysv::Errno>(())\n}\n"
        );
    }

    #[test]
    fn programs_keep_their_main_and_inner_attributes_go_first() {
        let program = program("use std::fmt;\n#![deny(warnings)]\nfn main() {}\n");
        assert_eq!(
            program,
            "#![allow(unused, dead_code)]\n#![deny(warnings)]\nuse std::fmt;\nfn main() {}\n"
        );
    }
}
