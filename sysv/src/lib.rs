//! A thin, typed layer over the System V shared-memory calls.
//!
//! `nix` wraps most of the POSIX API but has no System V shared memory, so this crate wraps
//! `libc` once and is the only place in the lab with `unsafe` for these calls. The functions
//! keep the C names and semantics, so the course notes and `man 2 shmget` read straight across:
//!
//! | C                                   | here                                              |
//! |-------------------------------------|---------------------------------------------------|
//! | `shmget(key, size, IPC_CREAT\|0666)` | [`shmget`]`(key, size, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o666))` |
//! | `shmat(id, NULL, 0)`                | [`shmat`]`(id, ShmatFlag::empty())`               |
//! | `shmdt(addr)`                       | [`shmdt`]`(attachment)`                           |
//! | `shmctl(id, IPC_STAT, &buf)`        | [`shmctl_stat`]`(id)`                             |
//! | `shmctl(id, IPC_RMID, NULL)`        | [`shmctl_rmid`]`(id)`                             |
//!
//! Every call returns [`nix::Result`]: on failure the C call returned -1 (or `(void *) -1`) and
//! the [`Errno`] says why, so errors are values you match on, never a sentinel you forget to test.
//!
//! What the types add to C:
//! - [`ShmId`] is a newtype, so a key cannot be passed where an id is expected. Id 0 is valid.
//! - [`shmat`] returns an [`Attachment`] that knows the segment's size: its reads and writes are
//!   bounds-checked and cannot touch memory outside the segment.
//! - [`shmdt`] consumes the [`Attachment`], so the compiler stops any use after detaching.
//!   Dropping an attachment does *not* detach it (as in C, the kernel detaches at exit).
//!
//! # Example
//!
//! The five operations, on a private segment (key `IPC_PRIVATE`, so nothing else can find it):
//!
//! ```
//! use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag, shmat, shmctl_rmid, shmdt, shmget};
//!
//! let id = shmget(IPC_PRIVATE, 64, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
//! let segment = shmat(id, ShmatFlag::empty())?;
//! segment.write(0, b"hello\0");
//! assert_eq!(segment.read_c_string(0), b"hello");
//! shmdt(segment)?;
//! shmctl_rmid(id)?; // without this the segment would outlive the program
//! # Ok::<(), sysv::Errno>(())
//! ```

use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;

use bitflags::bitflags;
pub use nix::errno::Errno;
pub use nix::sys::stat::Mode;
pub use nix::unistd::Pid;

/// The C `key_t`: the name several processes agree on to find one segment.
pub type Key = libc::key_t;

/// The special key that always creates a new segment, reachable only through its id.
pub const IPC_PRIVATE: Key = libc::IPC_PRIVATE;

/// Set in [`ShmidDs::mode`] (and in the `perms` column of `/proc/sysvipc/shm`) once a segment
/// has been removed with `IPC_RMID` but is still attached somewhere.
pub const SHM_DEST: u32 = 0o1000;

/// The kernel's id of a segment, returned by [`shmget`]. Like a file descriptor, but global.
///
/// Pitfall from C: id 0 is a perfectly good id. Only `shmget`'s `-1` means failure, and here
/// that is an `Err`, so there is no sentinel to confuse with a real id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShmId(libc::c_int);

impl ShmId {
    /// Wraps a raw id, for ids learnt elsewhere (a message, `/proc/sysvipc/shm`, `ipcs`).
    pub fn from_raw(id: libc::c_int) -> Self {
        ShmId(id)
    }

    /// The number the kernel uses (what `ipcs -m` shows in its `shmid` column).
    pub fn as_raw(self) -> libc::c_int {
        self.0
    }
}

impl std::fmt::Display for ShmId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

bitflags! {
    /// Flags of [`shmget`] other than the permission bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ShmgetFlag: libc::c_int {
        /// Create the segment if no segment has this key.
        const IPC_CREAT = libc::IPC_CREAT;
        /// With `IPC_CREAT`: fail with `EEXIST` if the key already has a segment.
        const IPC_EXCL = libc::IPC_EXCL;
    }
}

bitflags! {
    /// Flags of [`shmat`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ShmatFlag: libc::c_int {
        /// Attach read-only: writing through the attachment is refused (see [`Attachment::write`]).
        const SHM_RDONLY = libc::SHM_RDONLY;
    }
}

/// Creates or finds the segment named `key`: `shmget(key, size, flags | mode)`.
///
/// - With [`ShmgetFlag::IPC_CREAT`] a missing segment is created, `size` bytes, zero-filled, with
///   permission bits `mode`. Pitfall: `IPC_CREAT` with no mode bits creates a segment with mode
///   000 that nobody but root can attach. Pass the bits you mean, e.g. `0o666`.
/// - Without it, an existing segment is found: `size` may be 0, and must not exceed its size.
///
/// Errors, as the C call's `errno`: `ENOENT` no segment has `key` and `IPC_CREAT` was not
/// given; `EEXIST` `IPC_CREAT | IPC_EXCL` and the key exists; `EINVAL` a new segment's size is
/// 0 or above `SHMMAX`, or `size` is larger than the existing segment's; `ENOSPC`/`ENOMEM` the
/// system's limits; `EACCES` the mode does not let you in.
pub fn shmget(key: Key, size: usize, flags: ShmgetFlag, mode: Mode) -> nix::Result<ShmId> {
    // Permission bits only: a mode can't smuggle in other flags through the same int.
    let shmflg = flags.bits() | (mode.bits() as libc::c_int & 0o777);
    // SAFETY: shmget takes no pointers; any argument values are checked by the kernel.
    let id = unsafe { libc::shmget(key, size, shmflg) };
    Errno::result(id).map(ShmId)
}

/// Attaches the segment into this process: `shmat(id, NULL, flags)`; the kernel picks the address.
///
/// Pitfall from C: failure is `(void *) -1`, not a negative pointer; code that checks
/// `shmat(...) < 0` misses it. Here failure is an `Err`. Errors: `EINVAL` no segment has this
/// id; `EACCES` the mode does not allow it; `EIDRM` the segment was removed.
///
/// The attachment also learns the segment's size (with `IPC_STAT`) so that its reads and writes
/// can be bounds-checked. A forked child inherits the attachments of its parent.
pub fn shmat(id: ShmId, flags: ShmatFlag) -> nix::Result<Attachment> {
    let len = shmctl_stat(id)?.size;
    // SAFETY: a null address asks the kernel to choose one; it cannot overlap existing mappings.
    let addr = unsafe { libc::shmat(id.0, std::ptr::null(), flags.bits()) };
    if addr as isize == -1 {
        return Err(Errno::last());
    }
    let addr = NonNull::new(addr.cast::<u8>()).ok_or(Errno::EFAULT)?;
    let read_only = flags.contains(ShmatFlag::SHM_RDONLY);
    Ok(Attachment {
        addr,
        len,
        read_only,
    })
}

/// Detaches an attachment: `shmdt(addr)`. It consumes the attachment, so it cannot be used after.
///
/// Detaching does not remove the segment: it lives on, with its contents, until [`shmctl_rmid`].
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
/// Every reference into the segment becomes dangling: nothing may use memory at `addr` after.
pub unsafe fn shmdt_raw(addr: *const c_void) -> nix::Result<()> {
    // SAFETY: the caller promises nothing uses the mapping afterwards; a bad address is EINVAL.
    Errno::result(unsafe { libc::shmdt(addr) }).map(drop)
}

/// What the kernel knows of a segment: `shmctl(id, IPC_STAT, &buf)`, as a plain struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShmidDs {
    /// The key; `IPC_PRIVATE` (0) once the segment is marked for destruction.
    pub key: Key,
    /// Size in bytes, as asked of `shmget` (the memory itself is rounded up to pages).
    pub size: usize,
    /// Permission bits, plus [`SHM_DEST`] when marked for destruction.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// The creator's user and group.
    pub cuid: u32,
    pub cgid: u32,
    /// The process that created the segment.
    pub cpid: Pid,
    /// The process that last attached or detached it.
    pub lpid: Pid,
    /// How many attachments exist now, across all processes.
    pub nattch: u64,
    /// Times of the last attach, detach and change, in seconds since the epoch.
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
}

impl ShmidDs {
    /// The permission bits alone (`0o666`), without [`SHM_DEST`] or other status bits.
    pub fn permissions(&self) -> u32 {
        self.mode & 0o777
    }

    /// True once `IPC_RMID` was done while the segment was still attached.
    pub fn marked_for_destruction(&self) -> bool {
        self.mode & SHM_DEST != 0
    }
}

/// Reads a segment's status: `shmctl(id, IPC_STAT, &buf)`.
///
/// Errors: `EINVAL` no segment has this id; `EACCES` no read permission.
pub fn shmctl_stat(id: ShmId) -> nix::Result<ShmidDs> {
    let mut buf = std::mem::MaybeUninit::<libc::shmid_ds>::zeroed();
    // SAFETY: buf is a writable shmid_ds, filled in by the kernel on success.
    Errno::result(unsafe { libc::shmctl(id.0, libc::IPC_STAT, buf.as_mut_ptr()) })?;
    // SAFETY: IPC_STAT succeeded, so the kernel filled in the struct (and it started zeroed).
    let ds = unsafe { buf.assume_init() };
    Ok(ShmidDs {
        key: ds.shm_perm.__key,
        size: ds.shm_segsz,
        mode: u32::from(ds.shm_perm.mode),
        uid: ds.shm_perm.uid,
        gid: ds.shm_perm.gid,
        cuid: ds.shm_perm.cuid,
        cgid: ds.shm_perm.cgid,
        cpid: Pid::from_raw(ds.shm_cpid),
        lpid: Pid::from_raw(ds.shm_lpid),
        nattch: ds.shm_nattch,
        atime: ds.shm_atime,
        dtime: ds.shm_dtime,
        ctime: ds.shm_ctime,
    })
}

/// Removes a segment: `shmctl(id, IPC_RMID, NULL)`.
///
/// If no process has it attached it is gone at once. Otherwise it is *marked for destruction*:
/// its key is freed at once (a new `shmget` with the key makes a new segment), the attached
/// processes keep using it, and it disappears at the last detach. Errors: `EINVAL` no such id;
/// `EPERM` you are neither its owner nor its creator.
pub fn shmctl_rmid(id: ShmId) -> nix::Result<()> {
    // SAFETY: IPC_RMID reads no buffer, so a null pointer is what the C API expects.
    Errno::result(unsafe { libc::shmctl(id.0, libc::IPC_RMID, std::ptr::null_mut()) }).map(drop)
}

/// A segment attached into this process, from [`shmat`]; give it back with [`shmdt`].
///
/// Reads and writes are copies with bounds checks: other processes may change the memory at any
/// moment, so the layer never hands out `&[u8]` or `&mut [u8]` into it (Rust assumes nobody
/// else changes memory behind such a reference). To coordinate processes use [`Self::atomic_u32`].
#[derive(Debug)]
pub struct Attachment {
    addr: NonNull<u8>,
    len: usize,
    read_only: bool,
}

impl Attachment {
    /// The segment's size in bytes: how much may be read or written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a segment of size 0 (the kernel does not create those).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The address the kernel chose, as C's `shmat` returns it.
    pub fn as_ptr(&self) -> *mut u8 {
        self.addr.as_ptr()
    }

    /// Copies `bytes` into the segment at `offset`.
    ///
    /// # Panics
    /// If `offset + bytes.len()` is past the end of the segment (writing past the end is what
    /// corrupts memory in C; here it stops the program), or the attachment is read-only.
    pub fn write(&self, offset: usize, bytes: &[u8]) {
        assert!(
            !self.read_only,
            "write through a read-only (SHM_RDONLY) attachment"
        );
        self.check_bounds(offset, bytes.len());
        // SAFETY: the range is inside the mapping (checked above) and the source is a slice of
        // our own memory, which cannot overlap the segment.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.as_ptr().add(offset), bytes.len())
        };
    }

    /// Copies `buf.len()` bytes out of the segment, starting at `offset`.
    ///
    /// # Panics
    /// If the range is past the end of the segment.
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        self.check_bounds(offset, buf.len());
        // SAFETY: the range is inside the mapping (checked above); buf is our own memory.
        unsafe {
            std::ptr::copy_nonoverlapping(self.as_ptr().add(offset), buf.as_mut_ptr(), buf.len())
        };
    }

    /// Reads a C string: the bytes from `offset` up to (not including) the first NUL, or to the
    /// end of the segment if there is none.
    pub fn read_c_string(&self, offset: usize) -> Vec<u8> {
        self.check_bounds(offset, 0);
        let mut text = Vec::new();
        for at in offset..self.len {
            let mut byte = [0u8];
            self.read(at, &mut byte);
            if byte[0] == 0 {
                break;
            }
            text.push(byte[0]);
        }
        text
    }

    /// The four bytes at `offset` as an atomic integer shared by every process attached:
    /// the way to hand turns between processes without `sleep`.
    ///
    /// # Panics
    /// If the range is past the end of the segment or `offset` is not a multiple of 4.
    pub fn atomic_u32(&self, offset: usize) -> &AtomicU32 {
        self.check_bounds(offset, 4);
        let ptr = self.as_ptr().wrapping_add(offset);
        assert!(
            ptr.cast::<AtomicU32>().is_aligned(),
            "atomic_u32 at an unaligned offset {offset}"
        );
        // SAFETY: in bounds and aligned (checked above); the mapping lives as long as `self`
        // (detaching consumes the Attachment), and atomics are sound under concurrent access.
        unsafe { AtomicU32::from_ptr(ptr.cast::<u32>()) }
    }

    fn check_bounds(&self, offset: usize, len: usize) {
        let end = offset.checked_add(len);
        assert!(
            end.is_some_and(|end| end <= self.len),
            "access to bytes {offset}..{offset}+{len} of a {}-byte segment",
            self.len
        );
    }
}

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests;
