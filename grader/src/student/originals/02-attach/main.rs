//! Exercise 2, `attach`: find the segment `create` made, write a sentence into it, read it back.
//!
//! The whole task is in exercises/02-attach/README.md. Run `cargo run -p create` first, then
//! `cargo run -p attach`; grade it with `cargo grade attach`.
//! The `sysv` items you need are documented with examples: `cargo doc -p sysv --open`.

// Until you have written the TODO steps, some imports and helpers given below are unused and
// the compiler would warn about them. Delete this line when your program is complete.
#![allow(unused_imports, dead_code)]

use std::process::ExitCode;

use sysv::{Errno, Key, Mode, ShmatFlag, ShmgetFlag};

/// The key `create` used.
const KEY: Key = 9990;
/// A C string: the sentence and the NUL byte that ends it (`strcpy` copies that byte too).
const SENTENCE: &[u8] = b"This is our shared memory segment.\0";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The program. A failing call becomes an `Err` made by `failed("<C call>", errno)`, which
/// `main` prints as `error: ...` (exit status 1). Look up `Result::map_err` and the `?` operator.
fn run() -> Result<(), String> {
    // TODO 1: access the segment `create` made, by its key: `sysv::shmget`. Which flags make it
    //         *find* a segment but never create one? What size do you pass when you do not
    //         know it (`man 2 shmget`)? A missing segment must end in ENOENT, not a new one.
    // TODO 2: attach it to this process (`sysv::shmat`, `ShmatFlag`) and print the README's
    //         "Attached ..." line.
    // TODO 3: does SENTENCE fit? An `Attachment` knows its length. If not: detach first, then
    //         return an error that says the segment is too small.
    // TODO 4: write SENTENCE at the start of the segment (`Attachment::write`).
    // TODO 5: read the C string back *from the segment* (an `Attachment` method reads up to
    //         the NUL) and print the "Read back: ..." line. The bytes may not be UTF-8: look
    //         up `String::from_utf8_lossy`.
    // TODO 6: detach (`sysv::shmdt`). Leave the segment: exercise 6 removes it.
    todo!("access the segment with sysv::shmget (TODO 1-6 in src/main.rs)")
}

/// The text of an error line: `<operation> (key 0x2706): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    let reason = match errno {
        Errno::ENOENT => "no segment has this key (ENOENT); run create first".to_string(),
        _ => format!("{} ({errno:?})", errno.desc()),
    };
    format!("{operation} (key {KEY:#x}): {reason}")
}
