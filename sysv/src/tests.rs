//! The fault matrix: one test per documented behaviour of the calls.

use super::*;
use crate::testing::private_ipc_namespace;

const KEY: Key = 9990;

fn rw() -> Mode {
    Mode::from_bits_truncate(0o666)
}

#[test]
fn size_zero_is_einval() {
    assert_eq!(
        shmget(IPC_PRIVATE, 0, ShmgetFlag::IPC_CREAT, rw()),
        Err(Errno::EINVAL)
    );
}

#[test]
fn create_twice_returns_the_same_id_and_exclusive_fails_with_eexist() {
    private_ipc_namespace();
    let id = shmget(KEY, 1024, ShmgetFlag::IPC_CREAT, rw()).expect("create");
    assert_eq!(shmget(KEY, 1024, ShmgetFlag::IPC_CREAT, rw()), Ok(id));
    let exclusive = ShmgetFlag::IPC_CREAT | ShmgetFlag::IPC_EXCL;
    assert_eq!(shmget(KEY, 1024, exclusive, rw()), Err(Errno::EEXIST));
    shmctl_rmid(id).expect("remove");
}

#[test]
fn access_without_create_and_no_segment_is_enoent() {
    private_ipc_namespace();
    assert_eq!(
        shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty()),
        Err(Errno::ENOENT)
    );
}

#[test]
fn access_with_a_larger_size_than_the_segment_is_einval() {
    private_ipc_namespace();
    let id = shmget(KEY, 16, ShmgetFlag::IPC_CREAT, rw()).expect("create");
    assert_eq!(
        shmget(KEY, 17, ShmgetFlag::empty(), Mode::empty()),
        Err(Errno::EINVAL)
    );
    assert_eq!(shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty()), Ok(id));
    shmctl_rmid(id).expect("remove");
}

#[test]
fn bad_id_is_einval() {
    let bad = ShmId::from_raw(i32::MAX);
    assert_eq!(shmat(bad, ShmatFlag::empty()).err(), Some(Errno::EINVAL));
    assert_eq!(shmctl_stat(bad), Err(Errno::EINVAL));
    assert_eq!(shmctl_rmid(bad), Err(Errno::EINVAL));
}

#[test]
fn stat_reports_what_shmget_was_given() {
    let id = shmget(
        IPC_PRIVATE,
        100,
        ShmgetFlag::IPC_CREAT,
        Mode::from_bits_truncate(0o640),
    )
    .expect("create");
    let ds = shmctl_stat(id).expect("stat");
    shmctl_rmid(id).expect("remove");
    assert_eq!((ds.size, ds.permissions(), ds.nattch), (100, 0o640, 0));
    assert_eq!(ds.cpid, nix::unistd::getpid());
    assert!(!ds.marked_for_destruction());
}

#[test]
fn create_without_mode_bits_gives_mode_000() {
    let id = shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, Mode::empty()).expect("create");
    let mode = shmctl_stat(id).map(|ds| ds.permissions());
    shmctl_rmid(id).expect("remove");
    assert_eq!(mode, Ok(0));
}

#[test]
fn contents_are_shared_between_attachments_and_new_memory_is_zero() {
    let id = shmget(IPC_PRIVATE, 64, ShmgetFlag::IPC_CREAT, rw()).expect("create");
    let writer = shmat(id, ShmatFlag::empty()).expect("attach");
    let reader = shmat(id, ShmatFlag::SHM_RDONLY).expect("attach read-only");
    assert_eq!(reader.read_c_string(0), b"");
    writer.write(0, b"hello\0");
    assert_eq!(reader.read_c_string(0), b"hello");
    assert_eq!(
        (writer.len(), shmctl_stat(id).map(|ds| ds.nattch)),
        (64, Ok(2))
    );
    shmdt(writer).expect("detach");
    shmdt(reader).expect("detach");
    shmctl_rmid(id).expect("remove");
}

#[test]
fn rmid_while_attached_marks_for_destruction_and_frees_the_key() {
    private_ipc_namespace();
    let id = shmget(KEY, 32, ShmgetFlag::IPC_CREAT, rw()).expect("create");
    let attachment = shmat(id, ShmatFlag::empty()).expect("attach");
    shmctl_rmid(id).expect("remove while attached");

    // Still usable through its id and its attachment...
    let ds = shmctl_stat(id).expect("stat after IPC_RMID");
    assert!(ds.marked_for_destruction());
    assert_eq!((ds.key, ds.nattch), (IPC_PRIVATE, 1));
    attachment.write(0, b"still here\0");
    assert_eq!(attachment.read_c_string(0), b"still here");
    // ...but the key is free: finding it now fails.
    assert_eq!(
        shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty()),
        Err(Errno::ENOENT)
    );

    shmdt(attachment).expect("detach");
    assert_eq!(
        shmctl_stat(id),
        Err(Errno::EINVAL),
        "gone after the last detach"
    );
}

#[test]
fn detach_of_an_address_with_nothing_attached_is_einval() {
    let not_a_segment = 0u64;
    // SAFETY: nothing is attached there, so the kernel refuses and nothing is unmapped.
    let result = unsafe { shmdt_raw(std::ptr::from_ref(&not_a_segment).cast()) };
    assert_eq!(result, Err(Errno::EINVAL));
}

#[test]
#[should_panic(expected = "access to bytes 60..60+8 of a 64-byte segment")]
fn writing_past_the_end_panics_instead_of_corrupting_memory() {
    let id = shmget(IPC_PRIVATE, 64, ShmgetFlag::IPC_CREAT, rw()).expect("create");
    let attachment = shmat(id, ShmatFlag::empty()).expect("attach");
    // Removing first means the segment goes away with the panicking thread's process exit
    // at the latest; the test leaves nothing behind whatever happens.
    shmctl_rmid(id).expect("remove");
    attachment.write(60, &[1; 8]);
}

#[test]
fn atomics_in_the_segment_are_shared() {
    use std::sync::atomic::Ordering;
    let id = shmget(IPC_PRIVATE, 8, ShmgetFlag::IPC_CREAT, rw()).expect("create");
    let a = shmat(id, ShmatFlag::empty()).expect("attach");
    let b = shmat(id, ShmatFlag::empty()).expect("attach");
    shmctl_rmid(id).expect("remove");
    a.atomic_u32(4).store(7, Ordering::Release);
    assert_eq!(b.atomic_u32(4).load(Ordering::Acquire), 7);
    shmdt(a).expect("detach");
    shmdt(b).expect("detach");
}
