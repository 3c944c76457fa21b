//! 05 sized: read a size from the terminal, validate it, create key 2004 of that size, use it.

use super::spec::sized::{ACCESSED, BAD_SIZE, KEY, PROMPT};
use super::spec::{fill, fill_key, prefix};
use crate::checks::{
    Failure, Run, Test, Verdict, c_string_at, describe_bytes, ensure, unpredictable,
};
use crate::scenario::SyscallKind;

fn message(id: i64) -> String {
    fill(ACCESSED, &[("id", &id)])
}

/// What a segment of `size` bytes holds of the message: the start that fits with its NUL.
fn cut_to(size: usize) -> &'static str {
    &prefix(ACCESSED)[..size - 1]
}

/// The bad inputs of the spec, grouped by what the program must say about them.
const EMPTY: &[&str] = &["\n", "   \n"];
const NOT_A_NUMBER: &[&str] = &["12abc\n", "1 2\n", "1.5\n", "abc\n"];

pub fn tests() -> Vec<Test> {
    let mut bad_input = Test::new("bad input", &[KEY]).dialog(PROMPT, "");
    for reply in EMPTY.iter().chain(NOT_A_NUMBER).chain(&[
        "-5\n",
        "0\n",
        "99999999999999999999999\n",
        "1000000000000000000\n",
    ]) {
        bad_input = bad_input.dialog(PROMPT, reply);
    }
    vec![
        Test::new("typing 64", &[KEY])
            // Not id 0: a hard-coded id fails.
            .burn_ids(1 + unpredictable(8))
            .held(KEY, 64, 0o666, &[0; 64])
            .dialog(PROMPT, "64\n")
            .check(
                1,
                "prompts and exits with status 0",
                "print the prompt (no newline), flush stdout, read one line; return Ok from main",
                |run| {
                    run.exited(0, 0)?;
                    let stdout = run.stdout_text(0)?;
                    let on_stderr = run.error_text(0)?.starts_with(PROMPT);
                    ensure(stdout.starts_with(PROMPT), || {
                        Failure::new(if on_stderr {
                            "the prompt went to stderr; print it on stdout (print!, not eprint!)"
                        } else {
                            "the output does not start with the prompt"
                        })
                        .expected(format!("stdout starting with {PROMPT:?}"))
                        .actual(stdout.clone())
                        .step(0)
                    })
                },
            )
            .check(
                2,
                "prints the message with the segment's id",
                "print the message read back from the segment, on the line after the prompt",
                |run| {
                    let id = i64::from(run.setup_id(0)?);
                    run.printed(0, &[message(id)])
                },
            )
            .check(
                2,
                "writes the message and a NUL into the segment",
                "write the message's bytes and then a 0 byte at offset 0",
                |run| {
                    let id = i64::from(run.setup_id(0)?);
                    message_in_segment(run, &message(id))
                },
            )
            .check(
                2,
                "removes the segment",
                "remove the segment with shmctl_rmid before exiting",
                |run| run.setup_segment_removed(0),
            ),
        Test::new("typing 10: the message is cut to fit", &[KEY])
            .held(KEY, 10, 0o666, &[0; 10])
            .dialog(PROMPT, "10\n")
            .check(
                1,
                "a 10-byte segment gets 9 bytes of the message and a NUL",
                "write at most one byte less than the attachment's length of the message, then the NUL",
                |run| {
                    run.exited(0, 0)?;
                    run.printed(0, &[cut_to(10).to_string()])?;
                    message_in_segment(run, cut_to(10))
                },
            ),
        Test::new("typing 64, without a segment before", &[KEY])
            .dialog(PROMPT, "64\n")
            .check(
                1,
                "creates the segment itself and prints the message",
                "shmget(2004, size, IPC_CREAT, 0o666)",
                |run| {
                    run.exited(0, 0)?;
                    let id = run.printed_number(0, prefix(ACCESSED))?;
                    run.printed(0, &[message(id)])
                },
            )
            .check(
                1,
                "leaves no segment behind",
                "remove the segment with shmctl_rmid before exiting",
                |run| run.no_segment_left(),
            )
            .tidy(),
        Test::new("typing 64, the kernel refuses shmat, then shmget", &[KEY])
            .dialog(PROMPT, "64\n")
            .dialog(PROMPT, "64\n")
            .inject(SyscallKind::Shmat, libc::ENOMEM, Some(0))
            .inject(SyscallKind::Shmget, libc::ENOSPC, Some(1))
            .check(
                2,
                "reports a refused shmat or shmget, exits 1 and leaves nothing",
                "check every call: print `error: <call> (key 0x7d4): <reason>`, exit 1, and when shmat fails after shmget made the segment, remove it before exiting",
                |run| run.refusals_reported(&[("shmat", "0x7d4"), ("shmget", "0x7d4")]),
            ),
        bad_input
            .check(
                1,
                "rejects end of file",
                "when read_line reads 0 bytes, report `no size given` and exit 1",
                |run| {
                    rejected(run, &[0], "no size given")
                },
            )
            .check(
                1,
                "rejects an empty or blank line",
                "trim the line's whitespace (`str::trim`); if nothing is left, report `no size given`",
                |run| {
                    rejected(run, &[1, 2], "no size given")
                },
            )
            .check(
                1,
                "rejects what is not a whole number",
                "parse with str::parse::<usize>() and report `\"...\" is not a whole number of bytes`",
                |run| {
                    rejected(run, &[3, 4, 5, 6], "is not a whole number")
                },
            )
            .check(
                1,
                "rejects a negative size",
                "recognise a leading '-' before parsing and report `the size must be positive`",
                |run| {
                    rejected(run, &[7], "must be positive")
                },
            )
            .check(
                1,
                "rejects 0",
                "after parsing, reject 0 with `the size must be at least 1 byte`",
                |run| {
                    rejected(run, &[8], "at least 1 byte")
                },
            )
            .check(
                1,
                "rejects a number too large to hold",
                "a parse error of kind PosOverflow means the number is too large",
                |run| {
                    rejected(run, &[9], "too large")
                },
            )
            .check(
                1,
                "reports a size the kernel refuses",
                "check shmget's result: a huge size fails (ENOSPC, EINVAL or ENOMEM); say so and exit 1",
                |run| {
                    run.exited(10, 1)?;
                    run.stderr_mentions(10, &["error:", "0x7d4"])
                },
            )
            .check(
                1,
                "creates no segment on bad input",
                "validate the size before shmget, and remove the segment on every error path after it",
                |run| run.no_segment_left(),
            )
            .tidy(),
    ]
}

/// Steps `steps` each exit 1 with `error: reading the size (key 0x7d4): ...REASON...`.
fn rejected(run: &Run, steps: &[usize], reason: &str) -> Verdict {
    let error = fill_key(BAD_SIZE, KEY);
    for &step in steps {
        run.exited(step, 1)?;
        run.stderr_mentions(step, &[prefix(&error), reason])?;
    }
    Ok(())
}

fn message_in_segment(run: &Run, text: &str) -> Verdict {
    let segment = run.setup_segment(0)?;
    let found = c_string_at(&segment.contents, 0);
    let terminated = segment.contents.get(found.len()) == Some(&0);
    ensure(found == text.as_bytes() && terminated, || {
        let mut expected = text.as_bytes().to_vec();
        expected.push(0);
        let shown = segment
            .contents
            .get(..expected.len())
            .unwrap_or(&segment.contents);
        Failure::new("the segment does not hold the message and its NUL")
            .expected(describe_bytes(&expected))
            .actual(describe_bytes(shown))
    })
}
