//! Exercise 6, `remove`: show what the kernel knows of a segment, then remove it.
//!
//! The whole task is in exercises/06-remove/README.md. Run it with `cargo run -p remove`
//! (or `cargo run -p remove -- 0x2706`); grade it with `cargo grade remove`.
//! The `sysv` items you need are documented with examples: `cargo doc -p sysv --open`.

// Until you have written the TODO steps, some imports and helpers given below are unused and
// the compiler would warn about them. Delete this line when your program is complete.
#![allow(unused_imports, dead_code)]

use std::process::ExitCode;

use sysv::{Errno, Key, Mode, ShmgetFlag};

/// The key of `create` and `attach`, removed when no key is given.
const DEFAULT_KEY: Key = 9990;

fn main() -> ExitCode {
    // Given: `remove` or `remove KEY`; more arguments are a usage error (exit status 2).
    let args: Vec<String> = std::env::args().skip(1).collect();
    let key = match args.as_slice() {
        [] => DEFAULT_KEY,
        [text] => match parse_key(text) {
            Ok(key) => key,
            Err(reason) => {
                eprintln!("error: parsing the key \"{text}\": {reason}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: remove [KEY]  (KEY: decimal like 9990 or hexadecimal like 0x2706)");
            return ExitCode::from(2);
        }
    };

    match remove(key) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Given: a key as people write them: decimal (`9990`) or hexadecimal (`0x2706`, as `ipcs -m`
/// shows it).
fn parse_key(text: &str) -> Result<Key, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        // ipcs shows keys as 32-bit hexadecimal; `as` keeps those bits (0xffffffff is key -1).
        Some(hex) => u32::from_str_radix(hex, 16).map(|bits| bits as Key),
        None => text.parse::<Key>(),
    };
    match parsed {
        // Key 0 is IPC_PRIVATE: shmget with it always makes a new segment, it never finds one.
        Ok(0) => Err("0 is IPC_PRIVATE, which names no segment".to_string()),
        Ok(key) => Ok(key),
        Err(_) => Err("not a decimal or 0x-hexadecimal number".to_string()),
    }
}

fn remove(key: Key) -> Result<(), String> {
    // TODO 1: find the segment with this key, as `attach` did: never create one here.
    // TODO 2: ask the kernel for the segment's status (C: `shmctl(id, IPC_STAT, &buf)`; look
    //         up `sysv::shmctl_stat` and the fields of `ShmidDs`), and print the README's
    //         "Segment ID ..." line with its size, creator and attach count.
    // TODO 3: remove it (`sysv::shmctl_rmid`).
    // TODO 4: say what happened. Was it removed at once, or only marked for destruction?
    //         What you read in TODO 2 tells you: the README has both lines.
    todo!("find the segment of key {key:#x} with sysv::shmget (TODO 1-4 in remove)")
}

/// The text of an error line: `<operation> (key 0x2706): <reason> (<ERRNO>)`.
fn failed(key: Key, operation: &str, errno: Errno) -> String {
    let reason = match errno {
        Errno::ENOENT => "no segment has this key".to_string(),
        _ => errno.desc().to_string(),
    };
    format!("{operation} (key {key:#x}): {reason} ({errno:?})")
}
