//! Exercise 2, `attach`: find the segment `create` made, write a sentence into it, read it back.
//!
//! The whole task is in exercises/02-attach/README.md. Run `cargo run -p create` first, then
//! `cargo run -p attach`; grade it with `cargo grade attach`.

// Until you have written the TODO steps, some of what is given below is unused and the compiler
// would warn about it. Delete this line when your program is complete.
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

/// The program. Each failing call becomes `Err(failed("<C call>", errno))`, which `main` prints
/// as `error: ...` and turns into exit status 1: write `.map_err(|errno| failed("shmget", errno))?`.
fn run() -> Result<(), String> {
    // TODO 1: access the segment: sysv::shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty()).
    //         No IPC_CREAT: a missing segment must be an error (ENOENT), not a new one.
    //         Size 0 means "whatever size it already has".
    // TODO 2: attach it: sysv::shmat(id, ShmatFlag::empty()), then print
    //         "Attached shared memory segment ID: {id}".
    // TODO 3: check that SENTENCE fits (attachment.len() >= SENTENCE.len()); if not, detach and
    //         return an error that says the segment is too small.
    // TODO 4: write it at offset 0: attachment.write(0, SENTENCE).
    // TODO 5: read it back from the segment with attachment.read_c_string(0) (the bytes before
    //         the NUL) and print "Read back: {}" with String::from_utf8_lossy(&bytes).
    // TODO 6: detach: sysv::shmdt(attachment). Do not remove the segment.
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
