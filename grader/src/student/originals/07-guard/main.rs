//! Exercise 7, `guard`: make leaking a segment impossible, whatever path the program takes.
//!
//! The whole task is in exercises/07-guard/README.md. Run it with
//! `cargo run -p guard -- "some text"`; grade it with `cargo grade guard`.

// Until you have written the TODO steps, some of what is given below is unused and the compiler
// would warn about it. Delete this line when your program is complete.
#![allow(unused_imports, unused_variables, dead_code)]

use std::process::ExitCode;

use sysv::{Errno, Key, Mode, ShmId, ShmatFlag, ShmgetFlag};

const KEY: Key = 7007;
const SIZE: usize = 64;

// TODO 1: a type `Segment` that owns a segment id and removes the segment when it is dropped.
//         Look up: the `Drop` trait (The Rust Book, ch. 15.3). `drop` cannot return an error:
//         decide what to do with one (it must not be silent, and it must not panic: a panic
//         during a panic aborts the program, and then nothing else is cleaned up).
//
// TODO 2: a type `Attachment` that owns a `sysv::Attachment` and detaches it when dropped.
//         `sysv::shmdt` takes the attachment by value, but `drop` only gets `&mut self`: find a
//         way to move it out (look up `Option::take`).
//
// TODO 3: make the compiler refuse a program that removes the segment while an attachment of
//         it is still alive: an attachment should *borrow* its segment (look up lifetimes in
//         structs, The Rust Book ch. 10.3). The grader checks in the system-call trace that
//         shmdt comes before shmctl(IPC_RMID) on every path.
//
// TODO 4: let the program use the attachment's reads and writes through your type (look up
//         `std::ops::Deref`), so that nothing outside the two types calls shmdt or shmctl_rmid.

fn main() -> ExitCode {
    // TODO 5: parse the arguments: `guard [--panic] TEXT`. Anything else is a usage error
    //         (a usage line on stderr, exit status 2).
    // TODO 6: run the program; an error is printed as `error: <message>` with exit status 1.
    todo!("parse the arguments and run (TODO 5-6)")
}

/// What the program does once the arguments are known.
fn run(text: &str, panic_half_way: bool) -> Result<(), String> {
    // TODO 7: make the Segment (key KEY, SIZE bytes, IPC_CREAT, mode 0600), attach it.
    // TODO 8: if the text and its NUL do not fit, return an error that says so (how many bytes,
    //         how many fit, the key). No cleanup code here: your drops do it.
    // TODO 9: write the text and a NUL at offset 0. With --panic, panic now: the drops must
    //         still run (how does a panic leave a function? look up "unwinding").
    // TODO 10: read the text back and print `Segment <id> holds: <text>`.
    todo!("use the segment (TODO 7-10)")
}

/// Given: the text of an error line: `<operation> (key 0x1b5f): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    format!("{operation} (key {KEY:#x}): {} ({errno:?})", errno.desc())
}
