//! Exercise 3, `parent-child`: a child process writes an int into a segment, its parent reads it.
//!
//! The whole task is in exercises/03-parent-child/README.md. Run it with
//! `cargo run -p parent-child`; grade it with `cargo grade parent-child`.

// Until you have written the TODO steps, some of what is given below is unused and the compiler
// would warn about it. Delete this line when your program is complete.
#![allow(unused_imports, unused_variables, dead_code)]

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
    // TODO 1: create the segment BEFORE fork, so that the child inherits its id:
    //         sysv::shmget(KEY, size_of::<i32>(), ShmgetFlag::IPC_CREAT,
    //         Mode::from_bits_truncate(0o644)), with `.map_err(|errno| failed("shmget", errno))?`.
    // TODO 2: call fork_and_share(id), and keep its result (do not use `?` yet).
    // TODO 3: remove the segment WHATEVER fork_and_share returned:
    //         sysv::shmctl_rmid(id), mapped with failed("shmctl(IPC_RMID)", errno).
    //         Return the first error: `outcome.and(removed)`.
    todo!("create the segment with sysv::shmget (TODO 1-3 in run)")
}

/// Forks; the child runs `child`, the parent runs `parent`.
fn fork_and_share(id: ShmId) -> Result<(), String> {
    // TODO 4: flush stdout (io::stdout().flush()): the child gets a copy of stdout's buffer, and
    //         a line still in it would be printed twice.
    // TODO 5: `match unsafe { fork() } { ... }` with a `// SAFETY:` comment: fork is unsafe
    //         because in a multi-threaded program the child gets only the calling thread, and
    //         locks held by the others stay locked forever. This program has one thread.
    //         - Err(errno)                    -> Err(format!("fork: {} ({errno:?})", errno.desc()))
    //         - Ok(ForkResult::Child)         -> run child(id); on Err print `error: ...`; then
    //           std::process::exit(0 or 1). The child must never return from here, or it would
    //           go on to remove the segment as if it were the parent.
    //         - Ok(ForkResult::Parent { child }) -> parent(id, child)
    todo!("fork (TODO 4-5)")
}

/// The child: attach, write VALUE at offset 0, print `child: 37892`, detach.
fn child(id: ShmId) -> Result<(), String> {
    // TODO 6: sysv::shmat(id, ShmatFlag::empty()); attachment.write(0, &VALUE.to_ne_bytes())
    //         (the int's bytes in this machine's order, what `*p = 37892` stores in C);
    //         println!("child: {VALUE}"); sysv::shmdt(attachment).
    todo!("the child's part (TODO 6)")
}

/// The parent: wait for the child, then attach, read the int, print `parent: <value>`, detach.
fn parent(id: ShmId, child: Pid) -> Result<(), String> {
    // TODO 7: waitpid(child, None). Only Ok(WaitStatus::Exited(_, 0)) is success; any other
    //         status is an error `waitpid: child <pid> exited with status <n>` (or "was killed
    //         by <signal>"), and Err(errno) is `waitpid: <reason> (<ERRNO>)`.
    // TODO 8: sysv::shmat; read 4 bytes at offset 0 (attachment.read(0, &mut bytes)), turn
    //         them into an i32 with i32::from_ne_bytes; print "parent: {value}"; sysv::shmdt.
    todo!("the parent's part (TODO 7-8)")
}

/// The text of an error line: `<operation> (key 0x6019): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    format!("{operation} (key {KEY:#x}): {} ({errno:?})", errno.desc())
}
