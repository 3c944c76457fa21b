//! Exercise 1, `create`: make a System V shared-memory segment and print its id.
//!
//! The whole task is in exercises/01-create/README.md. Run it with `cargo run -p create`
//! (and `cargo run -p create -- --exclusive`); grade it with `cargo grade create`.

// Until you have written the TODO steps, some of what is given below is unused and the compiler
// would warn about it. Delete this line when your program is complete.
#![allow(unused_imports, unused_variables, dead_code)]

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

    // TODO 1: the flags. Start from ShmgetFlag::IPC_CREAT; with --exclusive add
    //         ShmgetFlag::IPC_EXCL too (`flags |= ...`), as C writes IPC_CREAT | IPC_EXCL.
    // TODO 2: the mode: Mode::from_bits_truncate(0o666). Without it the segment gets mode 000.
    // TODO 3: call sysv::shmget(KEY, SIZE, flags, mode) and match on the result:
    //         Ok(id)     -> println!("Shared memory segment created with ID: {id}"), then
    //                       return ExitCode::SUCCESS
    //         Err(errno) -> eprintln!("error: shmget (key {KEY:#x}): {}", reason(errno)), then
    //                       return ExitCode::FAILURE (exit status 1)
    todo!("create the segment with sysv::shmget (TODO 1-3 in src/main.rs)")
}

/// Why `shmget` failed, in words, then the errno's name: `<words> (<ERRNO>)`.
fn reason(errno: Errno) -> String {
    // TODO 4: when errno is Errno::EEXIST (what --exclusive gets if the segment exists), return
    //         "a segment with this key already exists (EEXIST); " followed by advice: remove it
    //         with `cargo run -p remove`, or leave out --exclusive.
    format!("{} ({errno:?})", errno.desc())
}
