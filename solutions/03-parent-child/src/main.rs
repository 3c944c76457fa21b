//! Exercise 3, `parent-child`: a child process writes an int into a segment, its parent reads it.
//!
//! | C (the course notes)                          | Rust (this program)                          |
//! |-----------------------------------------------|----------------------------------------------|
//! | `id = shmget(24601, sizeof(int), IPC_CREAT \| 0644)` | `sysv::shmget(KEY, size_of::<i32>(), ...)` |
//! | `pid = fork()`                                | `unsafe { nix::unistd::fork() }`             |
//! | child: `p = shmat(...); *p = 37892; shmdt(p)` | `shmat`, `write(0, &VALUE.to_ne_bytes())`, `shmdt` |
//! | parent: `wait(NULL)`                          | `nix::sys::wait::waitpid(child, None)`       |
//! | parent: `shmat`, `printf("%d", *p)`, `shmdt`  | `shmat`, `read(0, &mut bytes)`, `shmdt`      |
//! | `shmctl(id, IPC_RMID, NULL)`                  | `sysv::shmctl_rmid(id)`                      |
//!
//! Unlike the notes, every attachment is detached and the segment is removed, on every path.

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

fn run() -> Result<(), String> {
    // Create the segment BEFORE fork: the child gets a copy of `id`, so both processes know
    // which segment to attach.
    let size = size_of::<i32>();
    let id = sysv::shmget(
        KEY,
        size,
        ShmgetFlag::IPC_CREAT,
        Mode::from_bits_truncate(0o644),
    )
    .map_err(|errno| failed("shmget", errno))?;

    // From here on the segment exists: remove it whatever happens (the notes never do), and
    // report the first error.
    let outcome = fork_and_share(id);
    let removed = sysv::shmctl_rmid(id).map_err(|errno| failed("shmctl(IPC_RMID)", errno));
    outcome.and(removed)
}

fn fork_and_share(id: ShmId) -> Result<(), String> {
    // The child gets a copy of everything, unwritten output included: a line still in stdout's
    // buffer would be printed twice. Nothing is printed yet, but flush as C programs must.
    io::stdout()
        .flush()
        .map_err(|error| format!("flushing stdout: {error}"))?;

    // SAFETY: fork is unsafe because in a multi-threaded program the child gets only the thread
    // that called fork; a lock another thread held (the allocator's, stdout's) would stay locked
    // forever in the child. This program has a single thread, so the child may do anything.
    match unsafe { fork() } {
        Err(errno) => Err(format!("fork: {} ({errno:?})", errno.desc())),
        Ok(ForkResult::Child) => {
            let status = match child(id) {
                Ok(()) => 0,
                Err(message) => {
                    eprintln!("error: {message}");
                    1
                }
            };
            // The child must end here, with its own status: returning would take it back into
            // `run` and make it remove the segment as if it were the parent. (stdout is flushed
            // at each newline, so no output is lost by exiting.)
            std::process::exit(status)
        }
        Ok(ForkResult::Parent { child }) => parent(id, child),
    }
}

/// The child: attach, write the int, detach.
fn child(id: ShmId) -> Result<(), String> {
    let attachment = sysv::shmat(id, ShmatFlag::empty()).map_err(|errno| failed("shmat", errno))?;
    // The int's bytes in this machine's byte order: what `*p = 37892` stores in C.
    attachment.write(0, &VALUE.to_ne_bytes());
    println!("child: {VALUE}");
    sysv::shmdt(attachment).map_err(|errno| failed("shmdt", errno))
}

/// The parent: wait for the child, then attach, read the int, detach.
fn parent(id: ShmId, child: Pid) -> Result<(), String> {
    // Waiting is what orders the two processes: when waitpid returns, the child has written.
    match waitpid(child, None) {
        Ok(WaitStatus::Exited(_, 0)) => {}
        Ok(WaitStatus::Exited(_, code)) => {
            return Err(format!("waitpid: child {child} exited with status {code}"));
        }
        Ok(WaitStatus::Signaled(_, signal, _)) => {
            return Err(format!("waitpid: child {child} was killed by {signal}"));
        }
        Ok(other) => {
            return Err(format!(
                "waitpid: child {child}: unexpected status {other:?}"
            ));
        }
        Err(errno) => return Err(format!("waitpid: {} ({errno:?})", errno.desc())),
    }

    let attachment = sysv::shmat(id, ShmatFlag::empty()).map_err(|errno| failed("shmat", errno))?;
    let mut bytes = [0u8; size_of::<i32>()];
    attachment.read(0, &mut bytes);
    println!("parent: {}", i32::from_ne_bytes(bytes));
    sysv::shmdt(attachment).map_err(|errno| failed("shmdt", errno))
}

/// The text of an error line: `<operation> (key 0x6019): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    format!("{operation} (key {KEY:#x}): {} ({errno:?})", errno.desc())
}
