//! Exercise 2, `attach`: find the segment `create` made, write a sentence into it, read it back.
//!
//! | C (the course notes)                      | Rust (this program)                                |
//! |-------------------------------------------|----------------------------------------------------|
//! | `id = shmget(9990, 0, 0)`                 | `sysv::shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty())` |
//! | `p = shmat(id, NULL, 0)`                  | `sysv::shmat(id, ShmatFlag::empty())`              |
//! | `strcpy(p, "This is our ... segment.")`   | `attachment.write(0, SENTENCE)` (the NUL included) |
//! | `printf("%s", p)`                         | `attachment.read_c_string(0)`                      |
//! | `shmdt(p)`                                | `sysv::shmdt(attachment)`                          |
//!
//! The segment is not removed: it stays for the next program (and `remove`).

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

fn run() -> Result<(), String> {
    // Access, don't create: no IPC_CREAT, so a missing segment is an error (ENOENT) rather than
    // a new empty one. Size 0 means "whatever size it has". (The notes never check this call.)
    let id = sysv::shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty())
        .map_err(|errno| failed("shmget", errno))?;

    // In C, shmat fails with (void *) -1, which a check like `p < 0` misses; here it is an Err.
    let attachment = sysv::shmat(id, ShmatFlag::empty()).map_err(|errno| failed("shmat", errno))?;
    println!("Attached shared memory segment ID: {id}");

    // The segment is the size its creator chose: check that the sentence fits before writing
    // (writing past the end is what strcpy does in C; here `write` would stop the program).
    let size = attachment.len();
    if size < SENTENCE.len() {
        sysv::shmdt(attachment).map_err(|errno| failed("shmdt", errno))?;
        return Err(format!(
            "writing the sentence (key {KEY:#x}): the segment has {size} bytes and the sentence \
             needs {}; remove it (cargo run -p remove) and run create again",
            SENTENCE.len()
        ));
    }
    attachment.write(0, SENTENCE);

    // Read it back from the segment, up to the NUL, as printf("%s") would.
    let read_back = attachment.read_c_string(0);
    println!("Read back: {}", String::from_utf8_lossy(&read_back));

    // Detach: this process is done with the segment. The segment itself stays.
    sysv::shmdt(attachment).map_err(|errno| failed("shmdt", errno))
}

/// The text of an error line: `<operation> (key 0x2706): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    let reason = match errno {
        Errno::ENOENT => "no segment has this key (ENOENT); run create first".to_string(),
        _ => format!("{} ({errno:?})", errno.desc()),
    };
    format!("{operation} (key {KEY:#x}): {reason}")
}
