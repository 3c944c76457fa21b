//! Exercise 3, `parent-child`: a child process writes an int into a segment, its parent reads it.
//!
//! The whole task is in exercises/03-parent-child/README.md. Run it with
//! `cargo run -p parent-child`; grade it with `cargo grade parent-child`.
//! The `sysv` items you need are documented with examples: `cargo doc -p sysv --open`.

// Until you have written the TODO steps, some imports and helpers given below are unused and
// the compiler would warn about them. Delete this line when your program is complete.
#![allow(unused_imports, dead_code)]

use std::io::{self, Write};
use std::process::ExitCode;

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};
use sysv::{Errno, Key, Mode, ShmId, ShmatFlag, ShmgetFlag};

const KEY: Key = 24601;
/// What the child writes and the parent reads.
const VALUE: i32 = 37892;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Creates the segment, lets the two processes share it, removes it.
fn run() -> Result<(), String> {
    // TODO 1: create the segment (key, one i32's size, mode 0644) BEFORE forking: the
    //         child then knows the id without a call of its own (fork copies variables).
    // TODO 2: run fork_and_share, but keep its result instead of returning early with `?`.
    // TODO 8 (it runs last): remove the segment (`sysv::shmctl_rmid`) whatever
    //         fork_and_share returned, and return the first error of the two (`Result::and`).
    todo!("create the segment with sysv::shmget (TODO 1, 2 and 8 in run)")
}

/// Forks; the child runs `child`, the parent runs `parent`.
fn fork_and_share(id: ShmId) -> Result<(), String> {
    // TODO 3: flush stdout before forking. The child gets a copy of everything in this
    //         process, stdout's buffer included: what would a line still in it do?
    // TODO 4: fork (`nix::unistd::fork`, an `unsafe fn`: write a `// SAFETY:` comment that
    //         says why it is sound here; the README explains the danger). Handle its three
    //         outcomes: an error (`error: fork: ...`), the child, the parent. The child must
    //         end its process with its own exit status and never return from here: what
    //         would it do next in `run` if it did?
    todo!("fork, sharing segment {id} (TODO 3-4)")
}

/// The child: attach, write VALUE at offset 0, print `child: 37892`, detach.
fn child(id: ShmId) -> Result<(), String> {
    // TODO 5: attach, store VALUE's bytes at offset 0 in this machine's byte order (look up
    //         `i32::to_ne_bytes`: what `*p = 37892` stores in C), print the child's line,
    //         detach.
    todo!("the child's part, in segment {id} (TODO 5)")
}

/// The parent: wait for the child, then attach, read the int, print `parent: <value>`, detach.
fn parent(id: ShmId, child: Pid) -> Result<(), String> {
    // TODO 6: wait for the child (`waitpid`). Only a normal exit with status 0 is success
    //         (`WaitStatus`); every other outcome is one of the README's `waitpid:` errors.
    //         Waiting is what puts the parent's read after the child's write.
    // TODO 7: attach, read the 4 bytes at offset 0 into an array (`Attachment::read`), turn
    //         them back into an i32 (the inverse of TODO 5), print the parent's line, detach.
    todo!("the parent's part: wait for {child}, read segment {id} (TODO 6-7)")
}

/// The text of an error line: `<operation> (key 0x6019): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    format!("{operation} (key {KEY:#x}): {} ({errno:?})", errno.desc())
}
