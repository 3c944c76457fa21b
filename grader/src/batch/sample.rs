//! A made-up class, for the batch benchmark and tests (`grader __sample-class DIR [COUNT]`,
//! hidden from `--help`: handled in `main` before the command line is parsed).
//!
//! Its submissions are made from this lab's own solutions and stubs, in the mix a real class
//! hands in, cycling through [`KINDS`]: correct; untouched (the stubs); half done; two kinds
//! of bug (a wrong mode in `create`, a wrong sentence in `attach`); and, as the last student,
//! one that does not compile. Shapes alternate between a checkout (`exercises/NN-x/src/`) and a
//! folder of loose files (`create.rs`), as intake takes both. Each bug is a textual change of
//! a solution; if a solution no longer holds the text to change, making the class fails
//! rather than producing a "broken" student that is correct.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::info::Info;

/// The hidden subcommand.
pub const SUBCOMMAND: &str = "__sample-class";

/// `grader __sample-class DIR [COUNT]` (COUNT: 40 by default).
pub fn serve() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let made = match args.as_slice() {
        [dir] => write_class(&crate::build::lab_root(), &PathBuf::from(dir), 40),
        [dir, count] => match count.parse() {
            Ok(count) => write_class(&crate::build::lab_root(), &PathBuf::from(dir), count),
            Err(_) => Err(anyhow::anyhow!("COUNT must be a number, not {count:?}")),
        },
        _ => Err(anyhow::anyhow!("usage: grader {SUBCOMMAND} DIR [COUNT]")),
    };
    match made {
        Ok(students) => {
            println!("{} submissions in {}", students.len(), args[0]);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(crate::report::EXIT_GRADER_ERROR)
        }
    }
}

/// The kinds of submission, in the order students cycle through them.
pub const KINDS: &[&str] = &[
    "correct",
    "untouched",
    "half-done",
    "wrong-mode",
    "wrong-sentence",
];

/// The kind of the last student of a class of two or more.
pub const DOES_NOT_COMPILE: &str = "does-not-compile";

/// Writes `count` submissions into `dir` (created), reading the solutions and stubs of the
/// lab at `lab`. Returns each student's name and kind.
pub fn write_class(lab: &Path, dir: &Path, count: usize) -> Result<Vec<(String, &'static str)>> {
    let info = Info::builtin()?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("Failed to create the class folder {}", dir.display()))?;
    let mut students = Vec::new();
    for index in 0..count {
        let kind = if count > 1 && index == count - 1 {
            DOES_NOT_COMPILE
        } else {
            KINDS[index % KINDS.len()]
        };
        let student = format!("student{:03}-{kind}", index + 1);
        let folder = dir.join(&student);
        for (position, exercise) in info.exercises.iter().enumerate() {
            let solved = lab
                .join("solutions")
                .join(&exercise.dir)
                .join("src/main.rs");
            let stub = lab
                .join("exercises")
                .join(&exercise.dir)
                .join("src/main.rs");
            let read = |path: &Path| {
                std::fs::read_to_string(path)
                    .with_context(|| format!("Failed to read {}", path.display()))
            };
            let source = match kind {
                "untouched" => read(&stub)?,
                "half-done" if position >= info.exercises.len() / 2 => read(&stub)?,
                "wrong-mode" if exercise.name == "create" => {
                    changed(&read(&solved)?, "0o666", "0o600")?
                }
                "wrong-sentence" if exercise.name == "attach" => {
                    changed(&read(&solved)?, "Read back: {}", "Read: {}")?
                }
                DOES_NOT_COMPILE if position == 0 => {
                    read(&solved)? + "\nfn broken() -> u32 {\n    \"not a number\"\n}\n"
                }
                _ => read(&solved)?,
            };
            let path = if index % 2 == 0 {
                folder
                    .join("exercises")
                    .join(&exercise.dir)
                    .join("src/main.rs")
            } else {
                folder.join(format!("{}.rs", exercise.name))
            };
            write(&path, &source)?;
        }
        students.push((student, kind));
    }
    Ok(students)
}

/// `source` with `from` replaced by `to`, which must be there.
fn changed(source: &str, from: &str, to: &str) -> Result<String> {
    if !source.contains(from) {
        bail!("the solution no longer holds {from:?}: update the sample class's bugs");
    }
    Ok(source.replacen(from, to, 1))
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("Failed to create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("Failed to write {}", path.display()))
}
