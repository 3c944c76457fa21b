//! Exercise 5, `sized`: make a segment of the size the user types, write a message into it.
//!
//! The whole task is in exercises/05-sized/README.md. Run it with `cargo run -p sized`;
//! grade it with `cargo grade sized`.
//! The `sysv` items you need are documented with examples: `cargo doc -p sysv --open`.

// Until you have written the TODO steps, some imports and helpers given below are unused and
// the compiler would warn about them. Delete this line when your program is complete.
#![allow(unused_imports, dead_code)]

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

    // TODO 3: create the segment of `size` bytes (KEY, mode 0666). A valid number can still be
    //         refused by the kernel (its limits): the README gives that error's words.
    // TODO 7 (it runs last): from here on the segment exists: write the message, then
    //         remove the segment whatever happened, and return the first error (exercise 3's
    //         TODO 8 again).
    todo!("create the segment of {size} bytes (TODO 3 and 7 in run)")
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
    // TODO 1: what the user typed ends with a newline and may have spaces around it: drop
    //         them. Nothing left means "no size given".
    // TODO 2: turn the text into a `usize` (look up `str::parse`). Which inputs does it refuse
    //         already: "12abc", "1 2", "1.5", "-5"? And which valid number is still not a
    //         size? Give each refusal the README's reason. A number too big for usize is a
    //         kind of parse error of its own: look up `ParseIntError::kind` and `IntErrorKind`.
    //         `is_negative_number` (given) tells "-5" from other text.
    todo!("validate the size {line:?} (TODO 1-2 in parse_size)")
}

/// Given: `-` followed by digits, like `-5`: a number, but not a size.
fn is_negative_number(text: &str) -> bool {
    text.strip_prefix('-')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Attaches, writes the message (cut to fit), reads it back and prints it, detaches.
fn write_message(id: ShmId) -> Result<(), String> {
    // TODO 4: attach.
    // TODO 5: write the README's message into the segment as a C string, cut short when the
    //         segment is small. How many bytes of the text fit, if the NUL needs the last
    //         byte? (A 10-byte segment holds "We have a" and the NUL.) Never write past the end:
    //         the `Attachment` would stop the program.
    // TODO 6: read the C string back from the segment, print it as one line, detach.
    todo!("write the message into segment {id} (TODO 4-6)")
}

/// The text of an error line: `<operation> (key 0x7d4): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    format!("{operation} (key {KEY:#x}): {} ({errno:?})", errno.desc())
}
