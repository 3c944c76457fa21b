//! Resource limits: what stops a runaway program from hurting the machine.
//!
//! - `RLIMIT_AS` (address space), `RLIMIT_FSIZE` (file size) and `RLIMIT_CORE` (no core files)
//!   are set on every program. `RLIMIT_AS` does not touch `shmget` (the kernel answers a
//!   request for 10^18 bytes before any mapping), only what the program maps.
//! - Process count: `RLIMIT_NPROC` caps the tasks of the program's real user, but the kernel
//!   exempts the real root user. So as root the run goes into a `pids` cgroup with `pids.max`,
//!   when one can be made (cgroup v1 `pids` hierarchy, or v2 with the `pids` controller).
//!   Together with the step timeout, a fork bomb ends quickly and cannot use up the machine's
//!   pids.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::sys::resource::{Resource, setrlimit};

/// Most processes (threads included) a run may have at once, the grader's own included.
pub const MAX_TASKS: u64 = 64;
const ADDRESS_SPACE: u64 = 1 << 30;
const FILE_SIZE: u64 = 1 << 20;

/// The limits given to every program, decided before forking.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `RLIMIT_NPROC`, when the run's real user is not root (root ignores it).
    pub tasks: Option<u64>,
}

impl Limits {
    /// For a run by the calling process's real user.
    pub fn for_caller() -> Self {
        let uid = nix::unistd::getuid().as_raw();
        if uid == 0 && in_initial_user_namespace() {
            // The kernel ignores RLIMIT_NPROC for the machine's root (see PidsCgroup).
            return Limits { tasks: None };
        }
        // RLIMIT_NPROC counts the user's tasks; on kernels before 5.14 all of them on the
        // machine, since then those of the user namespace. Allowing the current count plus a
        // margin is right for both: the program gets its margin, the machine keeps its pids.
        Limits {
            tasks: Some(super::procs::tasks_of_user(uid) + MAX_TASKS),
        }
    }

    /// Applies the limits to the calling process (a forked child, before `exec`). Soft and
    /// hard limits alike, so the program cannot raise them again.
    pub fn apply(&self) -> nix::Result<()> {
        let lower = |resource, limit: u64| -> nix::Result<()> {
            let (_, hard) = nix::sys::resource::getrlimit(resource)?;
            let limit = limit.min(hard);
            setrlimit(resource, limit, limit)
        };
        lower(Resource::RLIMIT_AS, ADDRESS_SPACE)?;
        lower(Resource::RLIMIT_FSIZE, FILE_SIZE)?;
        lower(Resource::RLIMIT_CORE, 0)?;
        if let Some(tasks) = self.tasks {
            lower(Resource::RLIMIT_NPROC, tasks)?;
        }
        Ok(())
    }
}

/// True unless the caller is in a user namespace of its own (then even its uid 0 is an
/// ordinary user to the kernel, and RLIMIT_NPROC applies): the initial namespace maps every uid
/// to itself.
pub fn in_initial_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| {
        let fields: Vec<&str> = map.split_whitespace().collect();
        fields == ["0", "0", "4294967295"]
    })
}

/// A `pids` cgroup holding the sandbox process (and so everything it starts), removed on drop.
#[derive(Debug)]
pub struct PidsCgroup {
    dir: PathBuf,
    /// Where the sandbox was before, to go back to so the cgroup can be removed.
    home: PathBuf,
    /// The parent removes the cgroup once the sandbox has exited ([`remove_sandbox_cgroup`]),
    /// which spares a second move (each move can cost the kernel an RCU grace period, ~10 ms).
    removed_by_parent: bool,
}

impl PidsCgroup {
    /// Makes a cgroup next to the caller's, limited to [`MAX_TASKS`], and moves the caller in.
    pub fn enter(removed_by_parent: bool) -> Result<Self> {
        let Location { parent, home } = locate()?;
        remove_abandoned(&parent);
        let dir = parent.join(format!("{PREFIX}{}", std::process::id()));
        std::fs::create_dir(&dir).with_context(|| format!("Failed to create {}", dir.display()))?;
        let cgroup = PidsCgroup {
            dir,
            home,
            removed_by_parent,
        };
        write(&cgroup.dir.join("pids.max"), &MAX_TASKS.to_string())?;
        write(
            &cgroup.dir.join("cgroup.procs"),
            &std::process::id().to_string(),
        )?;
        Ok(cgroup)
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        if self.removed_by_parent {
            return;
        }
        // Every process of the runs has been reaped by now; only the sandbox is left inside.
        let _ = write(
            &self.home.join("cgroup.procs"),
            &std::process::id().to_string(),
        );
        remove_dir(&self.dir);
    }
}

/// Removes the cgroup of the sandbox `pid` (a child of the caller, which has exited).
pub fn remove_sandbox_cgroup(pid: u32) {
    if let Ok(Location { parent, .. }) = locate() {
        remove_dir(&parent.join(format!("{PREFIX}{pid}")));
    }
}

fn remove_dir(dir: &Path) {
    // The kernel may still be releasing the last exited tasks: a few bounded retries.
    for _ in 0..100 {
        match std::fs::remove_dir(dir) {
            Err(error) if error.raw_os_error() == Some(libc::EBUSY) => std::thread::yield_now(),
            _ => break,
        }
    }
}

/// Our cgroups are named this, then the sandbox's pid.
const PREFIX: &str = "shmlab-sandbox-";

/// Removes the (empty) cgroups of sandboxes that were killed before they could: those whose
/// pid is gone. A cgroup still in use cannot be removed anyway (EBUSY).
fn remove_abandoned(home: &Path) {
    let Ok(entries) = std::fs::read_dir(home) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|name| name.strip_prefix(PREFIX)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

/// Where to make the sandbox's cgroup, and where the caller is now (to go back to).
#[derive(Debug, PartialEq, Eq)]
struct Location {
    parent: PathBuf,
    home: PathBuf,
}

/// Where the cgroup file systems are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Finds a `pids` hierarchy for the caller: see [`locate_in`].
fn locate() -> Result<Location> {
    let membership =
        std::fs::read_to_string("/proc/self/cgroup").context("Failed to read /proc/self/cgroup")?;
    locate_in(&membership, Path::new(CGROUP_ROOT))
}

/// Finds a `pids` hierarchy, given the caller's `/proc/self/cgroup` and where the cgroup file
/// systems are mounted: cgroup v1's `pids` mount (`ROOT/pids`, next to the caller's cgroup),
/// or cgroup v2 (`ROOT` itself) where the root hands the `pids` controller down (then under
/// the root: the caller's own cgroup is usually a leaf, such as a systemd session scope, which
/// cannot).
fn locate_in(membership: &str, root: &Path) -> Result<Location> {
    for line in membership.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let path = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "pids") {
            let mount = root.join("pids");
            if mount.join("cgroup.procs").exists() {
                let home = mount.join(path);
                return Ok(Location {
                    parent: home.clone(),
                    home,
                });
            }
        }
        if controllers.is_empty() {
            let delegated = std::fs::read_to_string(root.join("cgroup.subtree_control"))
                .is_ok_and(|c| c.split_whitespace().any(|c| c == "pids"));
            if delegated {
                return Ok(Location {
                    parent: root.to_path_buf(),
                    home: root.join(path),
                });
            }
        }
    }
    bail!("no writable pids cgroup hierarchy")
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)
        .with_context(|| format!("Failed to write {text} to {}", path.display()))
}

#[cfg(test)]
mod tests;
