//! The terminal report: one line per exercise, details under those that failed.
//!
//! ```text
//!   ✓ create         10/10
//!   ✗ attach          9/15  2 of 7 checks failed
//!       ✗ the segment holds the sentence and its NUL (0/4)
//!           the segment does not hold the sentence
//!           expected: "This is our shared memory segment.\x00"
//!           actual:   36 zero bytes
//!           next: write the sentence's bytes and then a 0 byte at offset 0 ...
//!   ✗ parent-child    0/15  not started
//! ```
//!
//! Exercises not started get no details (they would all say the same); the closing lines say
//! where to go next.

use std::fmt::Write as _;
use std::io::IsTerminal as _;

use crossterm::style::{Print, StyledContent, Stylize as _};
use crossterm::terminal::{Clear, ClearType};

use super::{CheckResult, CheckStatus, ExerciseResult, ExerciseStatus, Report};
use crate::checks::clip;
use crate::diff::{Line, diff};
use crate::scenario::Isolation;

/// Lines of a diff shown; past them, a count.
const DIFF_LINES: usize = 30;

/// Compiler output kept in the report: the first errors are the ones to fix.
const COMPILER_LINES: usize = 40;

struct Style {
    color: bool,
}

impl Style {
    /// The text with its style (crossterm writes the escape codes), or plain.
    fn paint(&self, styled: StyledContent<&str>) -> String {
        if self.color {
            styled.to_string()
        } else {
            styled.content().to_string()
        }
    }
    fn green(&self, text: &str) -> String {
        self.paint(text.dark_green())
    }
    fn red(&self, text: &str) -> String {
        self.paint(text.dark_red())
    }
    fn yellow(&self, text: &str) -> String {
        self.paint(text.dark_yellow())
    }
    fn bold(&self, text: &str) -> String {
        self.paint(text.bold())
    }
    fn dim(&self, text: &str) -> String {
        self.paint(text.dim())
    }
}

/// The report as text for a terminal (ANSI colours when `color`): the results, the score and
/// the next step.
pub fn render(report: &Report, color: bool) -> String {
    let style = Style { color };
    let mut out = render_results(report, color);
    let _ = writeln!(out);
    let score = format!(
        "Score: {}/{}",
        number(report.score()),
        number(report.max_score())
    );
    let _ = writeln!(out, "{}", style.bold(&score));
    out.push_str(&next_step(report));
    out
}

/// The results alone: a line per exercise, the failed checks under it, and a note when the
/// programs could not be isolated. For front ends that say what to do next themselves (the
/// watch loop).
pub fn render_results(report: &Report, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    if let Some(intake) = &report.submission {
        // What was not taken from the submission, first: it explains the rest.
        for line in &intake.ignored {
            let _ = writeln!(out, "  {}", style.dim(&format!("ignored: {line}")));
        }
        for name in &intake.missing {
            let _ = writeln!(
                out,
                "  {}",
                style.dim(&format!("missing: {name} (graded as the untouched stub)"))
            );
        }
    }
    let name_width = report
        .exercises
        .iter()
        .map(|exercise| exercise.name.len())
        .max()
        .unwrap_or(0);
    for exercise in &report.exercises {
        render_exercise(&mut out, exercise, name_width, &style);
    }
    let Some(isolation) = &report.isolation else {
        return out;
    };
    let line = crate::sandbox::isolation_line(isolation.tier, isolation.untraced_note().as_deref());
    let line = if isolation.tier == Isolation::Host {
        style.yellow(&line)
    } else {
        style.dim(&line)
    };
    let _ = writeln!(out, "{line}");
    if let Some(why) = &isolation.untraced {
        let note = format!(
            "note: the programs ran without the system-call lens ({why}); the checks that need \
             it fell back to what the output and the kernel's end state show"
        );
        let _ = writeln!(out, "{}", style.yellow(&note));
    }
    out
}

fn render_exercise(out: &mut String, exercise: &ExerciseResult, name_width: usize, style: &Style) {
    let (mark, summary) = match exercise.status {
        // A passed exercise shows only the figures its tests measured (after `; `), if any.
        ExerciseStatus::Passed => (
            style.green("✓"),
            exercise
                .message
                .split_once("; ")
                .map_or_else(String::new, |(_, figures)| style.dim(figures)),
        ),
        ExerciseStatus::NotStarted
            if exercise
                .message
                .starts_with(crate::student::progress::IN_PROGRESS) =>
        {
            (style.dim("✗"), exercise.message.clone())
        }
        ExerciseStatus::NotStarted => (style.dim("✗"), style.dim("not started")),
        ExerciseStatus::DidNotCompile => (style.red("✗"), style.red("did not compile")),
        ExerciseStatus::Failed => (style.red("✗"), exercise.message.clone()),
        ExerciseStatus::Error => (style.yellow("!"), style.yellow(&exercise.message)),
    };
    let points = format!("{:>3}/{}", number(exercise.points), number(exercise.max));
    let line = format!(
        "  {mark} {:<name_width$}  {points:>6}  {summary}",
        exercise.name
    );
    let _ = writeln!(out, "{}", line.trim_end());
    render_warnings(out, exercise, style);
    render_details(out, exercise, style);
}

/// What `cargo grade` shows under an exercise's line, without colour: its failed checks with
/// expected and actual, or the compiler's first errors. Empty when it passed or is not started.
pub fn render_exercise_details(exercise: &ExerciseResult) -> String {
    let mut out = String::new();
    render_details(&mut out, exercise, &Style { color: false });
    out.trim_end().to_string()
}

fn render_details(out: &mut String, exercise: &ExerciseResult, style: &Style) {
    match exercise.status {
        ExerciseStatus::Failed | ExerciseStatus::Error => {
            // A sandbox failure fails every check of its tests alike: say it once, with the
            // tests it stopped.
            let mut errors: Vec<(&str, Vec<&str>)> = Vec::new();
            for check in exercise
                .checks
                .iter()
                .filter(|check| check.status != CheckStatus::Passed)
            {
                if check.status != CheckStatus::Error {
                    render_check(out, check, style);
                    continue;
                }
                match errors
                    .iter_mut()
                    .find(|(message, _)| *message == check.message)
                {
                    Some((_, tests)) if tests.contains(&check.test.as_str()) => {}
                    Some((_, tests)) => tests.push(&check.test),
                    None => errors.push((&check.message, vec![&check.test])),
                }
            }
            for (message, tests) in errors {
                let _ = writeln!(out, "      {} {message}", style.yellow("!"));
                let names: Vec<String> = tests.iter().map(|test| format!("\"{test}\"")).collect();
                let _ = writeln!(
                    out,
                    "          {}",
                    style.dim(&format!("tests not run: {}", names.join(", ")))
                );
            }
        }
        ExerciseStatus::DidNotCompile => {
            let messages = exercise.compiler_output.as_deref().unwrap_or("");
            let lines: Vec<&str> = messages.lines().collect();
            for line in lines.iter().take(COMPILER_LINES) {
                let _ = writeln!(out, "      {line}");
            }
            if lines.len() > COMPILER_LINES {
                let _ = writeln!(
                    out,
                    "      {}",
                    style.dim(&format!(
                        "[... {} more lines]",
                        lines.len() - COMPILER_LINES
                    ))
                );
            }
            let _ = writeln!(
                out,
                "      {} fix the first error, then run `cargo grade {}` (or `cargo build -p {}` to see all of them)",
                style.bold("next:"),
                exercise.name,
                exercise.name
            );
        }
        ExerciseStatus::Passed | ExerciseStatus::NotStarted => {}
    }
}

/// How many compiler warnings are shown in full; the rest are counted.
const WARNINGS_SHOWN: usize = 3;

/// The compiler's warnings in a program that compiled (they never cost points): their count
/// and the first few, one line each.
fn render_warnings(out: &mut String, exercise: &ExerciseResult, style: &Style) {
    if exercise.status == ExerciseStatus::DidNotCompile {
        return;
    }
    let Some(warnings) = exercise.compiler_output.as_deref() else {
        return;
    };
    let lines: Vec<&str> = warnings.lines().collect();
    let count = lines.len();
    let plural = if count == 1 { "" } else { "s" };
    let _ = writeln!(
        out,
        "      {}",
        style.yellow(&format!(
            "{count} compiler warning{plural} (not graded; `cargo build -p {}` shows them in full):",
            exercise.name
        ))
    );
    for line in lines.iter().take(WARNINGS_SHOWN) {
        let _ = writeln!(out, "        {line}");
    }
    if count > WARNINGS_SHOWN {
        let _ = writeln!(
            out,
            "        {}",
            style.dim(&format!("[... {} more]", count - WARNINGS_SHOWN))
        );
    }
}

fn render_check(out: &mut String, check: &CheckResult, style: &Style) {
    let mark = match check.status {
        CheckStatus::Error => style.yellow("!"),
        CheckStatus::NotStarted => style.dim("✗"),
        _ => style.red("✗"),
    };
    let _ = writeln!(
        out,
        "      {mark} {} ({}/{})",
        check.name,
        number(check.points),
        number(check.max)
    );
    let indent = "          ";
    let _ = writeln!(out, "{indent}{}", check.message);
    match (&check.expected, &check.actual) {
        (Some(expected), Some(actual)) if expected.contains('\n') || actual.contains('\n') => {
            let _ = writeln!(
                out,
                "{indent}{}",
                style.dim("expected vs actual (- expected, + actual):")
            );
            let lines = diff(expected, actual);
            for line in lines.iter().take(DIFF_LINES) {
                let _ = match *line {
                    Line::Same(text) => writeln!(out, "{indent}  {}", clip(text, 200)),
                    Line::Missing(text) => {
                        writeln!(
                            out,
                            "{indent}{}",
                            style.red(&format!("- {}", clip(text, 200)))
                        )
                    }
                    Line::Extra(text) => {
                        writeln!(
                            out,
                            "{indent}{}",
                            style.green(&format!("+ {}", clip(text, 200)))
                        )
                    }
                };
            }
            if lines.len() > DIFF_LINES {
                let _ = writeln!(
                    out,
                    "{indent}{}",
                    style.dim(&format!("[... {} more lines]", lines.len() - DIFF_LINES))
                );
            }
        }
        (expected, actual) => {
            if let Some(expected) = expected {
                let _ = writeln!(out, "{indent}expected: {}", clip(expected, 300));
            }
            if let Some(actual) = actual {
                let _ = writeln!(out, "{indent}actual:   {}", clip(actual, 300));
            }
        }
    }
    if let Some(trace) = &check.trace {
        let _ = writeln!(
            out,
            "{indent}{}",
            style.dim("the system calls that show it:")
        );
        for line in trace.lines() {
            let _ = writeln!(out, "{indent}  {} {line}", style.dim("|"));
        }
    }
    if let Some(output) = &check.output {
        let _ = writeln!(out, "{indent}{}", style.dim("what the program printed:"));
        for line in output.lines() {
            let _ = writeln!(out, "{indent}  {} {line}", style.dim("|"));
        }
    }
    if let Some(advice) = &check.advice {
        let _ = writeln!(out, "{indent}{} {advice}", style.bold("next:"));
    }
}

/// The closing advice: where a student goes from here.
fn next_step(report: &Report) -> String {
    let Some(next) = report
        .exercises
        .iter()
        .find(|exercise| exercise.status != ExerciseStatus::Passed)
    else {
        return if report.exercises.is_empty() {
            String::new()
        } else {
            "All graded exercises pass.\n".to_string()
        };
    };
    let in_progress = |exercise: &ExerciseResult| {
        exercise
            .message
            .strip_prefix(crate::student::progress::IN_PROGRESS)
            .map(str::to_owned)
    };
    if let Some(site) = in_progress(next) {
        return format!(
            "Next: go on with {} at exercises/{}/{site}, then run `cargo grade {}`.\n",
            next.name, next.dir, next.name
        );
    }
    if report
        .exercises
        .iter()
        .all(|exercise| exercise.status == ExerciseStatus::NotStarted)
    {
        return format!(
            "Nothing started yet. Begin with exercises/{}/README.md, then run `cargo grade {}`.\n",
            next.dir, next.name
        );
    }
    match next.status {
        ExerciseStatus::NotStarted => {
            format!("Next: read exercises/{}/README.md, then run `cargo grade {}`.\n", next.dir, next.name)
        }
        ExerciseStatus::Error => {
            "The grader could not run some tests: see the messages above (`cargo grade --help` lists the options).\n"
                .to_string()
        }
        _ => format!("Next: fix {} (exercises/{}/src/main.rs), then run `cargo grade {}`; `cargo grade hint {}` may help.\n", next.name, next.dir, next.name, next.name),
    }
}

/// Points without a useless `.0`: `10`, `7.5`.
pub fn number(value: f64) -> String {
    if (value - value.round()).abs() < 0.005 {
        format!("{}", value.round())
    } else {
        format!("{value:.2}")
    }
}

/// Colour on stdout: a terminal, and `NO_COLOR` unset or empty (no-color.org).
pub fn color_stdout() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
}

/// Replaces the progress line on stderr (a terminal's) with `text`, the cursor left at its
/// start so that the next line, or the report, overwrites it; `""` clears it. Best effort: a
/// progress line that cannot be drawn is not worth failing a run.
pub fn progress_line(text: &str) {
    let _ = crossterm::execute!(
        std::io::stderr(),
        Clear(ClearType::CurrentLine),
        Print(text),
        Print('\r')
    );
}
