//! Test support: give a test its own IPC namespace, so it can use the lab's fixed keys without
//! touching (or being disturbed by) the segments of the machine or of a parallel test run; and
//! the few steps every test of a program repeats around it: make the segment the program will
//! find, look at its bytes afterwards, and see that nothing is left.

use nix::sched::{CloneFlags, unshare};

use crate::{Errno, Key, Mode, ShmId, ShmatFlag, ShmgetFlag};

/// Moves the calling thread into a new, empty IPC namespace.
///
/// Namespaces belong to threads, and `cargo test` runs each test on a thread of its own, so
/// this isolates exactly the calling test: every segment it or the processes it spawns create
/// lives in the new namespace and is destroyed with it when the test's thread and children end.
///
/// # Panics
/// Where the kernel refuses (`unshare(CLONE_NEWIPC)` needs root, or a process that is root in
/// its own user namespace), with a message that says how to run the tests instead.
///
/// ```
/// use sysv::{Mode, ShmgetFlag};
///
/// sysv::testing::private_ipc_namespace();
/// assert_eq!(sysv::testing::segment_count(), 0); // whatever the machine has
/// // The lab's fixed key, with no risk of meeting a real segment that has it.
/// let id = sysv::shmget(9990, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
/// # sysv::shmctl_rmid(id)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
pub fn private_ipc_namespace() {
    if let Err(errno) = unshare(CloneFlags::CLONE_NEWIPC) {
        panic!(
            "cannot make a private IPC namespace for this test: unshare(CLONE_NEWIPC): {errno}\n\
             The tests use the lab's fixed keys, so each runs in its own IPC namespace. Run \
             them as root, or as yourself inside a user namespace:\n    \
             unshare --user --map-root-user --ipc cargo test --workspace"
        );
    }
}

/// How many segments the calling thread's IPC namespace holds (the rows of
/// `/proc/sysvipc/shm`, which shows the reader's namespace).
///
/// ```
/// use sysv::{IPC_PRIVATE, Mode, ShmgetFlag};
///
/// sysv::testing::private_ipc_namespace();
/// let id = sysv::shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::from_bits_truncate(0o600))?;
/// assert_eq!(sysv::testing::segment_count(), 1);
/// sysv::shmctl_rmid(id)?;
/// assert_eq!(sysv::testing::segment_count(), 0);
/// # Ok::<(), sysv::Errno>(())
/// ```
pub fn segment_count() -> usize {
    let table = std::fs::read_to_string("/proc/sysvipc/shm").expect("read /proc/sysvipc/shm");
    table.lines().skip(1).count()
}

/// The processes, other than this one, that share the calling thread's IPC namespace: in a
/// test's private namespace, the children a program left running.
///
/// ```
/// sysv::testing::private_ipc_namespace();
/// // A child started from here shares the namespace while it runs...
/// let mut child = std::process::Command::new("sleep").arg("10").spawn().expect("sleep");
/// assert_eq!(
///     sysv::testing::other_processes_in_this_namespace(),
///     [child.id().to_string()]
/// );
/// child.kill().expect("kill");
/// child.wait().expect("reap");
/// // ...and is not counted once reaped.
/// assert!(sysv::testing::other_processes_in_this_namespace().is_empty());
/// ```
pub fn other_processes_in_this_namespace() -> Vec<String> {
    let ours = std::fs::read_link("/proc/thread-self/ns/ipc").expect("our IPC namespace");
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()) && *name != me)
        // A process that has exited (or a zombie) has no namespace link any more.
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/ns/ipc")).ok() == Some(ours.clone()))
        .collect()
}

/// Makes a segment with `key` (or finds the one the key has), `size` bytes and permission bits
/// `mode`, as a test's setup: the segment a program under test will find.
///
/// # Panics
/// Where the kernel refuses, with its reason: the test cannot go on without it.
///
/// ```
/// sysv::testing::private_ipc_namespace();
/// let id = sysv::testing::make_segment(9990, 1024, 0o666);
/// assert_eq!(sysv::shmctl_stat(id)?.size, 1024);
/// # sysv::shmctl_rmid(id)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
pub fn make_segment(key: Key, size: usize, mode: u32) -> ShmId {
    crate::shmget(
        key,
        size,
        ShmgetFlag::IPC_CREAT,
        Mode::from_bits_truncate(mode),
    )
    .unwrap_or_else(|errno| panic!("the test's segment (key {key:#x}, {size} bytes): {errno}"))
}

/// The first `len` bytes of segment `id`, read through an attachment of its own (read-only,
/// detached before returning).
///
/// ```
/// sysv::testing::private_ipc_namespace();
/// let id = sysv::testing::make_segment(9990, 16, 0o600);
/// assert_eq!(sysv::testing::segment_bytes(id, 4), [0; 4]); // new memory is zeroed
/// # sysv::shmctl_rmid(id)?;
/// # Ok::<(), sysv::Errno>(())
/// ```
pub fn segment_bytes(id: ShmId, len: usize) -> Vec<u8> {
    let attachment = crate::shmat(id, ShmatFlag::SHM_RDONLY).expect("attach the segment");
    let mut bytes = vec![0; len];
    attachment.read(0, &mut bytes);
    crate::shmdt(attachment).expect("detach the segment");
    bytes
}

/// Asserts that `key` has no segment and that the namespace holds none at all: what a program
/// that removes its segment leaves (removed, not only marked: nobody else had it attached).
///
/// ```
/// sysv::testing::private_ipc_namespace();
/// let id = sysv::testing::make_segment(9990, 8, 0o600);
/// sysv::shmctl_rmid(id)?;
/// sysv::testing::assert_no_segment(9990);
/// # Ok::<(), sysv::Errno>(())
/// ```
#[track_caller]
pub fn assert_no_segment(key: Key) {
    assert_eq!(
        crate::shmget(key, 0, ShmgetFlag::empty(), Mode::empty()),
        Err(Errno::ENOENT),
        "key {key:#x} still has a segment"
    );
    assert_eq!(segment_count(), 0, "a segment was left behind");
}
