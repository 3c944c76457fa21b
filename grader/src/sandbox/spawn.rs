//! Starting the program under test: fork, set its limits and standard streams, exec.
//!
//! Done by hand rather than with `std::process::Command` because the sandbox's init must reap
//! *every* child with `waitpid(-1)` (orphans included), which `Command`'s own bookkeeping does
//! not allow, and because the child needs a few calls `Command` does not offer in the right
//! order (a controlling terminal, CPU affinity, rlimits). The caller is single-threaded, so
//! the child may allocate between fork and exec.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::{CpuSet, sched_setaffinity};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
use nix::sys::wait::WaitStatus;
use nix::unistd::{ForkResult, Pid, fork, pipe2};

use super::confine::Confinement;
use super::limits::Limits;
use super::trace::Handshake;

// `ioctl(fd, TIOCSCTTY, 0)`: makes the terminal `fd` the caller's controlling terminal
// (tty_ioctl(4)); the argument 0 steals it from no one.
nix::ioctl_write_int_bad!(tiocsctty, libc::TIOCSCTTY);

/// The program's standard streams, as the child must see them.
pub enum Stdio<'a> {
    /// stdin at end of file; stdout and stderr to these pipes.
    Pipes {
        stdin: &'a OwnedFd,
        stdout: &'a OwnedFd,
        stderr: &'a OwnedFd,
    },
    /// All three on this terminal, which becomes the program's controlling terminal.
    Terminal { slave: &'a OwnedFd },
}

/// Where starting failed: sent from the child to the parent, as one byte before the errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Stage {
    /// The signal mask and SIGPIPE's disposition, reset to a shell's defaults.
    Preparing,
    /// stdin, stdout and stderr: the pipes, or the terminal as the controlling one.
    Streams,
    /// The rlimits.
    Limits,
    /// CPU affinity.
    Cpu,
    /// Waiting for the tracer to seize it, and the lens's seccomp filter.
    Lens,
    /// Its uid, no capabilities, no_new_privs, the deny filter.
    Confining,
    /// execve itself.
    Exec,
}

impl Stage {
    const ALL: [Stage; 7] = [
        Stage::Preparing,
        Stage::Streams,
        Stage::Limits,
        Stage::Cpu,
        Stage::Lens,
        Stage::Confining,
        Stage::Exec,
    ];

    /// The stage a byte from the child names; `None` for a byte no stage sends.
    fn from_byte(byte: u8) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| *stage as u8 == byte)
    }

    /// What the program's start was doing, for the error message.
    fn doing(self) -> &'static str {
        match self {
            Stage::Preparing => "preparing",
            Stage::Streams => "setting up its standard streams",
            Stage::Limits => "setting its resource limits",
            Stage::Cpu => "pinning it to a CPU",
            Stage::Lens => "starting the system-call lens",
            Stage::Confining => "confining it (uid, capabilities, seccomp)",
            Stage::Exec => "running it (exec)",
        }
    }
}

/// A started program.
pub struct Spawned {
    pub pid: Pid,
    /// With a [`Handshake`]: `Ok` when traced, else why not.
    pub traced: Option<Result<(), String>>,
}

/// Forks and execs `program args`; returns its pid once `exec` has succeeded. With a
/// `handshake`, the program is traced (it then stops at its `exec`, for the tracer to resume).
pub fn spawn(
    program: &Path,
    args: &[String],
    stdio: Stdio<'_>,
    limits: &Limits,
    confinement: &Confinement,
    pin_cpu: Option<usize>,
    handshake: Option<Handshake>,
) -> Result<Spawned> {
    let path = CString::new(program.as_os_str().as_bytes())
        .with_context(|| format!("the program path {} contains a NUL byte", program.display()))?;
    let mut argv = vec![path.clone()];
    for arg in args {
        argv.push(
            CString::new(arg.as_str())
                .with_context(|| format!("argument {arg:?} contains a NUL byte"))?,
        );
    }
    let cpus = match pin_cpu {
        Some(cpu) => {
            let mut set = CpuSet::new();
            set.set(cpu)
                .with_context(|| format!("CPU {cpu} is out of range"))?;
            Some(set)
        }
        None => None,
    };
    // The child reports a failure before or at exec through this pipe; exec closes it
    // (O_CLOEXEC), so end of file means the program is running.
    let (report_read, report_write) = pipe2(OFlag::O_CLOEXEC).context("Failed to create a pipe")?;
    // SAFETY: the caller is single-threaded, so the child may do anything the parent could.
    match unsafe { fork() }.context("Failed to fork the program")? {
        ForkResult::Child => {
            drop(report_read);
            let Err((stage, errno)) = exec_child(
                &path,
                &argv,
                &stdio,
                limits,
                confinement,
                cpus.as_ref(),
                handshake.as_ref(),
            );
            let mut message = [0u8; 5];
            message[0] = stage as u8;
            message[1..].copy_from_slice(&(errno as i32).to_ne_bytes());
            let _ = nix::unistd::write(&report_write, &message);
            // SAFETY: _exit ends the child without running the parent's atexit handlers or
            // flushing its buffers (the sandbox's stdout is the grader's JSON channel).
            unsafe { libc::_exit(127) }
        }
        ForkResult::Parent { child } => {
            drop(report_write);
            let traced = handshake.map(|handshake| handshake.in_parent(child));
            let mut message = [0u8; 5];
            let mut got = 0;
            while got < message.len() {
                match nix::unistd::read(&report_read, &mut message[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(Errno::EINTR) => continue,
                    Err(errno) => bail!("Failed to read from the program's start pipe: {errno}"),
                }
            }
            if got == 0 {
                return Ok(Spawned { pid: child, traced });
            }
            if matches!(traced, Some(Ok(()))) {
                // A traced child stops on its way out: end it for good.
                let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
            }
            let flags = nix::sys::wait::WaitPidFlag::__WALL;
            while let Ok(status) = nix::sys::wait::waitpid(child, Some(flags)) {
                match status {
                    WaitStatus::Exited(..) | WaitStatus::Signaled(..) => break,
                    // Killed, it may still stop once at its exit.
                    _ => {
                        let _ = nix::sys::ptrace::cont(child, None);
                    }
                }
            }
            let stage = Stage::from_byte(message[0]).map_or("starting it", Stage::doing);
            let errno = Errno::from_raw(i32::from_ne_bytes([
                message[1], message[2], message[3], message[4],
            ]));
            bail!(
                "Failed to start {} ({stage}): {} ({errno})",
                program.display(),
                errno.desc()
            )
        }
    }
}

/// In the child: only returns on failure, with the stage and errno.
fn exec_child(
    path: &CString,
    argv: &[CString],
    stdio: &Stdio<'_>,
    limits: &Limits,
    confinement: &Confinement,
    cpus: Option<&CpuSet>,
    handshake: Option<&Handshake>,
) -> Result<std::convert::Infallible, (Stage, Errno)> {
    // The sandbox blocks SIGCHLD (it reads it from a signalfd) and Rust ignores SIGPIPE: a
    // program must start with the defaults, as from a shell.
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .map_err(|e| (Stage::Preparing, e))?;
    // SAFETY: setting a default disposition installs no handler.
    unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) }.map_err(|e| (Stage::Preparing, e))?;
    match stdio {
        Stdio::Pipes {
            stdin,
            stdout,
            stderr,
        } => {
            redirect(stdin.as_raw_fd(), 0).map_err(|e| (Stage::Streams, e))?;
            redirect(stdout.as_raw_fd(), 1).map_err(|e| (Stage::Streams, e))?;
            redirect(stderr.as_raw_fd(), 2).map_err(|e| (Stage::Streams, e))?;
        }
        Stdio::Terminal { slave } => {
            nix::unistd::setsid().map_err(|e| (Stage::Streams, e))?;
            // SAFETY: TIOCSCTTY takes an int argument, no pointer; `slave` is an open terminal.
            unsafe { tiocsctty(slave.as_raw_fd(), 0) }.map_err(|e| (Stage::Streams, e))?;
            for target in 0..3 {
                redirect(slave.as_raw_fd(), target).map_err(|e| (Stage::Streams, e))?;
            }
        }
    }
    // Only 0, 1 and 2 reach the program, whatever the grader inherited (cargo's jobserver
    // pipes, for one). Best effort: close_range is Linux 5.11+, and exec closes ours anyway.
    // SAFETY: marks descriptors close-on-exec; no memory is touched.
    let _ = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    limits.apply().map_err(|e| (Stage::Limits, e))?;
    if let Some(cpus) = cpus {
        sched_setaffinity(Pid::from_raw(0), cpus).map_err(|e| (Stage::Cpu, e))?;
    }
    // Init seizes the child before its credentials change (see `Handshake::wait_for_tracer`).
    let traced = match handshake {
        Some(handshake) => handshake.wait_for_tracer().map_err(|e| (Stage::Lens, e))?,
        None => false,
    };
    // Then the program's uid, no capabilities, no_new_privs, the deny filter, its scratch
    // folder; a seized child stays traced through the change of credentials.
    confinement.enter().map_err(|e| (Stage::Confining, e))?;
    // Last before exec: the lens's seccomp filter (which stops the traced calls), stacked on
    // the deny filter, whose refusals still win.
    if let Some(handshake) = handshake {
        handshake
            .install_filter(traced)
            .map_err(|e| (Stage::Lens, e))?;
    }
    let Err(errno) = nix::unistd::execve(path, argv, &confinement.environment);
    Err((Stage::Exec, errno))
}

/// `dup2(from, to)`; the copy does not have `O_CLOEXEC`, so it survives exec.
fn redirect(from: RawFd, to: RawFd) -> nix::Result<()> {
    if from == to {
        // dup2 would do nothing, leaving O_CLOEXEC set: clear it instead.
        // SAFETY: F_SETFD on a descriptor number; no pointers.
        return Errno::result(unsafe { libc::fcntl(from, libc::F_SETFD, 0) }).map(drop);
    }
    // SAFETY: plain descriptor numbers; `to` is one of 0, 1, 2, which the child owns.
    Errno::result(unsafe { libc::dup2(from, to) }).map(drop)
}
