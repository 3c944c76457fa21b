//! A thin, typed layer over the System V shared-memory calls.
//!
//! `nix` and `rustix`, the usual safe wrappers of the Unix API, have no System V shared memory
//! (both wrap POSIX `shm_open` and `mmap` instead), so this crate wraps `libc` once and is the
//! only place in the lab with `unsafe` for these calls. It follows their style: the C names and
//! semantics, flags as `bitflags`, and every call returning [`nix::Result`], so the course notes
//! and `man 2 shmget` read straight across:
//!
//! | C                                   | here                                              |
//! |-------------------------------------|---------------------------------------------------|
//! | `shmget(key, size, IPC_CREAT\|0666)` | [`shmget`]`(key, size, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o666))` |
//! | `shmat(id, NULL, 0)`                | [`shmat`]`(id, ShmatFlag::empty())`               |
//! | `shmdt(addr)`                       | [`shmdt`]`(attachment)`                           |
//! | `shmctl(id, IPC_STAT, &buf)`        | [`shmctl_stat`]`(id)`                             |
//! | `shmctl(id, IPC_RMID, NULL)`        | [`shmctl_rmid`]`(id)`                             |
//!
//! On failure the C call returned -1 (or `(void *) -1`) and the [`Errno`] says why, so errors
//! are values you match on, never a sentinel you forget to test.
//!
//! What the types add to C:
//! - [`ShmId`] is a newtype, so a key cannot be passed where an id is expected. Id 0 is valid.
//! - [`shmat`] returns an [`Attachment`] that knows the segment's size: its reads and writes are
//!   bounds-checked and cannot touch memory outside the segment, and a read-only attachment
//!   refuses every write.
//! - [`shmdt`] consumes the [`Attachment`], so the compiler stops any use after detaching.
//!
//! # Why `shmat` is safe here
//!
//! `nix` and `rustix` make `mmap` `unsafe`: it returns a pointer to memory the caller must
//! manage, and with a fixed address it can replace memory the program uses. Here the kernel
//! always picks the address (there is no `shmaddr` argument and no `SHM_REMAP`), and the
//! [`Attachment`] never hands out a Rust reference to the bytes: every access is bounds-checked
//! and goes through aligned 4-byte atomics, because other processes change the memory at any
//! moment (the access rule below). So no safe use of this crate can cause undefined behaviour.
//!
//! # The access rule
//!
//! Other processes (and other threads of this one, through another attachment of the same
//! segment) change the memory at any moment. Rust's memory model makes two unsynchronised
//! accesses to one byte undefined behaviour unless both are atomic *and of the same size*
//! (the rules of [`AtomicU32::from_ptr`](std::sync::atomic::AtomicU32::from_ptr)). So every access this crate makes is one kind:
//!
//! - an **aligned 4-byte atomic** access to the word that holds the bytes: the segment starts
//!   on a page boundary, so word `n` is the bytes `4n..4n+4`;
//! - [`Attachment::read`] and [`Attachment::write`] are [`Ordering::Relaxed`](std::sync::atomic::Ordering::Relaxed): a word is never
//!   torn (another reader sees all of its old bytes or all of its new ones), but a copy of more
//!   than one word may interleave with another process's, and the copy orders nothing by
//!   itself. To publish bytes, write them, then store a flag with [`Ordering::Release`](std::sync::atomic::Ordering::Release) through
//!   [`Attachment::atomic_u32`]; the reader loads the flag with [`Ordering::Acquire`](std::sync::atomic::Ordering::Acquire) and then
//!   reads the bytes (exercise 4 is built on this);
//! - a write of part of a word (a 1-byte NUL, a string that does not end on a word boundary)
//!   replaces just those bytes with a compare-and-swap of the whole word, so the bytes next to
//!   it, which another process may be writing, are never overwritten with stale values.
//!
//! [`Attachment::atomic_u32`] hands out the same 4-byte words, so it never mixes sizes with
//! `read` and `write`. Another process written in C follows the rule with C11 atomics
//! (`atomic_store_explicit`, `__atomic_load_n`) on aligned `uint32_t`s.
//!
//! # Read-only attachments
//!
//! A [`ShmatFlag::SHM_RDONLY`] attachment is mapped read-only: a store into it is a `SIGSEGV`.
//! Every write path refuses it before touching memory ([`AccessError::ReadOnly`]), including
//! [`Attachment::atomic_u32`], since a `&AtomicU32` would let safe code call `store`. Reads
//! through it are `Relaxed` 4-byte loads, which the standard library guarantees never write
//! (see "Atomic accesses to read-only memory" in [`std::sync::atomic`]).
//!
//! # Why nothing happens on drop
//!
//! Dropping an [`Attachment`] neither detaches nor removes anything, on purpose. The lab's
//! exercises teach the C lifetime: `shmdt` and `shmctl(IPC_RMID)` by hand, as the course notes
//! do, and the grader observes both (the attach count, the last detaching process, the
//! segments left). A `Drop` that detached would hide a missing `shmdt`, and one that removed
//! would destroy the segment the next exercise needs. Not detaching is safe: the memory stays
//! mapped until [`shmdt`] or the end of the process, as with [`std::mem::forget`]. A wrapper
//! that detaches on drop is a few lines on top of this crate, and an exercise for the student.
//!
//! # Example
//!
//! The five operations, on a private segment (key `IPC_PRIVATE`, so nothing else can find it):
//!
//! ```
//! # sysv::testing::private_ipc_namespace();
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
//!
//! (The examples in these docs start with a hidden
//! `sysv::testing::private_ipc_namespace()`, so that running them leaves nothing behind.)

mod attachment;

use bitflags::bitflags;
pub use nix::errno::Errno;
pub use nix::sys::stat::Mode;
pub use nix::unistd::Pid;

pub use attachment::{AccessError, Attachment, ShmatFlag, shmat, shmdt, shmdt_raw};

/// The C `key_t`: the name several processes agree on to find one segment.
///
/// ```
/// // The lab's key, as the course notes write it, and as ipcs prints it.
/// let key: sysv::Key = 9990;
/// assert_eq!(format!("{key:#010x}"), "0x00002706");
/// ```
pub type Key = libc::key_t;

/// The special key that always creates a new segment, reachable only through its id.
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{IPC_PRIVATE, Mode, ShmgetFlag};
///
/// let flags = ShmgetFlag::IPC_CREAT;
/// let first = sysv::shmget(IPC_PRIVATE, 8, flags, Mode::from_bits_truncate(0o600))?;
/// let second = sysv::shmget(IPC_PRIVATE, 8, flags, Mode::from_bits_truncate(0o600))?;
/// assert_ne!(first, second); // two segments, not one found twice
/// sysv::shmctl_rmid(first)?;
/// sysv::shmctl_rmid(second)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
pub const IPC_PRIVATE: Key = libc::IPC_PRIVATE;

/// Set in [`ShmidDs::mode`] (and in the `perms` column of `/proc/sysvipc/shm`) once a segment
/// has been removed with `IPC_RMID` but is still attached somewhere.
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{IPC_PRIVATE, Mode, SHM_DEST, ShmatFlag, ShmgetFlag};
///
/// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
/// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
/// sysv::shmctl_rmid(id)?; // still attached: marked, not gone
/// assert_ne!(sysv::shmctl_stat(id)?.mode & SHM_DEST, 0);
/// sysv::shmdt(attachment)?; // the last detach destroys it
/// # Ok::<(), sysv::Errno>(())
/// ```
pub const SHM_DEST: u32 = 0o1000;

/// The kernel's id of a segment, returned by [`shmget`]. Like a file descriptor, but global.
///
/// Pitfall from C: id 0 is a perfectly good id. Only `shmget`'s `-1` means failure, and here
/// that is an `Err`, so there is no sentinel to confuse with a real id.
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{IPC_PRIVATE, Mode, ShmgetFlag};
///
/// let id: sysv::ShmId = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
/// println!("created segment {id}"); // the number ipcs -m shows
/// sysv::shmctl_rmid(id)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShmId(libc::c_int);

impl ShmId {
    /// Wraps a raw id, for ids learnt elsewhere (a message, `/proc/sysvipc/shm`, `ipcs`).
    ///
    /// ```
    /// let id = sysv::ShmId::from_raw(32768); // from `ipcs -m`, say
    /// assert_eq!(id.as_raw(), 32768);
    /// ```
    pub fn from_raw(id: libc::c_int) -> Self {
        ShmId(id)
    }

    /// The number the kernel uses (what `ipcs -m` shows in its `shmid` column).
    ///
    /// ```
    /// let id = sysv::ShmId::from_raw(0); // id 0 is a real id
    /// assert_eq!(id.as_raw(), 0);
    /// assert_eq!(id.to_string(), "0");
    /// ```
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
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{Errno, Mode, ShmgetFlag};
    ///
    /// let create_new = ShmgetFlag::IPC_CREAT | ShmgetFlag::IPC_EXCL;
    /// let id = sysv::shmget(9990, 8, create_new, Mode::from_bits_truncate(0o600))?;
    /// assert_eq!(sysv::shmget(9990, 8, create_new, Mode::from_bits_truncate(0o600)), Err(Errno::EEXIST));
    /// assert_eq!(sysv::shmget(9990, 0, ShmgetFlag::empty(), Mode::empty()), Ok(id)); // find it
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ShmgetFlag: libc::c_int {
        /// Create the segment if no segment has this key.
        const IPC_CREAT = libc::IPC_CREAT;
        /// With `IPC_CREAT`: fail with `EEXIST` if the key already has a segment.
        const IPC_EXCL = libc::IPC_EXCL;
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
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{Errno, Mode, ShmgetFlag};
///
/// // int id = shmget(9990, 1024, IPC_CREAT | 0666);
/// let id = sysv::shmget(9990, 1024, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o666))?;
/// // A missing key without IPC_CREAT is an error, not a new segment.
/// assert_eq!(sysv::shmget(9991, 0, ShmgetFlag::empty(), Mode::empty()), Err(Errno::ENOENT));
/// sysv::shmctl_rmid(id)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
pub fn shmget(key: Key, size: usize, flags: ShmgetFlag, mode: Mode) -> nix::Result<ShmId> {
    // Permission bits only: a mode can't smuggle in other flags through the same int.
    // And only the flags this crate knows (no retained SHM_HUGETLB and the like).
    let shmflg = (flags & ShmgetFlag::all()).bits() | (mode.bits() as libc::c_int & 0o777);
    // SAFETY: shmget takes no pointers; any argument values are checked by the kernel.
    let id = unsafe { libc::shmget(key, size, shmflg) };
    Errno::result(id).map(ShmId)
}

/// What the kernel knows of a segment: `shmctl(id, IPC_STAT, &buf)`, as a plain struct.
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{IPC_PRIVATE, Mode, ShmgetFlag};
///
/// let id = sysv::shmget(IPC_PRIVATE, 100, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o640))?;
/// let status: sysv::ShmidDs = sysv::shmctl_stat(id)?;
/// assert_eq!((status.size, status.nattch), (100, 0));
/// assert_eq!(status.cpid, nix::unistd::getpid());
/// sysv::shmctl_rmid(id)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
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
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{IPC_PRIVATE, Mode, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o640))?;
    /// assert_eq!(sysv::shmctl_stat(id)?.permissions(), 0o640);
    /// sysv::shmctl_rmid(id)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn permissions(&self) -> u32 {
        self.mode & 0o777
    }

    /// True once `IPC_RMID` was done while the segment was still attached.
    ///
    /// ```
    /// # sysv::testing::private_ipc_namespace();
    /// use sysv::{IPC_PRIVATE, Mode, ShmatFlag, ShmgetFlag};
    ///
    /// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
    /// let attachment = sysv::shmat(id, ShmatFlag::empty())?;
    /// assert!(!sysv::shmctl_stat(id)?.marked_for_destruction());
    /// sysv::shmctl_rmid(id)?;
    /// assert!(sysv::shmctl_stat(id)?.marked_for_destruction());
    /// sysv::shmdt(attachment)?;
    /// # Ok::<(), sysv::Errno>(())
    /// ```
    pub fn marked_for_destruction(&self) -> bool {
        self.mode & SHM_DEST != 0
    }
}

/// Reads a segment's status: `shmctl(id, IPC_STAT, &buf)`.
///
/// Errors: `EINVAL` no segment has this id; `EACCES` no read permission.
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{Errno, Mode, ShmId, ShmgetFlag};
///
/// let id = sysv::shmget(9990, 64, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o666))?;
/// let status = sysv::shmctl_stat(id)?;
/// assert_eq!((status.key, status.size, status.permissions()), (9990, 64, 0o666));
/// sysv::shmctl_rmid(id)?;
/// assert_eq!(sysv::shmctl_stat(id), Err(Errno::EINVAL)); // gone
/// # Ok::<(), sysv::Errno>(())
/// ```
pub fn shmctl_stat(id: ShmId) -> nix::Result<ShmidDs> {
    let mut buf = std::mem::MaybeUninit::<libc::shmid_ds>::zeroed();
    // SAFETY: buf is a writable shmid_ds, filled in by the kernel on success.
    Errno::result(unsafe { libc::shmctl(id.0, libc::IPC_STAT, buf.as_mut_ptr()) })?;
    // SAFETY: IPC_STAT succeeded, so the kernel filled in the struct (and it started zeroed).
    let ds = unsafe { buf.assume_init() };
    #[allow(
        clippy::useless_conversion,
        reason = "the mode is a u16 in glibc's ipc_perm and a u32 in musl's"
    )]
    let mode = u32::from(ds.shm_perm.mode);
    Ok(ShmidDs {
        key: key_of(&ds.shm_perm),
        size: ds.shm_segsz,
        mode,
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
///
/// ```
/// # sysv::testing::private_ipc_namespace();
/// use sysv::{Errno, Mode, ShmgetFlag};
///
/// let id = sysv::shmget(9990, 64, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o666))?;
/// sysv::shmctl_rmid(id)?; // shmctl(id, IPC_RMID, NULL)
/// assert_eq!(sysv::shmget(9990, 0, ShmgetFlag::empty(), Mode::empty()), Err(Errno::ENOENT));
/// # Ok::<(), sysv::Errno>(())
/// ```
pub fn shmctl_rmid(id: ShmId) -> nix::Result<()> {
    // SAFETY: IPC_RMID reads no buffer, so a null pointer is what the C API expects.
    Errno::result(unsafe { libc::shmctl(id.0, libc::IPC_RMID, std::ptr::null_mut()) }).map(drop)
}

/// The key of an `ipc_perm`: its first field, which glibc calls `__key` and musl
/// `__ipc_perm_key` (libc names it after the C library, and is renaming musl's to `__key`).
fn key_of(perm: &libc::ipc_perm) -> Key {
    // SAFETY: `ipc_perm` is `repr(C)` and begins with the `key_t` in both C libraries (glibc's
    // bits/ipc.h, musl's bits/ipc.h), as in the kernel's `ipc64_perm`, so its address is the
    // key's, aligned, and initialised by IPC_STAT.
    unsafe { std::ptr::from_ref(perm).cast::<Key>().read() }
}

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests;
