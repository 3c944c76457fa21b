//! Attaching a segment and touching its memory: [`shmat`], [`shmdt`] and [`Attachment`].
//!
//! The rule every access follows is in the crate docs ("The access rule").

use std::ffi::c_void;
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::errno::Errno;

use crate::{ShmId, shmctl_stat};

/// The size of the words every access goes through (see the crate docs' access rule).
const WORD: usize = size_of::<u32>();

bitflags::bitflags! {
    /// Flags of [`shmat`].
    ///
    /// ```
    /// use sysv::ShmatFlag;
    ///
    /// let read_write = ShmatFlag::empty(); // shmat(id, NULL, 0)
    /// let read_only = ShmatFlag::SHM_RDONLY; // shmat(id, NULL, SHM_RDONLY)
    /// assert!(!read_write.contains(ShmatFlag::SHM_RDONLY) && read_only.contains(ShmatFlag::SHM_RDONLY));
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ShmatFlag: libc::c_int {
        /// Attach read-only: every write through the attachment is refused
        /// ([`AccessError::ReadOnly`]).
        ///
        /// ```
        /// # sysv::testing::private_ipc_namespace();
        /// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
        ///
        /// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
        /// let reader = sysv::shmat(id, ShmatFlag::SHM_RDONLY)?;
        /// assert_eq!(reader.try_write(0, b"no"), Err(sysv::AccessError::ReadOnly));
        /// sysv::shmdt(reader)?;
        /// sysv::shmctl_rmid(id)?;
        /// # Ok::<(), sysv::Errno>(())
        /// ```
        const SHM_RDONLY = libc::SHM_RDONLY;
    }
}

/// Attaches the segment into this process: `shmat(id, NULL, flags)`; the kernel picks the address.
///
/// Pitfall from C: failure is `(void *) -1`, not a negative pointer; code that checks
/// `shmat(...) < 0` misses it. Here failure is an `Err`. Errors: `EINVAL` no segment has this
/// id; `EACCES` the mode does not allow it; `EIDRM` the segment was removed.
///
/// The attachment learns the segment's size (with `IPC_STAT`) *after* attaching: from then on
/// the segment cannot go away (at most it is marked for destruction), so the size is the
/// attached segment's, even if the id were removed and reused just before. A forked child
/// inherits the attachments of its parent.
///
/// Why this is a safe function while `mmap` is `unsafe` in `nix` and `rustix`: the address is
/// always the kernel's choice (no `shmaddr`, no `SHM_REMAP`), so attaching cannot replace memory
/// the program already uses, and the [`Attachment`] exposes the memory only through
/// bounds-checked atomic accesses, never as a Rust reference to plain bytes.
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
///
/// let id = sysv::shmget(IPC_PRIVATE, 100, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
/// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
/// assert_eq!(attachment.len(), 100);
/// assert_eq!(sysv::shmctl_stat(id)?.nattch, 1);
/// sysv::shmdt(attachment)?;
/// sysv::shmctl_rmid(id)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
pub fn shmat(id: ShmId, flags: ShmatFlag) -> nix::Result<Attachment> {
    // Only the flags this crate knows: a retained unknown bit (SHM_REMAP, SHM_EXEC) cannot
    // change what kind of mapping this is.
    let flags = flags & ShmatFlag::all();
    // SAFETY: a null address asks the kernel to choose one, page-aligned and unused, so the
    // new mapping cannot overlap memory this program uses.
    let addr = unsafe { libc::shmat(id.as_raw(), std::ptr::null(), flags.bits()) };
    if addr as isize == -1 {
        return Err(Errno::last());
    }
    let addr = NonNull::new(addr.cast::<u8>()).ok_or(Errno::EFAULT)?;
    let attachment = Attachment {
        addr,
        len: 0,
        read_only: flags.contains(ShmatFlag::SHM_RDONLY),
    };
    match shmctl_stat(id) {
        Ok(status) => Ok(Attachment {
            len: status.size,
            ..attachment
        }),
        Err(errno) => {
            // Leave nothing attached behind an error; the stat error is the one to report.
            let _ = shmdt(attachment);
            Err(errno)
        }
    }
}

/// Detaches an attachment: `shmdt(addr)`. It consumes the attachment, so no use after detaching
/// compiles.
///
/// Detaching does not remove the segment: it lives on, with its contents, until
/// [`shmctl_rmid`](crate::shmctl_rmid).
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
///
/// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
/// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
/// sysv::shmdt(attachment)?;
/// assert_eq!(sysv::shmctl_stat(id)?.nattch, 0); // detached, not removed
/// sysv::shmctl_rmid(id)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
///
/// Using the attachment after detaching does not compile (in C it is a `SIGSEGV`, or worse):
///
/// ```compile_fail,E0382
/// # use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
/// # let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
/// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
/// sysv::shmdt(attachment)?;
/// attachment.write(0, b"too late"); // error[E0382]: borrow of moved value
/// # Ok::<(), sysv::Errno>(())
/// ```
pub fn shmdt(attachment: Attachment) -> nix::Result<()> {
    // SAFETY: the address came from shmat and, the Attachment being consumed, is not used again.
    Errno::result(unsafe { libc::shmdt(attachment.addr.as_ptr().cast::<c_void>()) }).map(drop)
}

/// Detaches whatever is attached at `addr`: the raw `shmdt`, for the cases where you hold an
/// address and not an [`Attachment`].
///
/// Fails with `EINVAL` if no segment is attached at `addr`.
///
/// # Safety
/// Every reference into the segment becomes dangling, and so does every [`Attachment`] of that
/// address: nothing may use memory at `addr` after.
///
/// ```
/// let not_a_segment = 0u64;
/// // SAFETY: nothing is attached there, so the kernel refuses and nothing is unmapped.
/// let result = unsafe { sysv::shmdt_raw(std::ptr::from_ref(&not_a_segment).cast()) };
/// assert_eq!(result, Err(sysv::Errno::EINVAL));
/// ```
pub unsafe fn shmdt_raw(addr: *const c_void) -> nix::Result<()> {
    // SAFETY: the caller promises nothing uses the mapping afterwards; a bad address is EINVAL.
    Errno::result(unsafe { libc::shmdt(addr) }).map(drop)
}

/// Why an access through an [`Attachment`] was refused. Nothing was read or written.
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{AccessError, IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
///
/// let id = sysv::shmget(IPC_PRIVATE, 16, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
/// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
/// match attachment.try_write(10, b"too long for the rest") {
///     Ok(()) => println!("written"),
///     Err(AccessError::OutOfBounds { offset, len, size }) => {
///         eprintln!("{len} bytes at {offset} do not fit in {size}: not written")
///     }
///     Err(other) => eprintln!("not written: {other}"),
/// }
/// sysv::shmdt(attachment)?;
/// sysv::shmctl_rmid(id)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessError {
    /// The bytes `offset..offset + len` are not all inside the `size`-byte segment.
    OutOfBounds {
        offset: usize,
        len: usize,
        size: usize,
    },
    /// A write (or [`Attachment::atomic_u32`], which allows writes) through a
    /// [`ShmatFlag::SHM_RDONLY`] attachment.
    ReadOnly,
    /// [`Attachment::atomic_u32`] at an offset that is not a multiple of 4.
    Misaligned { offset: usize },
}

impl fmt::Display for AccessError {
    /// ```
    /// let error = sysv::AccessError::OutOfBounds { offset: 60, len: 8, size: 64 };
    /// assert_eq!(error.to_string(), "access to bytes 60..60+8 of a 64-byte segment");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessError::OutOfBounds { offset, len, size } => {
                write!(
                    f,
                    "access to bytes {offset}..{offset}+{len} of a {size}-byte segment"
                )
            }
            AccessError::ReadOnly => {
                f.write_str("write through a read-only (SHM_RDONLY) attachment")
            }
            AccessError::Misaligned { offset } => {
                write!(
                    f,
                    "atomic_u32 at offset {offset}, which is not a multiple of 4"
                )
            }
        }
    }
}

impl std::error::Error for AccessError {}

/// A segment attached into this process, from [`shmat`]; give it back with [`shmdt`].
///
/// Reads and writes are copies with bounds checks, through aligned 4-byte atomics (the
/// crate docs' access rule): the layer never hands out `&[u8]` or `&mut [u8]` into the segment,
/// since Rust assumes nobody else changes memory behind such a reference. To coordinate
/// processes use [`Self::atomic_u32`].
///
/// Each access comes in two forms, as `RefCell`'s `borrow` and `try_borrow` do: `try_*` returns
/// an [`AccessError`]; the plain one panics with that error's message, for the accesses a
/// correct program never gets wrong (an offset it computed, a mode it chose).
///
/// Dropping an attachment does *not* detach it (see the crate docs for why): the memory stays
/// mapped until [`shmdt`] or the end of the process, which is safe, like [`std::mem::forget`].
///
/// `Attachment` is [`Send`] and [`Sync`]: the mapping belongs to the process, not to the thread
/// that attached it (any thread may use it or detach it), and every access through `&self` is
/// atomic, so threads sharing one attachment cannot race.
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
///
/// let id = sysv::shmget(IPC_PRIVATE, 64, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
/// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
/// std::thread::scope(|s| {
///     s.spawn(|| attachment.write(0, b"from a thread\0"));
/// });
/// assert_eq!(attachment.read_c_string(0), b"from a thread");
/// sysv::shmdt(attachment)?;
/// sysv::shmctl_rmid(id)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
#[derive(Debug)]
pub struct Attachment {
    addr: NonNull<u8>,
    len: usize,
    read_only: bool,
}

// SAFETY: the mapping is the process's, valid on every thread until shmdt, which consumes the
// Attachment; no thread-local state is involved.
unsafe impl Send for Attachment {}
// SAFETY: every access through &Attachment is an aligned 4-byte atomic (the crate docs'
// access rule), so concurrent use from several threads is never a data race.
unsafe impl Sync for Attachment {}

impl Attachment {
    /// The segment's size in bytes: how much may be read or written.
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 10, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
    /// assert_eq!(attachment.len(), 10); // the size asked for, not the page it lives in
    /// sysv::shmdt(attachment)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a segment of size 0 (the kernel does not create those, so never in practice).
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 1, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
    /// assert!(!attachment.is_empty());
    /// sysv::shmdt(attachment)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The address the kernel chose, as C's `shmat` returns it (page-aligned). Using it is
    /// `unsafe`, and sound only under the crate docs' access rule: aligned 4-byte atomics.
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
    /// println!("attached at {:p}", attachment.as_ptr());
    /// assert_eq!(attachment.as_ptr() as usize % 4096, 0);
    /// sysv::shmdt(attachment)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn as_ptr(&self) -> *mut u8 {
        self.addr.as_ptr()
    }

    /// True if attached with [`ShmatFlag::SHM_RDONLY`]: every write is refused.
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::SHM_RDONLY)?;
    /// assert!(attachment.is_read_only());
    /// sysv::shmdt(attachment)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Copies `bytes` into the segment at `offset` (the C `memcpy(p + offset, bytes, len)`).
    ///
    /// # Panics
    /// With the [`AccessError`] of [`Self::try_write`]: if `offset + bytes.len()` is past the end
    /// of the segment (writing past the end is what corrupts memory in C; here it stops the
    /// program), or the attachment is read-only.
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 64, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
    /// attachment.write(0, b"hello\0"); // strcpy(p, "hello")
    /// attachment.write(8, &37892i32.to_ne_bytes()); // *(int *)(p + 8) = 37892
    /// sysv::shmdt(attachment)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn write(&self, offset: usize, bytes: &[u8]) {
        self.try_write(offset, bytes)
            .unwrap_or_else(|error| panic!("{error}"));
    }

    /// [`Self::write`], with the refusal as an `Err` instead of a panic.
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{AccessError, IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 4, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
    /// assert_eq!(attachment.try_write(0, b"four"), Ok(()));
    /// assert_eq!(
    ///     attachment.try_write(0, b"five!"),
    ///     Err(AccessError::OutOfBounds { offset: 0, len: 5, size: 4 })
    /// );
    /// sysv::shmdt(attachment)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn try_write(&self, offset: usize, bytes: &[u8]) -> Result<(), AccessError> {
        if self.read_only {
            return Err(AccessError::ReadOnly);
        }
        self.check_bounds(offset, bytes.len())?;
        if offset.is_multiple_of(WORD) {
            // Fast path (the same Relaxed word stores, without the per-word bookkeeping): the
            // whole words, then at most one partial word, done by the general loop below.
            let whole = bytes.len() - bytes.len() % WORD;
            for (index, chunk) in bytes[..whole].chunks_exact(WORD).enumerate() {
                let value = u32::from_ne_bytes(chunk.try_into().expect("a whole word"));
                self.word(offset + index * WORD)
                    .store(value, Ordering::Relaxed);
            }
            return self.write_partial_words(offset + whole, &bytes[whole..]);
        }
        self.write_partial_words(offset, bytes)
    }

    /// The general case of [`Self::try_write`] (bounds already checked): word by word, a
    /// partial word replaced atomically.
    fn write_partial_words(&self, offset: usize, bytes: &[u8]) -> Result<(), AccessError> {
        for (word_start, skip, part) in words(offset, bytes.len()) {
            let part = &bytes[part];
            let word = self.word(word_start);
            if part.len() == WORD {
                let whole = u32::from_ne_bytes(part.try_into().expect("a whole word"));
                word.store(whole, Ordering::Relaxed);
            } else {
                // Replace only our bytes, atomically: the rest of the word may be another
                // process's, and it keeps whatever value it has at this instant.
                let replace = |old: u32| {
                    let mut value = old.to_ne_bytes();
                    value[skip..skip + part.len()].copy_from_slice(part);
                    Some(u32::from_ne_bytes(value))
                };
                let _always_ok = word.fetch_update(Ordering::Relaxed, Ordering::Relaxed, replace);
            }
        }
        Ok(())
    }

    /// Copies `buf.len()` bytes out of the segment, starting at `offset`.
    ///
    /// # Panics
    /// With the [`AccessError`] of [`Self::try_read`]: if the range is past the end of the
    /// segment.
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
    /// attachment.write(0, &37892i32.to_ne_bytes());
    /// let mut bytes = [0; 4];
    /// attachment.read(0, &mut bytes); // int value = *(int *)p
    /// assert_eq!(i32::from_ne_bytes(bytes), 37892);
    /// sysv::shmdt(attachment)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        self.try_read(offset, buf)
            .unwrap_or_else(|error| panic!("{error}"));
    }

    /// [`Self::read`], with the refusal as an `Err` instead of a panic.
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{AccessError, IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::SHM_RDONLY)?;
    /// let mut bytes = [0xff; 8];
    /// assert_eq!(attachment.try_read(0, &mut bytes), Ok(()));
    /// assert_eq!(bytes, [0; 8]); // a new segment is zero-filled
    /// assert_eq!(
    ///     attachment.try_read(4, &mut bytes),
    ///     Err(AccessError::OutOfBounds { offset: 4, len: 8, size: 8 })
    /// );
    /// sysv::shmdt(attachment)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn try_read(&self, offset: usize, buf: &mut [u8]) -> Result<(), AccessError> {
        self.check_bounds(offset, buf.len())?;
        let mut done = 0;
        if offset.is_multiple_of(WORD) {
            // Fast path: the same Relaxed word loads, straight into the buffer.
            done = buf.len() - buf.len() % WORD;
            for (index, chunk) in buf[..done].chunks_exact_mut(WORD).enumerate() {
                let value = self.word(offset + index * WORD).load(Ordering::Relaxed);
                chunk.copy_from_slice(&value.to_ne_bytes());
            }
        }
        let (offset, buf) = (offset + done, &mut buf[done..]);
        for (word_start, skip, part) in words(offset, buf.len()) {
            let value = self.word(word_start).load(Ordering::Relaxed).to_ne_bytes();
            let len = part.len();
            buf[part].copy_from_slice(&value[skip..skip + len]);
        }
        Ok(())
    }

    /// Reads a C string: the bytes from `offset` up to (not including) the first NUL, or to the
    /// end of the segment if there is none.
    ///
    /// # Panics
    /// If `offset` is past the end of the segment.
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 16, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
    /// attachment.write(0, b"hi\0there");
    /// assert_eq!(attachment.read_c_string(0), b"hi"); // printf("%s", p)
    /// assert_eq!(attachment.read_c_string(3), b"there");
    /// sysv::shmdt(attachment)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn read_c_string(&self, offset: usize) -> Vec<u8> {
        self.check_bounds(offset, 0)
            .unwrap_or_else(|error| panic!("{error}"));
        let mut text = Vec::new();
        for (word_start, skip, part) in words(offset, self.len - offset) {
            let value = self.word(word_start).load(Ordering::Relaxed).to_ne_bytes();
            let bytes = &value[skip..skip + part.len()];
            match bytes.iter().position(|&byte| byte == 0) {
                Some(nul) => {
                    text.extend_from_slice(&bytes[..nul]);
                    break;
                }
                None => text.extend_from_slice(bytes),
            }
        }
        text
    }

    /// The four bytes at `offset` as an atomic integer shared by every process attached:
    /// the way to hand turns between processes without `sleep`.
    ///
    /// # Panics
    /// With the [`AccessError`] of [`Self::try_atomic_u32`]: if the range is past the end of
    /// the segment, `offset` is not a multiple of 4, or the attachment is read-only (an atomic
    /// allows `store`, and a store into a read-only mapping is a `SIGSEGV`).
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use std::sync::atomic::Ordering;
    /// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 64, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
    /// let turn = attachment.atomic_u32(0);
    /// attachment.write(4, b"question\0");
    /// turn.store(1, Ordering::Release); // the bytes above are visible to whoever sees 1
    /// if turn.load(Ordering::Acquire) == 1 {
    ///     assert_eq!(attachment.read_c_string(4), b"question");
    /// }
    /// sysv::shmdt(attachment)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn atomic_u32(&self, offset: usize) -> &AtomicU32 {
        self.try_atomic_u32(offset)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`Self::atomic_u32`], with the refusal as an `Err` instead of a panic.
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{AccessError, IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let writer = sysv::shmat(id, ShmatFlag::empty())?;
    /// let reader = sysv::shmat(id, ShmatFlag::SHM_RDONLY)?;
    /// assert!(writer.try_atomic_u32(4).is_ok());
    /// assert_eq!(writer.try_atomic_u32(2).err(), Some(AccessError::Misaligned { offset: 2 }));
    /// assert_eq!(reader.try_atomic_u32(4).err(), Some(AccessError::ReadOnly));
    /// sysv::shmdt(writer)?;
    /// sysv::shmdt(reader)?;
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn try_atomic_u32(&self, offset: usize) -> Result<&AtomicU32, AccessError> {
        if self.read_only {
            return Err(AccessError::ReadOnly);
        }
        self.check_bounds(offset, WORD)?;
        if !offset.is_multiple_of(WORD) {
            return Err(AccessError::Misaligned { offset });
        }
        Ok(self.word(offset))
    }

    fn check_bounds(&self, offset: usize, len: usize) -> Result<(), AccessError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(AccessError::OutOfBounds {
                offset,
                len,
                size: self.len,
            }),
        }
    }

    /// The word at `start`, a multiple of 4 below the segment's size.
    ///
    /// On a read-only attachment the caller only loads from it, with `Relaxed`.
    fn word(&self, start: usize) -> &AtomicU32 {
        debug_assert!(start.is_multiple_of(WORD) && start < self.len);
        // SAFETY: the mapping starts on a page boundary (the kernel chose the address), so
        // `start`, a multiple of 4, is aligned for a u32. `start < len`, and the mapping covers
        // whole pages, so the 4 bytes are mapped (the last ones may be past `len` but in the
        // same page). The reference borrows `self`, and the mapping lives until shmdt consumes
        // the Attachment. Every access to the segment in this crate is an aligned 4-byte atomic,
        // so sizes never mix (AtomicU32::from_ptr's rule). A read-only mapping is only ever
        // loaded from with Relaxed, which std guarantees is no write ("Atomic accesses to
        // read-only memory"); try_atomic_u32 refuses to hand it out.
        unsafe { &*self.addr.as_ptr().add(start).cast::<AtomicU32>() }
    }
}

/// The words that hold the bytes `offset..offset + len`: for each, where the word starts in the
/// segment, how many of its bytes come before ours, and where our bytes are in the caller's
/// buffer.
fn words(
    offset: usize,
    len: usize,
) -> impl Iterator<Item = (usize, usize, std::ops::Range<usize>)> {
    let end = offset + len;
    let first = offset - offset % WORD;
    (first..end).step_by(WORD).map(move |word_start| {
        let from = word_start.max(offset);
        let to = (word_start + WORD).min(end);
        (word_start, from - word_start, from - offset..to - offset)
    })
}
