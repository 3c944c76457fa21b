//! Exercise 5, `sized`: make a segment of the size the user types, write a message into it.
//!
//! The notes read the size with `scanf("%d")` and never check it: 0, a negative number, text or
//! a huge number all go straight to shmget, and the message is copied in even when the segment
//! is too small for it. Here the size is validated first and the message is cut to fit.
//!
//! | C (the course notes)                        | Rust (this program)                           |
//! |---------------------------------------------|-----------------------------------------------|
//! | `printf("Enter the size of shared memory : ")` | `print!` then `io::stdout().flush()`       |
//! | `scanf("%d", &size)`                        | `read_line`, then `parse_size` (validated)    |
//! | `shmget(2004, size, IPC_CREAT \| 0666)`      | `sysv::shmget(KEY, size, ShmgetFlag::IPC_CREAT, mode)` |
//! | `sprintf(p, "We have accessed ...")`        | `attachment.write` of at most `len - 1` bytes, then a NUL |
//! | `shmdt(p)`                                  | `sysv::shmdt(attachment)`                     |
//! | (missing)                                   | `sysv::shmctl_rmid(id)`                       |

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

    let mode = Mode::from_bits_truncate(0o666);
    let id = sysv::shmget(KEY, size, ShmgetFlag::IPC_CREAT, mode).map_err(|errno| {
        // A valid number can still be too much for the kernel (SHMMAX, SHMALL, memory).
        format!("shmget (key {KEY:#x}): the kernel refused a segment of {size} bytes ({errno:?})")
    })?;

    // From here on the segment exists: remove it whatever happens, and report the first error.
    let outcome = write_message(id);
    let removed = sysv::shmctl_rmid(id).map_err(|errno| failed("shmctl(IPC_RMID)", errno));
    outcome.and(removed)
}

/// Prompts for the size and reads one line: the size in bytes, validated.
fn read_size() -> Result<usize, String> {
    print!("Enter the size of shared memory: ");
    // print! does not end the line, so the prompt stays in stdout's buffer until a flush.
    io::stdout()
        .flush()
        .map_err(|error| format!("writing the prompt: {error}"))?;

    let mut line = String::new();
    // At end of input (Ctrl-D) read_line reads nothing and `line` stays empty: "no size given".
    io::stdin()
        .read_line(&mut line)
        .map_err(|error| format!("reading the size (key {KEY:#x}): {error}"))?;
    parse_size(&line).map_err(|reason| format!("reading the size (key {KEY:#x}): {reason}"))
}

/// The size typed, or why it is not a size: what `scanf("%d")` never tells you.
fn parse_size(line: &str) -> Result<usize, String> {
    let text = line.trim();
    if text.is_empty() {
        return Err("no size given".to_string());
    }
    // parse::<usize>() accepts only digits (no spaces, signs aside, fractions or trailing text)
    // and reports a number too large for usize as PosOverflow.
    match text.parse::<usize>() {
        Ok(0) => Err("the size must be at least 1 byte".to_string()),
        Ok(size) => Ok(size),
        Err(error) if *error.kind() == IntErrorKind::PosOverflow => {
            Err(format!("\"{text}\" is too large"))
        }
        Err(_) if is_negative_number(text) => Err("the size must be positive".to_string()),
        Err(_) => Err(format!("\"{text}\" is not a whole number of bytes")),
    }
}

/// `-` followed by digits, like `-5`: a number, but not a size.
fn is_negative_number(text: &str) -> bool {
    text.strip_prefix('-')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Attaches, writes the message (cut to fit), reads it back and prints it, detaches.
fn write_message(id: ShmId) -> Result<(), String> {
    let attachment = sysv::shmat(id, ShmatFlag::empty()).map_err(|errno| failed("shmat", errno))?;

    let message = format!("We have accessed shared memory ID: {id}");
    // Keep the last byte for the NUL: in a small segment the message is cut short instead of
    // written past the end. (The segment has at least 1 byte: parse_size rejects 0.)
    let fits = message.len().min(attachment.len() - 1);
    attachment.write(0, &message.as_bytes()[..fits]);
    attachment.write(fits, &[0]);

    // Read back what the segment holds, as printf("%s") would: up to the NUL.
    let read_back = attachment.read_c_string(0);
    println!("{}", String::from_utf8_lossy(&read_back));

    sysv::shmdt(attachment).map_err(|errno| failed("shmdt", errno))
}

/// The text of an error line: `<operation> (key 0x7d4): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    format!("{operation} (key {KEY:#x}): {} ({errno:?})", errno.desc())
}
