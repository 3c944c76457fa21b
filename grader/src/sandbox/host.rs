//! Host mode: the run shares the machine's IPC namespace, because the kernel allowed no other.
//!
//! What it promises, since the machine's own segments are then within the program's reach:
//! - Runs in host mode are serialised across processes (an exclusive `flock` on [`LOCK_PATH`]),
//!   so two gradings never share a key.
//! - A scenario is refused, before anything runs, when one of its keys (setup keys and
//!   [`Scenario::keys`]) already names a segment on the machine: the program would use it, and
//!   might remove it.
//! - After the run, only segments the run created are reported and removed: those not present
//!   before, changed no earlier than the run's start, and created by the sandbox (setup) or by a
//!   process of the run — the program, or any process the sandbox reaped or saw among its
//!   descendants (it is their subreaper, so orphans come back to it). Nothing else is touched.

use std::collections::HashSet;
use std::fs::File;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use nix::fcntl::{Flock, FlockArg};
use sysv::{Attachment, Errno, ShmId};

use crate::proc_shm::{self, ShmEntry};
use crate::scenario::{Scenario, SegmentState};

/// The lock that serialises host-mode runs of every grader on the machine.
pub const LOCK_PATH: &str = "/tmp/shmlab-grader-host-mode.lock";

pub struct HostRun {
    _lock: Flock<File>,
    /// Segment ids that existed before the run.
    before: HashSet<i32>,
    /// When the run started, in the kernel's `ctime` unit (seconds since the epoch).
    started: i64,
    /// Every pid known to belong to the run.
    pids: HashSet<i32>,
    /// The setup segments, created by the sandbox itself.
    setup: HashSet<i32>,
}

impl HostRun {
    /// Takes the lock and checks that no key of the scenario is in use on the machine.
    pub fn begin(scenario: &Scenario) -> Result<Self> {
        let lock = Flock::lock(open_lock_file()?, FlockArg::LockExclusive)
            .map_err(|(_, errno)| errno)
            .with_context(|| format!("Failed to lock {LOCK_PATH}"))?;
        // A second early: the kernel stamps ctime from its coarse clock (updated at each
        // tick), which may still show the previous second when ours has moved on.
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
            - 1;
        let entries = proc_shm::read()?;
        let keys = scenario
            .setup
            .iter()
            .map(|segment| segment.key)
            .chain(scenario.keys.iter().copied());
        for key in keys.filter(|&key| key != sysv::IPC_PRIVATE) {
            if let Some(entry) = entries.iter().find(|entry| entry.key == key) {
                bail!(
                    "key {key:#x} ({key}) already names segment {} on this machine (created by \
                     pid {}, user {}), and the grader cannot isolate this run: the kernel allows \
                     it no private IPC namespace. It will not run a program that could use or \
                     remove someone else's segment. If that segment is a leftover of yours, \
                     remove it (ipcrm -m {}); or run the grader where user namespaces are \
                     allowed (or as root)",
                    entry.shmid,
                    entry.cpid,
                    entry.cuid,
                    entry.shmid
                );
            }
        }
        Ok(HostRun {
            _lock: lock,
            before: entries.iter().map(|entry| entry.shmid).collect(),
            started,
            pids: HashSet::from([std::process::id() as i32]),
            setup: HashSet::new(),
        })
    }

    pub fn note_pid(&mut self, pid: i32) {
        self.pids.insert(pid);
    }

    pub fn created_setup_segment(&mut self, id: ShmId) {
        self.setup.insert(id.as_raw());
    }

    pub fn created_by_run(&self, entry: &ShmEntry) -> bool {
        self.setup.contains(&entry.shmid)
            || (!self.before.contains(&entry.shmid)
                && entry.ctime >= self.started
                && self.pids.contains(&entry.cpid))
    }

    /// Detaches the held setup segments and removes every segment the run created.
    pub fn clean_up(
        &mut self,
        held: Vec<(ShmId, Attachment)>,
        left: &[SegmentState],
    ) -> Result<()> {
        for (_, attachment) in held {
            sysv::shmdt(attachment).context("Failed to detach a setup segment")?;
        }
        // Setup segments go even when the table could not be read.
        let mut ids: Vec<i32> = left.iter().map(|segment| segment.entry.shmid).collect();
        ids.extend(self.setup.iter().copied());
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            match sysv::shmctl_rmid(ShmId::from_raw(id)) {
                Ok(()) | Err(Errno::EINVAL) | Err(Errno::EIDRM) => {}
                Err(errno) => {
                    bail!(
                        "Failed to remove segment {id}, created by this run, from the machine: {errno}"
                    )
                }
            }
        }
        Ok(())
    }
}

/// Opens the lock file, creating it readable by all (a read-only descriptor is enough to
/// `flock`, and other users' graders must be able to open it too).
fn open_lock_file() -> Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    for _ in 0..3 {
        match File::open(LOCK_PATH) {
            Ok(file) => return Ok(file),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error).with_context(|| format!("Failed to open {LOCK_PATH}")),
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(LOCK_PATH)
        {
            Ok(file) => {
                // The umask may have taken bits away.
                let _ = file.set_permissions(std::fs::Permissions::from_mode(0o644));
                return Ok(file);
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                return Err(error).with_context(|| format!("Failed to create {LOCK_PATH}"));
            }
        }
    }
    bail!("Failed to open {LOCK_PATH}: it keeps appearing and disappearing")
}
