//! Exercise 4, `ping-pong`: two child processes talk through one segment, taking turns.
//!
//! The whole task is in exercises/04-ping-pong/README.md. Run it with
//! `cargo run -p ping-pong`; grade it with `cargo grade ping-pong`.
//! The `sysv` items you need are documented with examples: `cargo doc -p sysv --open`.
//!
//! The segment's layout:
//!
//! | bytes | what                                                                  |
//! |-------|-----------------------------------------------------------------------|
//! | 0..4  | the turn, an `AtomicU32`: 0 nothing yet, 1 question written, 2 answer written |
//! | 4..   | the message, a C string (text, then a NUL byte)                       |

// Until you have written the TODO steps, some imports and helpers given below are unused and
// the compiler would warn about them. Delete this line when your program is complete.
#![allow(unused_imports, dead_code)]

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};
use sysv::{Attachment, Errno, Key, Mode, ShmId, ShmatFlag, ShmgetFlag};

const KEY: Key = 1001;
const SIZE: usize = 512;

/// Where the turn and the message live in the segment.
const TURN: usize = 0;
const MESSAGE: usize = 4;

/// The values of the turn.
const NOTHING_YET: u32 = 0;
const QUESTION_WRITTEN: u32 = 1;
const ANSWER_WRITTEN: u32 = 2;

/// How long a child waits for its turn. Normally it comes within milliseconds; if it does not,
/// the other child has failed, and waiting longer would hang forever.
const PATIENCE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Creates the segment, runs the conversation, removes the segment.
fn run() -> Result<(), String> {
    // TODO 1: create the segment (KEY, SIZE, mode 0666), as in exercise 3.
    // TODO 2: hold the conversation, then remove the segment whatever its outcome, and return
    //         the first error (exercise 3's TODO 8 again).
    todo!("create the segment with sysv::shmget (TODO 1-2 in run)")
}

/// The parent: reset the turn, start both children, wait for both.
fn converse(id: ShmId) -> Result<(), String> {
    // TODO 3: set the turn to NOTHING_YET before any child exists (attach, store, detach).
    //         shmget may have *found* the segment of an interrupted run: what would child 2
    //         do if the old turn said QUESTION_WRITTEN? (`Attachment::atomic_u32`)
    // TODO 4: flush stdout, then start child_1 and child_2 with the given `spawn`. If the
    //         second cannot start, the first is already waiting for an answer: wait for it
    //         (it gives up after PATIENCE) before returning the error.
    // TODO 5: wait for BOTH children with the given `wait_for`, even when the first failed,
    //         and return the first error. No child may outlive the parent.
    todo!("the parent's part, with segment {id} (TODO 3-5)")
}

/// Child 1: ask the question, wait for the answer, read it.
fn child_1(id: ShmId) -> Result<(), String> {
    // TODO 6: attach and take the turn (the first 4 bytes, as an atomic). Write the question
    //         (`write_message`), print the "child 1 wrote" line, then pass the turn to child 2.
    //         Which must come first, the print or the pass, so that the lines stay in order?
    //         Which `Ordering` makes the message visible to whoever sees the new turn?
    // TODO 7: wait for the answer (`wait_for_turn`), print the "child 1 read" line, detach.
    todo!("child 1, in segment {id} (TODO 6-7)")
}

/// Child 2: wait for the question, read it, write the answer.
fn child_2(id: ShmId) -> Result<(), String> {
    // TODO 8: attach, wait for the question's turn, print the "child 2 read" line.
    // TODO 9: write the answer, print the "child 2 wrote" line, pass the turn back, detach
    //         (the same rules as TODO 6).
    todo!("child 2, in segment {id} (TODO 8-9)")
}

/// Waits until the turn is `wanted`, at most PATIENCE.
fn wait_for_turn(turn: &AtomicU32, wanted: u32) -> Result<(), String> {
    // TODO 10: check the turn until it is `wanted`, without sleep. Three questions:
    //          - which `Ordering` on the load pairs with the other child's store, so that
    //            seeing the turn means seeing the message written before it?
    //          - on a machine with one CPU, how does the other child get to run while this
    //            one checks? (`std::thread` has a call that gives the CPU away)
    //          - if the other child died, the turn never comes: give up once PATIENCE has
    //            passed (`Instant`) with the README's "waiting for turn ..." error.
    todo!("wait for turn {wanted}, now {turn:?} (TODO 10)")
}

// ---- Given: the helpers below are not this exercise's lesson. ----

/// Writes `text` as a C string after the turn: its bytes, then a NUL.
fn write_message(attachment: &Attachment, text: &str) {
    attachment.write(MESSAGE, text.as_bytes());
    attachment.write(MESSAGE + text.len(), &[0]);
}

/// Reads the C string after the turn.
fn read_message(attachment: &Attachment) -> String {
    String::from_utf8_lossy(&attachment.read_c_string(MESSAGE)).into_owned()
}

/// Forks a child process that runs `work(id)` and exits; returns the child's pid to the parent.
fn spawn(work: fn(ShmId) -> Result<(), String>, id: ShmId) -> Result<Pid, String> {
    // SAFETY: fork is unsafe because in a multi-threaded program the child gets only the thread
    // that called fork; a lock another thread held would stay locked forever in the child.
    // This program has a single thread, so the child may do anything.
    match unsafe { fork() } {
        Err(errno) => Err(format!("fork: {} ({errno:?})", errno.desc())),
        Ok(ForkResult::Parent { child }) => Ok(child),
        Ok(ForkResult::Child) => {
            let status = match work(id) {
                Ok(()) => 0,
                Err(message) => {
                    eprintln!("error: {message}");
                    1
                }
            };
            // The child ends here: returning would take it back into the parent's code.
            std::process::exit(status)
        }
    }
}

/// `waitpid(child)`: Ok only if the child exited with status 0.
fn wait_for(child: Pid) -> Result<(), String> {
    match waitpid(child, None) {
        Ok(WaitStatus::Exited(_, 0)) => Ok(()),
        Ok(WaitStatus::Exited(_, code)) => {
            Err(format!("waitpid: child {child} exited with status {code}"))
        }
        Ok(WaitStatus::Signaled(_, signal, _)) => {
            Err(format!("waitpid: child {child} was killed by {signal}"))
        }
        Ok(other) => Err(format!(
            "waitpid: child {child}: unexpected status {other:?}"
        )),
        Err(errno) => Err(format!("waitpid: {} ({errno:?})", errno.desc())),
    }
}

fn attach(id: ShmId) -> Result<Attachment, String> {
    sysv::shmat(id, ShmatFlag::empty()).map_err(|errno| failed("shmat", errno))
}

fn detach(attachment: Attachment) -> Result<(), String> {
    sysv::shmdt(attachment).map_err(|errno| failed("shmdt", errno))
}

/// The text of an error line: `<operation> (key 0x3e9): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    format!("{operation} (key {KEY:#x}): {} ({errno:?})", errno.desc())
}
