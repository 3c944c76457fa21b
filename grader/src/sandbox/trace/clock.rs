//! Clocks the lens can see and move ([`crate::scenario::Explore::clocks_jump`]).
//!
//! A process that waits by spinning on the clock (`Instant::now()` in a loop) makes no system
//! call: glibc reads the time in the vDSO, a page the kernel maps into every program and names
//! in the auxiliary vector (`AT_SYSINFO_EHDR`). So at the program's `exec` stop the lens turns
//! that entry into `AT_IGNORE`: glibc then finds no vDSO and asks the kernel
//! (`clock_gettime`, `gettimeofday`), which the filter stops. Forked children inherit the
//! program's memory, and so its glibc without a vDSO. With the vDSO in place (every scenario
//! that does not ask) the filter's rule never fires: those calls do not reach the kernel.
//!
//! The first hold moves the run's clocks ahead for the rest of the run ([`shift`]): at the
//! return of each clock read, the tracer adds how far to the time the kernel wrote. To a
//! process that waits until the clock says the others must be done, the held one was away that
//! long, as on a loaded machine it could be: the spin ends while the held process has not done
//! its part, and the lines come out of order in every grading. A process that waits for a turn
//! in the segment is not moved by it (its patience, if it has one, must outlast the jump).
//!
//! Not seen: a program reading the time stamp counter itself (`rdtsc`), which no program of
//! the lab does by accident; `prctl(PR_SET_TSC, PR_TSC_SIGSEGV)` would make it trap, but
//! glibc's dynamic loader reads it too, at every start, so the tracer would have to emulate it.

use std::time::Duration;

use nix::sys::ptrace;
use nix::unistd::Pid;

use super::{arch, decode};

/// The clock calls the filter stops (`time` exists on x86_64 only).
pub const CALLS: &[i64] = &[
    libc::SYS_clock_gettime,
    libc::SYS_gettimeofday,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_time,
];

/// `auxv` entry types (`<elf.h>`).
const AT_NULL: u64 = 0;
const AT_IGNORE: u64 = 1;
const AT_SYSINFO_EHDR: u64 = 33;

/// Pages are at least this size, and aligned on it.
const PAGE: u64 = 4096;
/// The most of the new program's stack read to find its auxiliary vector.
const MAX_STACK_READ: usize = 64 * 1024;

/// Where a clock read puts the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockRead {
    /// A `struct timespec` (`clock_gettime`).
    Timespec(u64),
    /// A `struct timeval` (`gettimeofday`).
    Timeval(u64),
    /// Seconds, returned and written where the pointer says unless it is 0 (`time`).
    Seconds(u64),
}

/// The clock read this call makes, if it is one the lens moves: `clock_gettime` of a clock
/// that counts real time (not a CPU-time clock), or `gettimeofday` with a buffer.
pub fn read(nr: u64, args: &[u64; 6]) -> Option<ClockRead> {
    let real_time = [
        libc::CLOCK_REALTIME,
        libc::CLOCK_MONOTONIC,
        libc::CLOCK_MONOTONIC_RAW,
        libc::CLOCK_REALTIME_COARSE,
        libc::CLOCK_MONOTONIC_COARSE,
        libc::CLOCK_BOOTTIME,
    ];
    match nr as i64 {
        libc::SYS_clock_gettime
            if args[1] != 0 && real_time.iter().any(|&id| id as u64 == args[0]) =>
        {
            Some(ClockRead::Timespec(args[1]))
        }
        libc::SYS_gettimeofday if args[0] != 0 => Some(ClockRead::Timeval(args[0])),
        #[cfg(target_arch = "x86_64")]
        libc::SYS_time => Some(ClockRead::Seconds(args[0])),
        _ => None,
    }
}

/// At the return of `read` (which returned `value`), moves the time the kernel gave `ahead`
/// further.
pub fn shift(pid: Pid, read: ClockRead, value: i64, ahead: Duration) {
    let (addr, per_second, fraction) = match read {
        ClockRead::Timespec(addr) => (addr, 1_000_000_000, ahead.subsec_nanos()),
        ClockRead::Timeval(addr) => (addr, 1_000_000, ahead.subsec_micros()),
        ClockRead::Seconds(addr) => {
            let seconds = value + ahead.as_secs() as i64;
            let _ = arch::set_return(pid, seconds);
            if addr != 0 {
                let _ = ptrace::write(pid, addr as ptrace::AddressType, seconds as libc::c_long);
            }
            return;
        }
    };
    let bytes = decode::read_memory(pid, addr, 16);
    let (Some(seconds), Some(part)) = (word(&bytes, 0), word(&bytes, 1)) else {
        return;
    };
    let part = part + i64::from(fraction);
    let seconds = seconds + ahead.as_secs() as i64 + part / per_second;
    for (index, value) in [seconds, part % per_second].into_iter().enumerate() {
        let at = (addr + 8 * index as u64) as ptrace::AddressType;
        // ESRCH: killed meanwhile; EFAULT: a buffer the kernel just wrote, gone: nothing to do.
        let _ = ptrace::write(pid, at, value as libc::c_long);
    }
}

/// At the `exec` stop of `pid` (its stack as the kernel built it: `argc`, `argv`, `NULL`, the
/// environment, `NULL`, then the auxiliary vector): hides the vDSO from its C library. Returns
/// whether there was one to hide.
pub fn hide_vdso(pid: Pid) -> bool {
    let Ok(info) = ptrace::syscall_info(pid) else {
        return false;
    };
    let stack = info.stack_pointer;
    // Page by page up to the top of the stack (one read across its end would fail whole).
    let mut bytes = Vec::new();
    while bytes.len() < MAX_STACK_READ {
        let at = stack + bytes.len() as u64;
        let page = decode::read_memory(pid, at, (PAGE - at % PAGE) as usize);
        if page.is_empty() {
            break;
        }
        bytes.extend(page);
    }
    let words: Vec<u64> = (0..bytes.len() / 8)
        .filter_map(|index| word(&bytes, index).map(|value| value as u64))
        .collect();
    let Some(&argc) = words.first() else {
        return false;
    };
    // Past argc, the arguments and their NULL, then past the environment and its NULL.
    let mut index = 1 + argc as usize + 1;
    while words.get(index).is_some_and(|&pointer| pointer != 0) {
        index += 1;
    }
    index += 1;
    while let Some(&kind) = words.get(index) {
        if kind == AT_NULL {
            return false;
        }
        if kind == AT_SYSINFO_EHDR {
            let at = (stack + 8 * index as u64) as ptrace::AddressType;
            return ptrace::write(pid, at, AT_IGNORE as libc::c_long).is_ok();
        }
        index += 2;
    }
    false
}

/// The `index`-th native 64-bit word of `bytes`.
fn word(bytes: &[u8], index: usize) -> Option<i64> {
    let chunk = bytes.get(index * 8..index * 8 + 8)?;
    Some(i64::from_ne_bytes(chunk.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock_gettime(clock: libc::clockid_t, buffer: u64) -> Option<ClockRead> {
        read(
            libc::SYS_clock_gettime as u64,
            &[clock as u64, buffer, 0, 0, 0, 0],
        )
    }

    #[test]
    fn only_reads_of_real_time_are_moved() {
        assert_eq!(
            clock_gettime(libc::CLOCK_MONOTONIC, 0x1000),
            Some(ClockRead::Timespec(0x1000))
        );
        assert_eq!(
            clock_gettime(libc::CLOCK_REALTIME, 0x1000),
            Some(ClockRead::Timespec(0x1000))
        );
        // CPU time is not the time the other process had; no buffer, nothing to move.
        assert_eq!(clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, 0x1000), None);
        assert_eq!(clock_gettime(libc::CLOCK_MONOTONIC, 0), None);
        let gettimeofday =
            |buffer: u64| read(libc::SYS_gettimeofday as u64, &[buffer, 0, 0, 0, 0, 0]);
        assert_eq!(gettimeofday(0x2000), Some(ClockRead::Timeval(0x2000)));
        assert_eq!(gettimeofday(0), None);
        assert_eq!(read(libc::SYS_getpid as u64, &[0; 6]), None);
    }
}
