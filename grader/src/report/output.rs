//! A program's output as a report shows it: stdout then stderr, each capped to the first
//! and last lines, long lines clipped, a panic's stack backtrace left out.
//!
//! Grading keeps every byte it captured (up to the sandbox's cap) for the checks; what a
//! person reads under a failed check is this shorter view, made once here for every format.

use crate::checks::clip;
use crate::scenario::{Captured, StepOutcome};

/// Most lines of each stream kept in a report; the middle of longer output is left out.
const OUTPUT_LINES: usize = 20;
/// Longest line kept in a report (characters).
const LINE_CHARS: usize = 200;

/// A step's captured output for a report: stdout, then stderr, each capped.
pub fn captured_output(step: &StepOutcome, dialog: bool) -> String {
    let mut text = String::new();
    let streams: &[(&str, &Captured)] = if dialog {
        &[("terminal", &step.stdout)]
    } else {
        &[("stdout", &step.stdout), ("stderr", &step.stderr)]
    };
    for (name, captured) in streams {
        let body = without_backtrace(&captured.text.replace("\r\n", "\n"));
        if body.is_empty() {
            text.push_str(&format!("{name}: (nothing)\n"));
            continue;
        }
        let lines: Vec<&str> = body.lines().collect();
        let cut = if captured.truncated {
            format!(", {} bytes in all", captured.total_bytes)
        } else {
            String::new()
        };
        text.push_str(&format!("{name}{cut}:\n"));
        if lines.len() > OUTPUT_LINES {
            let half = OUTPUT_LINES / 2;
            for line in &lines[..half] {
                text.push_str(&format!("{}\n", clip(line, LINE_CHARS)));
            }
            text.push_str(&format!(
                "[... {} lines left out ...]\n",
                lines.len() - 2 * half
            ));
            for line in &lines[lines.len() - half..] {
                text.push_str(&format!("{}\n", clip(line, LINE_CHARS)));
            }
        } else {
            for line in lines {
                text.push_str(&format!("{}\n", clip(line, LINE_CHARS)));
            }
        }
    }
    text.trim_end().to_string()
}

/// The text without a panic's stack backtrace (shown when RUST_BACKTRACE is set): the panic
/// message says what a student needs; forty lines of std frames bury it.
fn without_backtrace(text: &str) -> String {
    let mut kept = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with("stack backtrace:") {
            skipping = true;
            kept.push_str("[stack backtrace left out]\n");
            continue;
        }
        if skipping && (line.starts_with(' ') || line.starts_with("note: Some details are omitted"))
        {
            continue;
        }
        skipping = false;
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}
