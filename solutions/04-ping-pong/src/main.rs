//! Exercise 4, `ping-pong`: two child processes talk through one segment, taking turns.
//!
//! The notes order the two children with `sleep(2)` and `sleep(1)`: that is a race (a busy
//! machine can run them in any order) and two seconds of waiting. Here a turn number in the
//! segment says who may go next, and each child waits for its turn:
//!
//! | bytes | what                                                                  |
//! |-------|-----------------------------------------------------------------------|
//! | 0..4  | the turn, an `AtomicU32`: 0 nothing yet, 1 question written, 2 answer written |
//! | 4..   | the message, a C string (text, then a NUL byte)                       |
//!
//! | C (the course notes)                    | Rust (this program)                               |
//! |-----------------------------------------|---------------------------------------------------|
//! | `shmget(1001, 512, IPC_CREAT \| 0666)`   | `sysv::shmget(KEY, SIZE, ShmgetFlag::IPC_CREAT, mode)` |
//! | `fork()` (twice)                        | `unsafe { nix::unistd::fork() }` in `spawn`        |
//! | `shmat`, `sprintf(p, ...)`, `shmdt`     | `sysv::shmat`, `write_message`, `sysv::shmdt`      |
//! | `sleep(1)` / `sleep(2)`                 | `wait_for_turn` on the atomic turn                 |
//! | `wait(NULL)` (twice)                    | `waitpid(child, None)` for each child              |
//! | (missing)                               | `sysv::shmctl_rmid(id)`                            |

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

fn run() -> Result<(), String> {
    let mode = Mode::from_bits_truncate(0o666);
    let id = sysv::shmget(KEY, SIZE, ShmgetFlag::IPC_CREAT, mode)
        .map_err(|errno| failed("shmget", errno))?;

    // From here on the segment exists: remove it whatever happens, and report the first error.
    let outcome = converse(id);
    let removed = sysv::shmctl_rmid(id).map_err(|errno| failed("shmctl(IPC_RMID)", errno));
    outcome.and(removed)
}

/// The parent: reset the turn, start both children, wait for both.
fn converse(id: ShmId) -> Result<(), String> {
    // Without IPC_EXCL, shmget may have found a segment left by an earlier, interrupted run,
    // with its old turn: if that were 1, child 2 would read an old question before child 1
    // wrote its own. Start from "nothing yet". (Relaxed is enough here: the children do not
    // exist yet, and fork gives them memory as it is after this store.)
    let attachment = attach(id)?;
    attachment
        .atomic_u32(TURN)
        .store(NOTHING_YET, Ordering::Relaxed);
    detach(attachment)?;

    // A line still in stdout's buffer would be copied into each child and printed three times.
    io::stdout()
        .flush()
        .map_err(|error| format!("flushing stdout: {error}"))?;

    let first = spawn(child_1, id)?;
    let second = match spawn(child_2, id) {
        Ok(pid) => pid,
        Err(message) => {
            // Child 1 is waiting for an answer that will never come. It gives up after
            // PATIENCE: wait for it, so that it does not outlive us, then report the fork
            // error (child 1's failure is only a consequence of it, so it is not reported).
            let _ = wait_for(first);
            return Err(message);
        }
    };
    // Wait for both, even if the first failed: no child may be left behind.
    let first_exited = wait_for(first);
    let second_exited = wait_for(second);
    first_exited.and(second_exited)
}

/// Child 1: ask the question, wait for the answer, read it.
fn child_1(id: ShmId) -> Result<(), String> {
    let attachment = attach(id)?;
    let turn = attachment.atomic_u32(TURN);

    let question = format!("Is this the shared memory ID: {id}?");
    write_message(&attachment, &question);
    // Print BEFORE passing the turn: once the turn is 1, child 2 may print at any moment, and
    // its line must come after this one.
    println!("child 1 wrote: {question}");
    // Release: whoever sees turn == 1 (with Acquire) also sees the message written before it.
    turn.store(QUESTION_WRITTEN, Ordering::Release);

    wait_for_turn(turn, ANSWER_WRITTEN)?;
    println!("child 1 read: {}", read_message(&attachment));
    detach(attachment)
}

/// Child 2: wait for the question, read it, write the answer.
fn child_2(id: ShmId) -> Result<(), String> {
    let attachment = attach(id)?;
    let turn = attachment.atomic_u32(TURN);

    wait_for_turn(turn, QUESTION_WRITTEN)?;
    println!("child 2 read: {}", read_message(&attachment));

    let answer = format!("Yes, this is shared memory ID: {id}.");
    write_message(&attachment, &answer);
    // Print before passing the turn, as child 1 does.
    println!("child 2 wrote: {answer}");
    turn.store(ANSWER_WRITTEN, Ordering::Release);
    detach(attachment)
}

/// Waits until the turn is `wanted`: checks it, and if it is not yet, lets another process run
/// (`yield_now`), so that the other child gets the CPU even on a machine with only one.
fn wait_for_turn(turn: &AtomicU32, wanted: u32) -> Result<(), String> {
    let give_up_at = Instant::now() + PATIENCE;
    // Acquire pairs with the other child's Release: seeing its turn means seeing its message.
    while turn.load(Ordering::Acquire) != wanted {
        if Instant::now() > give_up_at {
            return Err(format!(
                "waiting for turn {wanted} (key {KEY:#x}): the other child did not take its \
                 turn within {} seconds",
                PATIENCE.as_secs()
            ));
        }
        std::thread::yield_now();
    }
    Ok(())
}

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
    // that called fork; a lock another thread held (the allocator's, stdout's) would stay locked
    // forever in the child. This program has a single thread, so the child may do anything.
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
            // The child must end here, with its own status: returning would take it back into
            // the parent's code (forking, waiting, removing the segment). stdout is flushed at
            // each newline, so no output is lost by exiting.
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
