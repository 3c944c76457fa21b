#![cfg(feature = "instructor")]
//! Grading never touches the machine's own segments, even one with an exercise's key.
//!
//! This test works on the host's IPC namespace on purpose: it makes (only if absent) a segment
//! with key 9990, the key of create, attach and remove, fills it with a pattern, grades those
//! three exercises' solutions (remove would delete it, attach would overwrite it, if they ran
//! on the host), and checks that it is byte for byte what it was. It removes the segment after
//! if it made it, and leaves an existing one as it found it.

mod grading_common;

use grader::build::{Target, build_programs};
use grader::exercises::{self, Exercise};
use grader::grade::{Program, grade_exercises};
use grader::report::{ExerciseStatus, Source};
use grading_common::*;
use sysv::{Errno, Mode, ShmatFlag, ShmgetFlag};

const KEY: i32 = 9990;

/// Removes the segment when dropped, so a failing assertion does not leak it.
struct Made(sysv::ShmId);

impl Drop for Made {
    fn drop(&mut self) {
        let _ = sysv::shmctl_rmid(self.0);
    }
}

fn snapshot(id: sysv::ShmId) -> (sysv::ShmidDs, Vec<u8>) {
    let status = sysv::shmctl_stat(id).expect("IPC_STAT of the host segment");
    let attachment =
        sysv::shmat(id, ShmatFlag::SHM_RDONLY).expect("attach the host segment read-only");
    let mut bytes = vec![0; attachment.len()];
    attachment.read(0, &mut bytes);
    sysv::shmdt(attachment).expect("detach");
    (status, bytes)
}

/// Two runs of the suite at once would share the host's key 9990: one would remove the segment
/// the other is watching. A lock file makes them take turns.
fn host_key_lock() -> nix::fcntl::Flock<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/shmlab-grading-host-safety.lock")
        .expect("the lock file");
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, errno)| errno)
        .expect("flock")
}

#[test]
fn a_host_segment_with_an_exercise_key_is_untouched() {
    let _turn = host_key_lock();
    let created = match sysv::shmget(
        KEY,
        1024,
        ShmgetFlag::IPC_CREAT | ShmgetFlag::IPC_EXCL,
        Mode::from_bits_truncate(0o600),
    ) {
        Ok(id) => {
            let attachment = sysv::shmat(id, ShmatFlag::empty()).expect("attach");
            let pattern: Vec<u8> = (0..1024u32).map(|at| (at * 7 % 251) as u8).collect();
            attachment.write(0, &pattern);
            sysv::shmdt(attachment).expect("detach");
            Some(Made(id))
        }
        Err(Errno::EEXIST) => None,
        Err(errno) => panic!("shmget on the host: {errno}"),
    };
    let id = sysv::shmget(KEY, 0, ShmgetFlag::empty(), Mode::empty()).expect("the host segment");
    let (status_before, bytes_before) = snapshot(id);

    let all = exercises::all().expect("the exercise table");
    let chosen: Vec<&Exercise> = all
        .iter()
        .filter(|exercise| ["create", "attach", "remove"].contains(&exercise.name()))
        .collect();
    let target = Target {
        source: Source::Solutions,
        root: root(),
        target_dir: None,
    };
    let (programs, _) = build_programs(&target, &chosen).expect("cargo runs");
    let work: Vec<(&Exercise, Program)> = chosen.into_iter().zip(programs).collect();
    let results = grade_exercises(&options(), &work, |_| {});

    let (status_after, bytes_after) = snapshot(id);
    assert!(
        bytes_after == bytes_before,
        "the host segment's bytes changed"
    );
    assert_eq!(status_after.size, status_before.size);
    assert_eq!(
        status_after.mode, status_before.mode,
        "mode (and SHM_DEST) unchanged"
    );
    assert_eq!(
        status_after.ctime, status_before.ctime,
        "no IPC_SET or IPC_RMID"
    );
    assert_eq!(status_after.nattch, status_before.nattch);
    for result in &results {
        assert_eq!(
            result.status,
            ExerciseStatus::Passed,
            "{}: {}",
            result.name,
            result.message
        );
    }
    drop(created);
}
