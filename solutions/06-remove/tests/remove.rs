//! Runs the `remove` solution as a process, in a private IPC namespace per test, against
//! segments the test makes (and sometimes keeps attached), and checks output, exit status and
//! what is left in the kernel.

use assert_cmd::Command;
use grader::exercises::spec::remove::{KEY, MARKED, MISSING, REMOVED, STATUS};
use grader::exercises::spec::{fill, fill_key};
use sysv::testing::segment_count;
use sysv::{Errno, Key, Mode, ShmId, ShmatFlag, ShmgetFlag};

fn make_segment(key: Key, size: usize) -> ShmId {
    sysv::testing::make_segment(key, size, 0o666)
}

/// The two lines about segment `id` (made by this test, of `size` bytes, with `key`), with
/// `nattch` attachments: its status, then `Removed` or marked for destruction.
fn expected_output(id: ShmId, key: Key, size: usize, nattch: u64) -> String {
    let status = fill(
        &fill_key(STATUS, key),
        &[
            ("id", &id),
            ("size", &size),
            ("pid", &std::process::id()),
            ("nattch", &nattch),
        ],
    );
    let outcome = if nattch == 0 { REMOVED } else { MARKED };
    format!("{status}\n{}\n", fill(outcome, &[("id", &id)]))
}

fn remove(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("remove-solution")
        .expect("built")
        .args(args)
        .assert()
}

#[test]
fn prints_the_status_and_removes_the_default_key() {
    sysv::testing::private_ipc_namespace();
    let id = make_segment(KEY, 1024);

    remove(&[])
        .success()
        .stderr("")
        .stdout(expected_output(id, KEY, 1024, 0));

    assert_eq!(
        sysv::shmctl_stat(id),
        Err(Errno::EINVAL),
        "the segment is gone"
    );
    assert_eq!(segment_count(), 0);
}

#[test]
fn takes_the_key_in_decimal_or_hexadecimal() {
    sysv::testing::private_ipc_namespace();

    for (key, arg) in [(2004, "0x7d4"), (24601, "24601")] {
        let id = make_segment(key, 4);
        let keep = make_segment(KEY, 1024);
        remove(&[arg])
            .success()
            .stdout(expected_output(id, key, 4, 0));
        assert_eq!(sysv::shmctl_stat(id), Err(Errno::EINVAL), "{arg} is gone");
        assert!(
            sysv::shmctl_stat(keep).is_ok(),
            "only the named segment is removed"
        );
        sysv::shmctl_rmid(keep).expect("clean up");
    }
}

#[test]
fn an_attached_segment_is_only_marked_for_destruction() {
    sysv::testing::private_ipc_namespace();
    let id = make_segment(KEY, 1024);
    let attachment = sysv::shmat(id, ShmatFlag::empty()).expect("attach");
    attachment.write(0, b"still here\0");

    remove(&[])
        .success()
        .stdout(expected_output(id, KEY, 1024, 1));

    let status = sysv::shmctl_stat(id).expect("still there while attached");
    assert!(status.marked_for_destruction());
    assert_eq!(status.key, sysv::IPC_PRIVATE, "its key is freed at once");
    assert_eq!(
        sysv::shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty()),
        Err(Errno::ENOENT)
    );
    assert_eq!(attachment.read_c_string(0), b"still here", "still usable");

    sysv::shmdt(attachment).expect("detach");
    assert_eq!(
        sysv::shmctl_stat(id),
        Err(Errno::EINVAL),
        "gone at the last detach"
    );
}

#[test]
fn a_missing_segment_is_an_error_and_nothing_is_created() {
    sysv::testing::private_ipc_namespace();

    remove(&[])
        .code(1)
        .stdout("")
        .stderr(format!("{}\n", fill_key(MISSING, KEY)));
    remove(&["0x3e9"])
        .code(1)
        .stderr(format!("{}\n", fill_key(MISSING, 0x3e9)));
    assert_eq!(segment_count(), 0);
}

#[test]
fn bad_arguments_are_usage_errors_and_remove_nothing() {
    sysv::testing::private_ipc_namespace();
    let id = make_segment(KEY, 1024);

    for arg in ["abc", "0x", "0xzz", "99999999999", "12abc", ""] {
        remove(&[arg]).code(2).stdout("").stderr(format!(
            "error: parsing the key \"{arg}\": not a decimal or 0x-hexadecimal number\n"
        ));
    }
    remove(&["0"])
        .code(2)
        .stderr(predicates::str::contains("IPC_PRIVATE"));
    remove(&["9990", "9990"])
        .code(2)
        .stdout("")
        .stderr(predicates::str::starts_with("usage: remove [KEY]"));

    assert!(sysv::shmctl_stat(id).is_ok(), "the segment is untouched");
    assert_eq!(segment_count(), 1);
}
