//! Exercise 1, `create`: make a System V shared-memory segment and print its id.
//!
//! The whole task is in exercises/01-create/README.md. Run it with `cargo run -p create`
//! (and `cargo run -p create -- --exclusive`); grade it with `cargo grade create`.
//! The `sysv` items you need are documented with examples: `cargo doc -p sysv --open`.

// Until you have written the TODO steps, some imports and helpers given below are unused and
// the compiler would warn about them. Delete this line when your program is complete.
#![allow(unused_imports, dead_code)]

use std::process::ExitCode;

use sysv::{Errno, Key, Mode, ShmgetFlag};

/// The name the lab's first programs agree on (`ipcs -m` shows it as `0x00002706`).
const KEY: Key = 9990;
/// The segment's size in bytes.
const SIZE: usize = 1024;

fn main() -> ExitCode {
    // Given: `create` or `create --exclusive`; anything else is a usage error (exit status 2).
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exclusive = match args.as_slice() {
        [] => false,
        [flag] if flag == "--exclusive" => true,
        _ => {
            eprintln!("usage: create [--exclusive]");
            return ExitCode::from(2);
        }
    };

    // TODO 1: say what to ask the kernel for. Creating is a flag of `sysv::shmget`; with
    //         --exclusive, a second flag makes it refuse a key that is already taken. In C
    //         the flags are OR-ed together: look up `ShmgetFlag` (a bitflags type).
    // TODO 2: the permission bits 0666 (read and write for everyone). Look up `Mode`. What
    //         mode would the segment get if you passed none? (`ipcs -m` shows it.)
    // TODO 3: create the segment with `sysv::shmget` and handle both outcomes: print the
    //         README's one line and exit 0, or print one `error: shmget (key 0x2706): ...`
    //         line (use `reason`) and exit 1. Errors are values here, not -1.
    todo!("create the segment with sysv::shmget (TODO 1-3; exclusive: {exclusive})")
}

/// Why `shmget` failed, in words, then the errno's name: `<words> (<ERRNO>)`.
fn reason(errno: Errno) -> String {
    // TODO 4: the one errno worth its own words here is the one --exclusive gets when the key
    //         is taken: say so, and what the user can do about it (the README has the line).
    format!("{} ({errno:?})", errno.desc())
}
