//! Which processes belong to the run, read from `/proc`.
//!
//! In the namespace tiers, `/proc` is the run's own (init mounts it for its PID namespace), so
//! every process it lists but init belongs to the run, under the pid the run sees (what
//! `getpid`, `waitpid` and the kernel's `cpid` show inside). In host mode there is no PID
//! namespace and `/proc` is the machine's; the run is then the sandbox's descendants, found by
//! following `PPid` (orphans stay descendants, since the sandbox is their subreaper).

use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A process as `/proc/PID/status` describes it.
#[derive(Clone, Debug)]
pub struct Process {
    /// The pid as the run sees it.
    pub pid: i32,
    /// The pid in the namespace of the mounted `/proc`.
    pub proc_pid: i32,
    pub parent: i32,
    pub name: String,
    /// Ended or ending: a zombie, or in the middle of `exit` (`PF_EXITING`). Such a process
    /// was not left running; it only waits to be reaped.
    pub exiting: bool,
}

/// The processes of the caller's PID namespace (whose init the caller is), but the caller.
pub fn in_my_pid_namespace() -> Vec<Process> {
    let me = std::process::id() as i32;
    let mut processes = all();
    processes.retain(|process| process.pid != me && process.pid != 1);
    processes
}

/// The name of the process with this pid in the run's `/proc` (a zombie included).
pub fn name_of(pid: i32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|name| name.trim_end().to_owned())
}

/// The pid in `/proc`'s namespace of the process with this pid in the caller's, with a pidfd
/// of that process: the pidfd's `fdinfo` tells the pid (Linux 5.3+). `None` when the process
/// is gone (or the kernel is older).
///
/// The pidfd names that very process: calls through it ([`exists`]) answer for it even after
/// its pid has gone to another process. It does not keep the pid from being reused: the
/// number is this process's only until it is reaped (while it runs, and as a zombie), so
/// `/proc/PID` read by number is read while the caller knows it has not been reaped.
///
/// A thread other than its process's first one has a pidfd only with `PIDFD_THREAD` (Linux
/// 6.9; the value of `O_EXCL`): without it the kernel answers `EINVAL`, and the thread would
/// be taken for a process of its own (a "child" the program never forked, nor waited for).
pub fn proc_pid(pid: i32) -> Option<(i32, OwnedFd)> {
    const PIDFD_THREAD: libc::c_long = libc::O_EXCL as libc::c_long;
    // SAFETY: pidfd_open takes two integers; the returned descriptor is owned below.
    let open = |flags: libc::c_long| unsafe { libc::syscall(libc::SYS_pidfd_open, pid, flags) };
    let fd = match open(0) {
        fd if fd >= 0 => fd,
        _ => open(PIDFD_THREAD),
    };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).ok()?;
    let proc_pid = field(&info, "Pid:")?.trim().parse::<i32>().ok()?;
    (proc_pid > 0).then_some((proc_pid, pidfd))
}

/// A field of `/proc/PID/status` (`"PPid:"`, `"Tgid:"`...), trimmed.
pub fn status_field(proc_pid: i32, name: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{proc_pid}/status")).ok()?;
    field(&status, name).map(|value| value.trim().to_owned())
}

/// The caller's descendants (no PID namespace: pids are the machine's).
pub fn my_descendants() -> Vec<Process> {
    let me = std::process::id() as i32;
    let processes = all();
    let parents: HashMap<i32, i32> = processes.iter().map(|p| (p.proc_pid, p.parent)).collect();
    let count = processes.len();
    let descends = |mut pid: i32| {
        // Bounded walk: a pid table has no cycles, but a racy read could make one.
        for _ in 0..count {
            match parents.get(&pid) {
                Some(&parent) if parent == me => return true,
                Some(&parent) if parent > 1 => pid = parent,
                _ => return false,
            }
        }
        false
    };
    processes
        .into_iter()
        .filter(|p| p.proc_pid != me && descends(p.proc_pid))
        .collect()
}

/// How many tasks (threads included: that is what `RLIMIT_NPROC` counts) have this real uid.
pub fn tasks_of_user(uid: u32) -> u64 {
    let mut count = 0;
    for pid in pids() {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let real_uid = field(&status, "Uid:").and_then(|uids| uids.split_whitespace().next());
        if real_uid == Some(uid.to_string().as_str()) {
            count += field(&status, "Threads:")
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(1);
        }
    }
    count
}

fn all() -> Vec<Process> {
    pids()
        .filter_map(|proc_pid| {
            // The process may end while we read: then it is simply not listed.
            let status = std::fs::read_to_string(format!("/proc/{proc_pid}/status")).ok()?;
            let name = field(&status, "Name:").unwrap_or("").trim().to_owned();
            let zombie = field(&status, "State:").is_some_and(|s| s.trim_start().starts_with('Z'));
            let exiting = zombie || is_exiting(proc_pid);
            let parent = field(&status, "PPid:")?.trim().parse().ok()?;
            let pid = field(&status, "NSpid:")
                .and_then(|pids| pids.split_whitespace().last())
                .and_then(|pid| pid.parse().ok())
                .unwrap_or(proc_pid);
            Some(Process {
                pid,
                proc_pid,
                parent,
                name,
                exiting,
            })
        })
        .collect()
}

/// Whether the process of this pidfd still exists (a zombie not yet reaped does).
pub fn exists(pidfd: &OwnedFd) -> bool {
    // SAFETY: signal 0 checks only; the null siginfo and zero flags are what the call documents.
    let sent = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            0,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    sent == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// The kernel's `PF_EXITING` task flag: set at the start of `exit`, before the process closes
/// its files and long before it is a zombie.
const PF_EXITING: u64 = 0x4;

/// Ended or ending: `PF_EXITING`, a zombie, or gone.
pub fn is_exiting(proc_pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{proc_pid}/stat")) else {
        return true; // gone already
    };
    // "pid (comm) state ppid pgrp session tty_nr tpgid flags ...": comm may hold anything,
    // so count fields from its closing parenthesis.
    let flags = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(6))
        .and_then(|flags| flags.parse::<u64>().ok());
    flags.is_some_and(|flags| flags & PF_EXITING != 0)
}

fn pids() -> impl Iterator<Item = i32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
}

fn field<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status.lines().find_map(|line| line.strip_prefix(name))
}
