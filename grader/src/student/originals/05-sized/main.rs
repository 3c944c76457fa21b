//! Exercise 5, `sized`: make a segment of the size the user types, write a message into it.
//!
//! The whole task is in exercises/05-sized/README.md. Run it with `cargo run -p sized`;
//! grade it with `cargo grade sized`.

// Until you have written the TODO steps, some of what is given below is unused and the compiler
// would warn about it. Delete this line when your program is complete.
#![allow(unused_imports, unused_variables, dead_code)]

use std::io::{self, Write};
use std::num::IntErrorKind;
use std::process::ExitCode;

use sysv::{Errno, Key, Mode, ShmId, ShmatFlag, ShmgetFlag};

const KEY: Key = 2004;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let size = read_size()?;

    // TODO 4: create the segment: sysv::shmget(KEY, size, ShmgetFlag::IPC_CREAT,
    //         Mode::from_bits_truncate(0o666)). A valid number can still be refused by the
    //         kernel (too large for its limits): map the errno to
    //         "shmget (key 0x7d4): the kernel refused a segment of <size> bytes (<ERRNO>)".
    // TODO 5: let outcome = write_message(id); then remove the segment whatever the outcome
    //         (sysv::shmctl_rmid, failed("shmctl(IPC_RMID)", errno)); return outcome.and(removed).
    todo!("create the segment (TODO 4-5 in run)")
}

/// Given: prompts for the size and reads one line, then validates it with `parse_size`.
fn read_size() -> Result<usize, String> {
    print!("Enter the size of shared memory: ");
    // print! does not end the line, so the prompt stays in stdout's buffer until a flush.
    io::stdout()
        .flush()
        .map_err(|error| format!("writing the prompt: {error}"))?;

    let mut line = String::new();
    // At end of input (Ctrl-D) read_line reads nothing and `line` stays empty.
    io::stdin()
        .read_line(&mut line)
        .map_err(|error| format!("reading the size (key {KEY:#x}): {error}"))?;
    parse_size(&line).map_err(|reason| format!("reading the size (key {KEY:#x}): {reason}"))
}

/// The size typed, or why it is not a size (the reason only; read_size adds the rest).
fn parse_size(line: &str) -> Result<usize, String> {
    // TODO 1: trim the line (text = line.trim()); if nothing is left: Err("no size given").
    // TODO 2: text.parse::<usize>() accepts only digits: it rejects "12abc", "1 2", "1.5",
    //         "abc" and "-5", and reports a number too big for usize as
    //         IntErrorKind::PosOverflow. Match on it:
    //         Ok(0)                                  -> "the size must be at least 1 byte"
    //         Ok(size)                               -> Ok(size)
    //         Err(e) if *e.kind() == IntErrorKind::PosOverflow -> "\"<text>\" is too large"
    //         Err(_) if is_negative_number(text)     -> "the size must be positive"
    //         Err(_)                                 -> "\"<text>\" is not a whole number of bytes"
    todo!("validate the size (TODO 1-2 in parse_size)")
}

/// Given: `-` followed by digits, like `-5`: a number, but not a size.
fn is_negative_number(text: &str) -> bool {
    text.strip_prefix('-')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Attaches, writes the message (cut to fit), reads it back and prints it, detaches.
fn write_message(id: ShmId) -> Result<(), String> {
    // TODO 6: attach (sysv::shmat, failed("shmat", errno)).
    // TODO 7: the message is format!("We have accessed shared memory ID: {id}"). Keep the
    //         segment's last byte for the NUL: write at most attachment.len() - 1 bytes of it
    //         at offset 0, then a 0 byte right after what you wrote. A 10-byte segment gets
    //         "We have a" and the NUL; a 1-byte segment only the NUL. Never write past the end.
    // TODO 8: read it back with attachment.read_c_string(0) and print it as one line
    //         (String::from_utf8_lossy); then detach (sysv::shmdt).
    todo!("write the message (TODO 6-8)")
}

/// The text of an error line: `<operation> (key 0x7d4): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    format!("{operation} (key {KEY:#x}): {} ({errno:?})", errno.desc())
}
