//! The book's terminal sessions, replayed: each exercise chapter opens with a ```` ```console ````
//! block of `$ cargo run -p NAME` commands and what they print. The tests run the same commands
//! against the reference solutions, in a fresh private IPC namespace per chapter (so ids start
//! at 0, as the book shows them), and compare the output line by line.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One `$ cargo run -p NAME -- ARGS` of a session and what the book says it prints.
#[derive(Debug, PartialEq, Eq)]
pub struct Step {
    pub package: String,
    pub args: Vec<String>,
    /// What is typed at the prompt, if the book shows the program prompting.
    pub input: Option<String>,
    /// The lines shown (stdout then stderr), the prompt's line included.
    pub expected: Vec<String>,
}

/// The prompt of `sized` (its spec): the book shows it with the user's typing after it.
pub use grader::exercises::spec::sized::PROMPT;

/// The steps of a ```` ```console ```` block; `None` if the block runs anything but
/// `cargo run -p` (then it is not replayed).
pub fn parse_session(block: &str) -> Option<Vec<Step>> {
    let mut steps: Vec<Step> = Vec::new();
    for line in block.lines() {
        if let Some(command) = line.strip_prefix("$ ") {
            let command = command.split(" #").next().unwrap_or("").trim();
            let words: Vec<&str> = command.split_whitespace().collect();
            let ["cargo", "run", "-p", package, rest @ ..] = words.as_slice() else {
                return None;
            };
            let args = match rest {
                [] => Vec::new(),
                ["--", args @ ..] => args.iter().map(|arg| arg.to_string()).collect(),
                _ => return None,
            };
            steps.push(Step {
                package: package.to_string(),
                args,
                input: None,
                expected: Vec::new(),
            });
        } else {
            let step = steps.last_mut()?;
            if let Some(typed) = line.strip_prefix(PROMPT) {
                step.input = Some(format!("{typed}\n"));
            }
            step.expected.push(line.to_string());
        }
    }
    Some(steps)
}

/// What a step printed, as the book shows it: stdout lines, then stderr lines. For a prompt,
/// the typed text is put back after it (a terminal would echo it; a pipe does not).
pub fn shown_output(step: &Step, stdout: &str, stderr: &str) -> Vec<String> {
    let mut stdout = stdout.to_string();
    if let Some(typed) = &step.input
        && let Some(rest) = stdout.strip_prefix(PROMPT)
    {
        stdout = format!("{PROMPT}{typed}{rest}");
    }
    stdout
        .lines()
        .chain(stderr.lines())
        .map(str::to_string)
        .collect()
}

/// Lines compared with their pids blanked (`created by PID 4242`): pids differ on every run.
pub fn without_pids(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|line| match line.split_once("PID ") {
            Some((before, after)) => {
                let rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
                format!("{before}PID <pid>{rest}")
            }
            None => line.clone(),
        })
        .collect()
}

/// Builds the solutions' binaries and returns (package, executable) for each.
pub fn build_solutions(workspace: &Path, packages: &[String]) -> Vec<(String, PathBuf)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--quiet", "--message-format", "json"])
        .current_dir(workspace);
    for package in packages {
        command.args(["--package", &format!("{package}-solution")]);
    }
    let output = command
        .output()
        .expect("running cargo build for the solutions");
    assert!(
        output.status.success(),
        "building the solutions failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut built = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(name), Some(executable)) = (
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) else {
            continue;
        };
        if let Some(package) = name.strip_suffix("-solution") {
            built.push((package.to_string(), PathBuf::from(executable)));
        }
    }
    built
}

/// Runs one step with `program`, in the calling thread's IPC namespace.
pub fn run(program: &Path, step: &Step) -> Vec<String> {
    let mut child = Command::new(program)
        .args(&step.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
    let mut stdin = child.stdin.take().expect("a piped stdin");
    if let Some(typed) = &step.input {
        stdin
            .write_all(typed.as_bytes())
            .expect("typing into the program");
    }
    drop(stdin);
    let output = child.wait_with_output().expect("waiting for the program");
    shown_output(
        step,
        &String::from_utf8_lossy(&output.stdout),
        &String::from_utf8_lossy(&output.stderr),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_split_into_steps() {
        let block = "$ cargo run -p create\nShared memory segment created with ID: 0\n\
                     $ cargo run -p create -- --exclusive   # again\nerror: exists\n\
                     $ cargo run -p sized\nEnter the size of shared memory: 10\nWe have a\n";
        let steps = parse_session(block).expect("only cargo run -p");
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[1].args, ["--exclusive"]);
        assert_eq!(steps[1].expected, ["error: exists"]);
        assert_eq!(steps[2].input.as_deref(), Some("10\n"));
        assert_eq!(parse_session("$ ipcs -m\n"), None);
    }

    #[test]
    fn the_prompt_gets_its_typing_back_and_pids_are_blanked() {
        let step = Step {
            package: "sized".into(),
            args: vec![],
            input: Some("10\n".into()),
            expected: vec![],
        };
        assert_eq!(
            shown_output(&step, &format!("{PROMPT}We have a\n"), ""),
            [format!("{PROMPT}10"), "We have a".into()]
        );
        assert_eq!(
            without_pids(&["created by PID 4242, attached".into()]),
            ["created by PID <pid>, attached"]
        );
    }
}
