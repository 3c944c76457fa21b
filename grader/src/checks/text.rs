//! Words for what was observed, and reading what a program printed.
//!
//! Failure messages and reports describe exits, processes, segments and bytes the same way
//! everywhere (`killed by SIGSEGV (signal 11)`, `id 3, key 0x2706, 1024 bytes, ...`), and the
//! grader reads a program's output for the same few things (a panic and where it happened, a
//! `todo!()`, the transcript after a dialog's prompt): all of it lives here, apart from the
//! checks that use it.

use std::fmt::Write as _;
use std::time::Duration;

use crate::proc_shm::ShmEntry;
use crate::scenario::{Exit, ProcessInfo, SegmentState, StepOutcome};

/// Processes listed shortly: a fork bomb leaves dozens.
pub(super) fn describe_processes(processes: &[ProcessInfo]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = processes
        .iter()
        .take(SHOWN)
        .map(|process| format!("{} (pid {})", process.name, process.pid))
        .collect();
    if processes.len() > SHOWN {
        names.push(format!("and {} more", processes.len() - SHOWN));
    }
    names.join(", ")
}

/// "exit status 1", "killed by SIGSEGV (signal 11)", "still running after 5 s: killed".
pub fn describe_exit(exit: &Exit, timeout: Duration) -> String {
    match exit {
        Exit::Code(code) => format!("exit status {code}"),
        Exit::Signal(number, name) => format!("killed by {name} (signal {number})"),
        Exit::TimedOut => format!(
            "still running after {}: killed by the grader",
            seconds(timeout)
        ),
    }
}

fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// The first `count` lines, each clipped, and how many more there were.
pub(super) fn first_lines(lines: &[String], count: usize) -> String {
    let mut text: Vec<String> = lines
        .iter()
        .take(count)
        .map(|line| clip(line, 120))
        .collect();
    if lines.len() > count {
        text.push(format!("[... {} more lines]", lines.len() - count));
    }
    text.join("\n")
}

/// `line`, cut to at most `max` characters (marked with `…`): a program may print one line of
/// megabytes, and a report must stay readable.
pub fn clip(line: &str, max: usize) -> String {
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// The message of a panic (the line after `panicked at FILE:LINE:COL:`), if `stderr` has one.
pub fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    lines.find(|line| line.contains("panicked at"))?;
    lines.next().map(|message| clip(message.trim(), 200))
}

/// The message of a `todo!()` panic in `stderr`, if the program stopped at one.
pub fn not_yet_implemented(stderr: &str) -> Option<String> {
    let line = stderr
        .lines()
        .find(|line| line.contains("not yet implemented"))?;
    let message = line
        .split_once("not yet implemented")
        .map_or("", |(_, rest)| rest);
    let message = message.trim_start_matches(':').trim();
    Some(if message.is_empty() {
        "not yet implemented".to_string()
    } else {
        message.to_string()
    })
}

/// Where a program panicked, from its panic message on `stderr`: `src/main.rs:39` for
/// `thread 'main' panicked at exercises/01-create/src/main.rs:39:5:` (the file from the
/// package's folder on, the line without the column).
pub fn panic_site(stderr: &str) -> Option<String> {
    let line = stderr.lines().find(|line| line.contains("panicked at "))?;
    let place = line.split_once("panicked at ")?.1.trim_end_matches(':');
    let mut parts = place.rsplitn(3, ':');
    let (_column, line_number, file) = (parts.next()?, parts.next()?, parts.next()?);
    line_number.parse::<u32>().ok()?;
    let file = file.find("src/").map_or(file, |start| &file[start..]);
    Some(format!("{file}:{line_number}"))
}

/// A run stopped at a `todo!()`: exit status 101 and the panic message on stderr.
pub fn stopped_at_todo(step: &StepOutcome) -> Option<String> {
    if step.exit != Exit::Code(101) {
        return None;
    }
    not_yet_implemented(&step.stderr.text).or_else(|| not_yet_implemented(&step.stdout.text))
}

/// One line per segment, like a short `ipcs -m`.
pub fn describe_segments(segments: &[SegmentState]) -> String {
    if segments.is_empty() {
        return "no segment".to_string();
    }
    let mut text = String::new();
    for segment in segments {
        let _ = writeln!(text, "{}", describe_entry(&segment.entry));
    }
    text.trim_end().to_string()
}

/// `id 3, key 0x2706, 1024 bytes, mode 0666, cpid 2, lpid 2, 0 attached`.
pub fn describe_entry(entry: &ShmEntry) -> String {
    let dest = if entry.marked_for_destruction() {
        ", marked for destruction"
    } else {
        ""
    };
    format!(
        "id {}, key {:#x}, {} bytes, mode {:04o}, cpid {}, lpid {}, {} attached{dest}",
        entry.shmid,
        entry.key,
        entry.size,
        entry.permissions(),
        entry.cpid,
        entry.lpid,
        entry.nattch
    )
}

/// Bytes for a message: printable text as a string, with NULs and others escaped.
pub fn describe_bytes(bytes: &[u8]) -> String {
    if bytes.iter().all(|byte| *byte == 0) {
        return format!("{} zero bytes", bytes.len());
    }
    format!("\"{}\"", bytes.escape_ascii())
}

/// The C string at `offset` of a segment's captured contents.
pub fn c_string_at(contents: &[u8], offset: usize) -> Vec<u8> {
    contents
        .get(offset..)
        .unwrap_or(&[])
        .iter()
        .copied()
        .take_while(|byte| *byte != 0)
        .collect()
}

pub(super) fn normalise_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The transcript after the prompt, without the terminal's echo of the reply.
pub(super) fn after_dialog(transcript: &str, prompt: &str, reply: &str) -> String {
    let Some(at) = transcript.find(prompt) else {
        return transcript.to_string();
    };
    let rest = &transcript[at + prompt.len()..];
    let echo = reply.trim_end_matches('\n');
    match rest.strip_prefix(echo) {
        Some(after) if !echo.is_empty() || after.starts_with('\n') => {
            after.strip_prefix('\n').unwrap_or(after).to_string()
        }
        _ => rest.to_string(),
    }
}

pub(super) fn sorted(lines: &[String]) -> Vec<&String> {
    let mut sorted: Vec<&String> = lines.iter().collect();
    sorted.sort();
    sorted
}

pub(super) fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("{item:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_site_is_the_file_and_line() {
        let stderr = "\nthread 'main' panicked at exercises/01-create/src/main.rs:39:5:\nnot yet implemented: x\n";
        assert_eq!(panic_site(stderr).as_deref(), Some("src/main.rs:39"));
        assert_eq!(panic_site("no panic here"), None);
    }

    #[test]
    fn todo_message_is_extracted() {
        let stderr = "\nthread 'main' panicked at exercises/01-create/src/main.rs:9:5:\nnot yet implemented: create the segment\nnote: run with `RUST_BACKTRACE=1`";
        assert_eq!(
            not_yet_implemented(stderr).as_deref(),
            Some("create the segment")
        );
        assert_eq!(
            not_yet_implemented("not yet implemented").as_deref(),
            Some("not yet implemented")
        );
        assert_eq!(not_yet_implemented("panicked at x: boom"), None);
    }

    #[test]
    fn dialog_output_skips_prompt_and_echo() {
        let prompt = "Enter the size of shared memory: ";
        let echoed = "Enter the size of shared memory: 64\nWe have accessed shared memory ID: 3\n";
        assert_eq!(
            after_dialog(echoed, prompt, "64\n"),
            "We have accessed shared memory ID: 3\n"
        );
        let silent = "Enter the size of shared memory: We have accessed shared memory ID: 3\n";
        assert_eq!(
            after_dialog(silent, prompt, "64\n"),
            "We have accessed shared memory ID: 3\n"
        );
        let empty = "Enter the size of shared memory: \nerror: reading the size (key 0x7d4): no size given\n";
        assert_eq!(
            after_dialog(empty, prompt, "\n"),
            "error: reading the size (key 0x7d4): no size given\n"
        );
    }

    #[test]
    fn exits_are_described() {
        assert_eq!(
            describe_exit(&Exit::Signal(11, "SIGSEGV".into()), Duration::from_secs(5)),
            "killed by SIGSEGV (signal 11)"
        );
        assert_eq!(
            describe_exit(&Exit::TimedOut, Duration::from_secs(5)),
            "still running after 5 s: killed by the grader"
        );
    }

    #[test]
    fn bytes_are_described() {
        assert_eq!(describe_bytes(&[0, 0, 0]), "3 zero bytes");
        assert_eq!(describe_bytes(b"hi\0"), "\"hi\\x00\"");
        assert_eq!(c_string_at(b"\x02\0\0\0hello\0junk", 4), b"hello");
    }
}
