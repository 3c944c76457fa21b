//! Exercise 6, `remove`: show what the kernel knows of a segment, then remove it.
//!
//! | C                                           | Rust (this program)                           |
//! |---------------------------------------------|-----------------------------------------------|
//! | `id = shmget(key, 0, 0)`                    | `sysv::shmget(key, 0, ShmgetFlag::empty(), Mode::empty())` |
//! | `shmctl(id, IPC_STAT, &buf)`                | `sysv::shmctl_stat(id)` (a `ShmidDs`)         |
//! | `buf.shm_segsz`, `buf.shm_cpid`, `buf.shm_nattch` | `status.size`, `status.cpid`, `status.nattch` |
//! | `shmctl(id, IPC_RMID, NULL)`                | `sysv::shmctl_rmid(id)`                       |
//!
//! The command-line tool `ipcrm -M 0x2706` does the same.

use std::process::ExitCode;

use sysv::{Errno, Key, Mode, ShmgetFlag};

/// The key of `create` and `attach`, removed when no key is given.
const DEFAULT_KEY: Key = 9990;

fn main() -> ExitCode {
    // `remove` or `remove KEY`; more arguments are a usage error (exit status 2).
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

/// A key as people write them: decimal (`9990`) or hexadecimal (`0x2706`, as `ipcs -m` shows).
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
    // Find the segment; without IPC_CREAT a missing one is ENOENT, not a new one.
    let id = sysv::shmget(key, 0, ShmgetFlag::empty(), Mode::empty())
        .map_err(|errno| failed(key, "shmget", errno))?;

    let status = sysv::shmctl_stat(id).map_err(|errno| failed(key, "shmctl(IPC_STAT)", errno))?;
    println!(
        "Segment ID {id} (key {key:#x}): {} bytes, created by PID {}, attached {} time(s)",
        status.size, status.cpid, status.nattch
    );

    sysv::shmctl_rmid(id).map_err(|errno| failed(key, "shmctl(IPC_RMID)", errno))?;
    // IPC_RMID never waits: a segment still attached somewhere is only marked for destruction
    // (its key is freed now), and the kernel frees it at the last shmdt or exit.
    if status.nattch == 0 {
        println!("Removed segment ID {id}.");
    } else {
        println!(
            "Segment ID {id} is marked for destruction: \
             it goes away when its last attachment is detached."
        );
    }
    Ok(())
}

/// The text of an error line: `<operation> (key 0x2706): <reason> (<ERRNO>)`.
fn failed(key: Key, operation: &str, errno: Errno) -> String {
    let reason = match errno {
        Errno::ENOENT => "no segment has this key".to_string(),
        _ => errno.desc().to_string(),
    };
    format!("{operation} (key {key:#x}): {reason} ({errno:?})")
}
