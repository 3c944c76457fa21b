//! Turning a stopped call's number, arguments and result into a [`Call`]: what strace prints,
//! as data. Buffers (a write's bytes, a sleep's `timespec`) are read from the tracee's memory
//! with `process_vm_readv`, or word by word with `PTRACE_PEEKDATA` when that is refused (a
//! tracee that changed its user is not readable by `process_vm_readv` without
//! `CAP_SYS_PTRACE`, but stays readable by its tracer).

use std::time::Duration;

use nix::sys::uio::{RemoteIoVec, process_vm_readv};
use nix::unistd::Pid;

use super::arch::Syscall;
use crate::scenario::{Call, Returned, SyscallKind};

/// At most this many `iovec`s of a `writev` are read.
const MAX_IOVECS: usize = 16;

/// Reads `len` bytes at `addr` in the tracee; fewer if some are not readable.
pub fn read_memory(pid: Pid, addr: u64, len: usize) -> Vec<u8> {
    if addr == 0 || len == 0 {
        return Vec::new();
    }
    let mut buffer = vec![0u8; len];
    let remote = [RemoteIoVec {
        base: addr as usize,
        len,
    }];
    if let Ok(n) = process_vm_readv(pid, &mut [std::io::IoSliceMut::new(&mut buffer)], &remote) {
        buffer.truncate(n);
        return buffer;
    }
    // Word by word, as the tracer.
    let word = std::mem::size_of::<libc::c_long>();
    buffer.clear();
    let mut at = addr;
    while buffer.len() < len {
        let Ok(value) = nix::sys::ptrace::read(pid, at as nix::sys::ptrace::AddressType) else {
            break;
        };
        let bytes = value.to_ne_bytes();
        let take = (len - buffer.len()).min(word);
        buffer.extend_from_slice(&bytes[..take]);
        at += word as u64;
    }
    buffer
}

fn read_u64(pid: Pid, addr: u64) -> Option<u64> {
    let bytes = read_memory(pid, addr, 8);
    Some(u64::from_ne_bytes(bytes.try_into().ok()?))
}

fn read_i32(pid: Pid, addr: u64) -> Option<i32> {
    let bytes = read_memory(pid, addr, 4);
    Some(i32::from_ne_bytes(bytes.try_into().ok()?))
}

/// A `struct timespec` (or, with `micros`, a `struct timeval`) in the tracee.
fn read_time(pid: Pid, addr: u64, micros: bool) -> Option<Duration> {
    let seconds = read_u64(pid, addr)? as i64;
    let fraction = read_u64(pid, addr + 8)? as i64;
    let nanos = if micros {
        fraction.checked_mul(1000)?
    } else {
        fraction
    };
    if seconds < 0 || !(0..1_000_000_000).contains(&nanos) {
        return None;
    }
    Some(Duration::new(seconds as u64, nanos as u32))
}

/// An absolute time on `clock`, as the time left from now.
fn until(clock: libc::clockid_t, deadline: Duration) -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which we own.
    if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
        return deadline;
    }
    deadline.saturating_sub(Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

/// How long a sleep-family call asked to wait.
fn sleep_duration(pid: Pid, name: &str, args: &[u64; 6]) -> Option<Duration> {
    const TIMER_ABSTIME: u64 = 1;
    const FUTEX_WAIT_BITSET: u64 = 9;
    const FUTEX_CLOCK_REALTIME: u64 = 256;
    match name {
        "nanosleep" => read_time(pid, args[0], false),
        "clock_nanosleep" => {
            let time = read_time(pid, args[2], false)?;
            Some(if args[1] & TIMER_ABSTIME != 0 {
                until(args[0] as libc::clockid_t, time)
            } else {
                time
            })
        }
        "futex" => {
            let time = read_time(pid, args[3], false)?;
            Some(if args[1] & 0x7f == FUTEX_WAIT_BITSET {
                let clock = if args[1] & FUTEX_CLOCK_REALTIME != 0 {
                    libc::CLOCK_REALTIME
                } else {
                    libc::CLOCK_MONOTONIC
                };
                until(clock, time)
            } else {
                time
            })
        }
        "poll" | "epoll_wait" | "epoll_pwait" => {
            let index = if name == "poll" { 2 } else { 3 };
            Some(Duration::from_millis(u64::from(args[index] as u32)))
        }
        "ppoll" => read_time(pid, args[2], false),
        "pselect6" => read_time(pid, args[4], false),
        "select" => read_time(pid, args[4], true),
        _ => None,
    }
}

/// The bytes a `write`/`writev` of `written` bytes wrote, at most `limit`.
fn written_bytes(pid: Pid, name: &str, args: &[u64; 6], written: u64, limit: usize) -> Vec<u8> {
    let wanted = (written as usize).min(limit);
    if name == "write" {
        return read_memory(pid, args[1], wanted);
    }
    let count = (args[2] as usize).min(MAX_IOVECS);
    let iovecs = read_memory(pid, args[1], count * 16);
    let mut bytes = Vec::new();
    for iovec in iovecs.chunks_exact(16) {
        if bytes.len() >= wanted {
            break;
        }
        let base = u64::from_ne_bytes(iovec[..8].try_into().unwrap_or_default());
        let len = u64::from_ne_bytes(iovec[8..].try_into().unwrap_or_default()) as usize;
        let take = len.min(wanted - bytes.len());
        bytes.extend(read_memory(pid, base, take));
    }
    bytes
}

/// The result of a call as the kernel returned it: a value, or `-errno`.
fn returned(value: i64) -> Returned<i64> {
    if (-4095..0).contains(&value) {
        Err(-value as i32)
    } else {
        Ok(value)
    }
}

/// The call's [`Call`], given its result and, for a sleep, the time it asked for (read at
/// entry: see [`sleep_at_entry`]). `reaped` maps a reaped pid to its index in the trace;
/// `Fork` calls are recorded from the fork event instead, and give `None` here when they
/// succeeded.
pub fn call(
    pid: Pid,
    syscall: &Syscall,
    args: &[u64; 6],
    result: i64,
    slept: Option<Duration>,
    reaped: impl Fn(i32) -> Option<usize>,
) -> Option<Call> {
    let result = returned(result);
    let name = syscall.name.to_owned();
    Some(match syscall.kind {
        SyscallKind::Shmget => Call::Shmget {
            key: args[0] as i32,
            size: args[1],
            flags: args[2] as i32,
            result: result.map(|id| id as i32),
        },
        SyscallKind::Shmat => Call::Shmat {
            id: args[0] as i32,
            addr: args[1],
            flags: args[2] as i32,
            result: result.map(|addr| addr as u64),
        },
        SyscallKind::Shmdt => Call::Shmdt {
            addr: args[0],
            result: result.map(drop),
        },
        SyscallKind::Shmctl => Call::Shmctl {
            id: args[0] as i32,
            cmd: args[1] as i32,
            result,
        },
        SyscallKind::Write => {
            let text = match result {
                Ok(n) => String::from_utf8_lossy(&written_bytes(
                    pid,
                    syscall.name,
                    args,
                    n as u64,
                    Call::WRITE_BYTES,
                ))
                .into_owned(),
                Err(_) => String::new(),
            };
            Call::Write {
                fd: args[0] as i32,
                text,
                result: result.map(|n| n as u64),
            }
        }
        SyscallKind::Wait => {
            let (asked, got) = if syscall.name == "waitid" {
                const P_ALL: u64 = 0;
                let asked = if args[0] == P_ALL {
                    -1
                } else {
                    i64::from(args[1] as i32)
                };
                // waitid returns 0; the pid reaped is the siginfo's si_pid (offset 16).
                let got = result.map(|_| read_i32(pid, args[2] + 16).unwrap_or(0));
                (asked, got)
            } else {
                (i64::from(args[0] as i32), result.map(|pid| pid as i32))
            };
            Call::Wait {
                syscall: name,
                pid: asked,
                reaped: got.ok().and_then(&reaped),
                result: got,
            }
        }
        SyscallKind::Sleep => Call::Sleep {
            duration: slept,
            syscall: name,
            result,
        },
        SyscallKind::Fork => match result {
            Ok(_) => return None,
            Err(errno) => Call::Fork {
                syscall: name,
                result: Err(errno),
            },
        },
        // Recorded from ptrace events, not from the call.
        SyscallKind::Exit | SyscallKind::Exec => return None,
    })
}

/// How long a sleep-family call asks to wait, read at entry: an absolute deadline is then
/// still ahead, and the kernel has not yet written the time left (an interrupted `nanosleep`
/// may write it over its own request).
pub fn sleep_at_entry(pid: Pid, syscall: &Syscall, args: &[u64; 6]) -> Option<Duration> {
    match syscall.kind {
        SyscallKind::Sleep => sleep_duration(pid, syscall.name, args),
        _ => None,
    }
}
