//! Exercise 8, `ring`: pass N messages from a parent to its child through a ring buffer in one
//! segment, with atomics only: no lock, no sleep, no system call per message.
//!
//! The whole task, with the segment's layout, is in exercises/08-ring/README.md. Run it with
//! `cargo run --release -p ring -- 100000 64`; grade it with `cargo grade ring`.

// Until you have written the TODO steps, some of what is given below is unused and the compiler
// would warn about it. Delete this line when your program is complete.
#![allow(unused_imports, unused_variables, dead_code)]

use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};
use sysv::{Attachment, Errno, IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};

/// Slots in the ring (the README's layout).
const CAPACITY: u32 = 256;
/// Offsets of the two counters and of the first slot.
const WRITTEN: usize = 0;
const READ: usize = 64;
const SLOTS: usize = 128;

fn main() -> ExitCode {
    // TODO 1: parse `ring N SIZE`: N from 1 to u32::MAX, SIZE a multiple of 8 from 8 to 65536.
    //         A bad argument is a usage error: say which and why, exit status 2.
    // TODO 2: make a private segment (IPC_PRIVATE) big enough for the header and CAPACITY
    //         slots, attach it, fork. Mark it for removal as soon as both processes have it
    //         attached (why is that the safest moment? see exercise 6 and the chapter).
    // TODO 3: the parent produces, then waits for the child; the child consumes and exits with
    //         its own status (look up why a forked child must not return from the function that
    //         forked it). Detach on every path; report every failed call with its cause.
    // TODO 4: the parent prints `sent N messages of SIZE bytes in T ms: R MB/s`.
    todo!("set up the ring and the two processes (TODO 1-4)")
}

/// The parent: sends messages 0..count, in order.
fn produce(ring: &Attachment, count: u32, size: usize) -> Result<(), String> {
    // TODO 5: before writing message `seq`, wait while the ring is full (CAPACITY messages
    //         unread). Then write it into its slot and publish it by advancing `written`.
    //         Which ordering makes the bytes visible before the counter? (The Rustonomicon,
    //         "Atomics"; sysv's crate docs, "The access rule".) Wait without sleeping: look up
    //         std::thread::yield_now, and why it matters when both processes share one CPU.
    todo!("produce (TODO 5)")
}

/// The child: receives messages 0..count, checks each, prints the count and the checksum.
fn consume(ring: &Attachment, count: u32, size: usize) -> Result<(), String> {
    // TODO 6: wait until message `seq` is published, copy it out, then free its slot. What goes
    //         wrong if you free it before copying? If you read it before checking `written`?
    // TODO 7: check the message (its sequence number and every word, see `word`); fold it into
    //         the checksum; print `received N messages of SIZE bytes in order, checksum C`.
    todo!("consume (TODO 6-7)")
}

/// Given: word `i` (from 1) of message `seq`; word 0 is `seq` itself (little-endian u64s).
fn word(seq: u32, i: usize) -> u64 {
    u64::from(seq)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i as u64)
}

/// Given: the checksum the grader recomputes. Feed it every message, in order.
#[derive(Default)]
struct Checksum(u64);

impl Checksum {
    fn add(&mut self, message: &[u8]) {
        for chunk in message.chunks_exact(8) {
            let value = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
}

impl std::fmt::Display for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}
