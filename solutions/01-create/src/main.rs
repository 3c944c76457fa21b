//! Exercise 1, `create`: make a System V shared-memory segment and print its id.
//!
//! | C (the course notes)                         | Rust (this program)                                  |
//! |----------------------------------------------|------------------------------------------------------|
//! | `shmget(9990, 1024, IPC_CREAT \| 0666)`        | `sysv::shmget(KEY, SIZE, ShmgetFlag::IPC_CREAT, mode)` |
//! | `shmget(9990, 1024, IPC_CREAT \| IPC_EXCL \| 0666)` | the same, with `ShmgetFlag::IPC_EXCL` added      |
//! | `if (id == -1) { perror(...); exit(1); }`    | `match ... { Err(errno) => ... }`                    |
//!
//! The segment outlives this program on purpose: `attach` uses it next, and `remove` removes it.

use std::process::ExitCode;

use sysv::{Errno, Key, Mode, ShmgetFlag};

/// The name the lab's first programs agree on (`ipcs -m` shows it as `0x00002706`).
const KEY: Key = 9990;
/// The segment's size in bytes.
const SIZE: usize = 1024;

fn main() -> ExitCode {
    // `create` or `create --exclusive`; anything else is a usage error (exit status 2).
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exclusive = match args.as_slice() {
        [] => false,
        [flag] if flag == "--exclusive" => true,
        _ => {
            eprintln!("usage: create [--exclusive]");
            return ExitCode::from(2);
        }
    };

    let mut flags = ShmgetFlag::IPC_CREAT;
    if exclusive {
        // IPC_CREAT | IPC_EXCL: fail with EEXIST instead of finding a segment that already exists.
        flags |= ShmgetFlag::IPC_EXCL;
    }
    // The permission bits go with the flags, like C's `IPC_CREAT | 0666`. Without them the
    // segment gets mode 000, and no other user's program could attach it.
    let mode = Mode::from_bits_truncate(0o666);

    // Without IPC_EXCL, shmget returns the segment the key already has: a second run finds the
    // same segment and prints the same id (the notes' message still says "created").
    match sysv::shmget(KEY, SIZE, flags, mode) {
        Ok(id) => {
            println!("Shared memory segment created with ID: {id}");
            ExitCode::SUCCESS
        }
        Err(errno) => {
            eprintln!("error: shmget (key {KEY:#x}): {}", reason(errno));
            ExitCode::FAILURE
        }
    }
}

/// Why `shmget` failed, in words, then the errno's name (as `man 2 shmget` lists them).
fn reason(errno: Errno) -> String {
    match errno {
        Errno::EEXIST => "a segment with this key already exists (EEXIST); \
                          remove it first (cargo run -p remove) or leave out --exclusive"
            .to_string(),
        // The key has a segment, but a smaller one: shmget never resizes a segment.
        Errno::EINVAL => format!(
            "the segment with this key is smaller than {SIZE} bytes (EINVAL); \
             remove it first (cargo run -p remove)"
        ),
        _ => format!("{} ({errno:?})", errno.desc()),
    }
}
