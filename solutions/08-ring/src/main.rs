//! Exercise 8, `ring`: a single-producer single-consumer ring buffer in one segment.
//!
//! The parent (producer) sends N messages of SIZE bytes to its child (consumer) through 256
//! slots of one segment, reusing them in a circle. No system call per message: each side
//! publishes its progress in a counter the other reads, with Release and Acquire, once per
//! batch of up to 32 messages, and reads the other's counter only when the ring looks full
//! (producer) or empty (consumer), as real single-producer single-consumer rings do.
//!
//! | bytes            | what                                                              |
//! |------------------|-------------------------------------------------------------------|
//! | 0..4             | `written`: messages the producer has published (an `AtomicU32`)   |
//! | 64..68           | `read`: messages the consumer has finished with (an `AtomicU32`)  |
//! | 128..            | 256 slots of SIZE bytes; message `seq` goes to slot `seq % 256`   |
//!
//! (The two counters are 64 bytes apart, on different cache lines, so that the two processes
//! do not fight over one line each time the other side moves.)
//!
//! Message `seq` is SIZE/8 little-endian u64 words: `seq`, then [`word`]`(seq, i)`. The
//! consumer checks each one and prints a checksum of every byte it received, which the grader
//! recomputes. `--pipe` sends the same messages through a pipe instead, for comparison.
//!
//! Usage: `ring [--pipe] N SIZE` (N ≥ 1; SIZE a multiple of 8 from 8 to 65536).

use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe};
use sysv::{Attachment, Errno, IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};

/// Slots in the ring. N is meant to be far larger: the ring wraps N / CAPACITY times.
const CAPACITY: u32 = 256;
/// Most messages written (or read) before the counter is published: one store, and one cache
/// line handed to the other CPU, per batch instead of per message; small enough that the other
/// side never waits long for the first of them.
const BATCH: u32 = 32;
const WRITTEN: usize = 0;
const READ: usize = 64;
const SLOTS: usize = 128;
const MAX_SIZE: usize = 65536;
/// How long a side waits for the other before deciding it has died.
const PATIENCE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (through_pipe, args) = match args.split_first() {
        Some((first, rest)) if first == "--pipe" => (true, rest),
        _ => (false, args.as_slice()),
    };
    let (count, size) = match parse_args(args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("error: {message}\nusage: ring [--pipe] N SIZE");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let outcome = if through_pipe {
        through_a_pipe(count, size)
    } else {
        through_the_ring(count, size)
    };
    match outcome {
        Ok(()) => {
            let seconds = started.elapsed().as_secs_f64();
            let megabytes = count as f64 * size as f64 / 1e6;
            println!(
                "sent {count} messages of {size} bytes in {:.1} ms: {:.1} MB/s",
                seconds * 1e3,
                megabytes / seconds
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: &[String]) -> Result<(u32, usize), String> {
    let [count, size] = args else {
        return Err("expected two arguments".to_string());
    };
    let count: u32 = match count.parse() {
        Ok(count) if count > 0 => count,
        _ => {
            return Err(format!(
                "N {count:?} is not a whole number from 1 to {}",
                u32::MAX
            ));
        }
    };
    let size: usize = match size.parse() {
        Ok(size) if (8..=MAX_SIZE).contains(&size) && size % 8 == 0 => size,
        _ => {
            return Err(format!(
                "SIZE {size:?} is not a multiple of 8 from 8 to {MAX_SIZE}"
            ));
        }
    };
    Ok((count, size))
}

/// The segment: made private (only this process and its child know its id), attached, then
/// marked for removal at once after the fork, so it goes away when both have detached, even if
/// one of them crashes. Each process detaches it itself before it exits.
fn through_the_ring(count: u32, size: usize) -> Result<(), String> {
    let bytes = SLOTS + CAPACITY as usize * size;
    let mode = Mode::from_bits_truncate(0o600);
    let id = sysv::shmget(IPC_PRIVATE, bytes, ShmgetFlag::IPC_CREAT, mode)
        .map_err(|errno| failed("shmget", errno))?;
    let attachment = match sysv::shmat(id, ShmatFlag::empty()) {
        Ok(attachment) => attachment,
        Err(errno) => {
            let _ = sysv::shmctl_rmid(id);
            return Err(failed("shmat", errno));
        }
    };
    // A fresh segment is zeroed: both counters start at 0.
    let child = match fork_child() {
        Ok(Role::Child) => {
            let consumed = consume(&attachment, count, size);
            let detached = sysv::shmdt(attachment).map_err(|errno| failed("shmdt", errno));
            exit_child(consumed.and(detached))
        }
        Ok(Role::Parent(child)) => Ok(child),
        Err(message) => Err(message),
    };
    let removed = sysv::shmctl_rmid(id).map_err(|errno| failed("shmctl(IPC_RMID)", errno));
    let produced = match child {
        Ok(_) => produce(&attachment, count, size),
        Err(ref message) => Err(message.clone()),
    };
    let waited = child.and_then(wait_for);
    let detached = sysv::shmdt(attachment).map_err(|errno| failed("shmdt", errno));
    // The consumer's error explains the producer's (it stopped reading), so it comes first.
    waited.and(produced).and(removed).and(detached)
}

/// The parent: writes messages into free slots, publishing them a batch at a time.
fn produce(ring: &Attachment, count: u32, size: usize) -> Result<(), String> {
    let written = ring.atomic_u32(WRITTEN);
    let read = ring.atomic_u32(READ);
    let mut message = vec![0; size];
    // The consumer's counter as last seen. Reading the shared one costs a trip to the other
    // CPU's cache; it is read again only when the ring looks full.
    let mut known_read = 0;
    let mut seq = 0;
    while seq < count {
        // Full while CAPACITY messages are unread. Acquire pairs with the consumer's Release:
        // once we see a slot freed, the consumer has finished reading it.
        if seq.wrapping_sub(known_read) == CAPACITY {
            wait_until(
                || {
                    known_read = read.load(Ordering::Acquire);
                    seq.wrapping_sub(known_read) < CAPACITY
                },
                "the consumer",
            )?;
        }
        // Fill every free slot, at most BATCH, then publish them with one store.
        let free = CAPACITY - seq.wrapping_sub(known_read);
        let end = seq + free.min(BATCH).min(count - seq);
        for seq in seq..end {
            fill(&mut message, seq);
            ring.write(slot(seq, size), &message);
        }
        // Release: whoever sees `written` = end also sees the bytes of every message before it.
        written.store(end, Ordering::Release);
        seq = end;
    }
    Ok(())
}

/// The child: receives every message, checks it, prints the count and checksum.
fn consume(ring: &Attachment, count: u32, size: usize) -> Result<(), String> {
    let written = ring.atomic_u32(WRITTEN);
    let read = ring.atomic_u32(READ);
    let mut message = vec![0; size];
    let mut checksum = Checksum::default();
    // The producer's counter as last seen, read again only when the ring looks empty.
    let mut known_written = 0;
    let mut seq = 0;
    while seq < count {
        // Empty until the producer has published message `seq`; Acquire pairs with its Release.
        if known_written == seq {
            wait_until(
                || {
                    known_written = written.load(Ordering::Acquire);
                    known_written != seq
                },
                "the producer",
            )?;
        }
        // Take every published message, at most BATCH, then free their slots with one store.
        let end = seq + known_written.wrapping_sub(seq).min(BATCH);
        for seq in seq..end {
            ring.read(slot(seq, size), &mut message);
            check(&message, seq)?;
            checksum.add(&message);
        }
        // Release, and only once the bytes are copied out: the producer may now overwrite them.
        read.store(end, Ordering::Release);
        seq = end;
    }
    println!("received {count} messages of {size} bytes in order, checksum {checksum}");
    Ok(())
}

/// The same transfer through a pipe: the parent writes each message, the child reads it.
fn through_a_pipe(count: u32, size: usize) -> Result<(), String> {
    let (reader, writer) = pipe().map_err(|errno| failed("pipe", errno))?;
    // Each process closes the end it does not use: the child, the writing end, so that a
    // parent that dies makes its reads end instead of blocking forever.
    let child = match fork_child()? {
        Role::Child => {
            drop(writer);
            exit_child(receive(reader, count, size))
        }
        Role::Parent(child) => child,
    };
    drop(reader);
    let mut writer = std::fs::File::from(writer);
    let mut message = vec![0; size];
    let sent = (0..count).try_for_each(|seq| {
        fill(&mut message, seq);
        writer.write_all(&message)
    });
    drop(writer);
    let waited = wait_for(child);
    waited.and(sent.map_err(|error| format!("writing to the pipe: {error}")))
}

fn receive(reader: OwnedFd, count: u32, size: usize) -> Result<(), String> {
    let mut reader = std::fs::File::from(reader);
    let mut message = vec![0; size];
    let mut checksum = Checksum::default();
    for seq in 0..count {
        reader
            .read_exact(&mut message)
            .map_err(|error| format!("reading message {seq} from the pipe: {error}"))?;
        check(&message, seq)?;
        checksum.add(&message);
    }
    println!("received {count} messages of {size} bytes in order, checksum {checksum}");
    Ok(())
}

/// Where message `seq` lives.
fn slot(seq: u32, size: usize) -> usize {
    SLOTS + (seq % CAPACITY) as usize * size
}

/// Word `i` (from 1) of message `seq`: different in every message and every place.
fn word(seq: u32, i: usize) -> u64 {
    u64::from(seq)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i as u64)
}

fn fill(message: &mut [u8], seq: u32) {
    for (i, chunk) in message.chunks_exact_mut(8).enumerate() {
        let value = if i == 0 { u64::from(seq) } else { word(seq, i) };
        chunk.copy_from_slice(&value.to_le_bytes());
    }
}

/// Message `seq` arrived intact, or the error says what came instead.
fn check(message: &[u8], seq: u32) -> Result<(), String> {
    let intact = message.chunks_exact(8).enumerate().all(|(i, chunk)| {
        let expected = if i == 0 { u64::from(seq) } else { word(seq, i) };
        chunk == expected.to_le_bytes()
    });
    if intact {
        return Ok(());
    }
    let found = u64::from_le_bytes(message[..8].try_into().expect("8 bytes"));
    Err(format!(
        "message {seq} arrived damaged: it starts with sequence number {found}"
    ))
}

/// A checksum of every byte received, in order (the grader recomputes it from N and SIZE).
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

/// Spins until `ready()`, never sleeping. The other side usually moves within a few hundred
/// nanoseconds, so it first spins on the CPU (`spin_loop`: cheaper than a system call); after
/// SPINS tries it gives the CPU away each time (`yield_now`), so that on one CPU the other side
/// gets to run. Gives up after PATIENCE: `other` has died.
fn wait_until(mut ready: impl FnMut() -> bool, other: &str) -> Result<(), String> {
    const SPINS: u32 = 16;
    let mut tries = 0;
    let mut give_up_at = None;
    while !ready() {
        tries += 1;
        if tries < SPINS {
            std::hint::spin_loop();
            continue;
        }
        let deadline = *give_up_at.get_or_insert_with(|| Instant::now() + PATIENCE);
        if Instant::now() > deadline {
            return Err(format!(
                "{other} made no progress for {} s",
                PATIENCE.as_secs()
            ));
        }
        std::thread::yield_now();
    }
    Ok(())
}

/// Which side of the fork this process is on.
enum Role {
    Parent(Pid),
    Child,
}

fn fork_child() -> Result<Role, String> {
    // Anything buffered would be written twice, once by each process.
    io::stdout()
        .flush()
        .map_err(|error| format!("flushing stdout: {error}"))?;
    // SAFETY: fork is unsafe because the child of a multi-threaded program gets only the calling
    // thread, and a lock another thread held stays locked. This program has one thread.
    match unsafe { fork() } {
        Err(errno) => Err(failed("fork", errno)),
        Ok(ForkResult::Parent { child }) => Ok(Role::Parent(child)),
        Ok(ForkResult::Child) => Ok(Role::Child),
    }
}

/// Ends the child with its outcome as the exit status. It must not return: the caller's code
/// after the fork is the parent's. (stdout is flushed at each newline.)
fn exit_child(outcome: Result<(), String>) -> ! {
    let status = match outcome {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("error: consumer: {message}");
            1
        }
    };
    std::process::exit(status)
}

/// `waitpid(child)`: Ok only if it exited with status 0.
fn wait_for(child: Pid) -> Result<(), String> {
    match waitpid(child, None) {
        Ok(WaitStatus::Exited(_, 0)) => Ok(()),
        Ok(WaitStatus::Exited(_, code)) => Err(format!("the consumer exited with status {code}")),
        Ok(WaitStatus::Signaled(_, signal, _)) => {
            Err(format!("the consumer was killed by {signal}"))
        }
        Ok(other) => Err(format!("waitpid: unexpected status {other:?}")),
        Err(errno) => Err(failed("waitpid", errno)),
    }
}

fn failed(operation: &str, errno: Errno) -> String {
    format!("{operation}: {} ({errno:?})", errno.desc())
}
