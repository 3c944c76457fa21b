//! What differs between machines: the traced calls' numbers, and how a call is skipped with an
//! error (fault injection). x86_64 is the machine the grader is tested on; aarch64 compiles
//! (it has no `fork`, `poll`, `select` nor `epoll_wait`: its libc uses `clone`, `ppoll`...).

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::scenario::SyscallKind;

#[cfg(target_arch = "x86_64")]
pub const AUDIT_ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
pub const AUDIT_ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64

/// When the filter stops a call (see filter.rs).
#[derive(Clone, Copy, Debug)]
pub enum Rule {
    Always,
    /// `write`/`writev` to fd 1 or 2.
    FdIsStdoutOrStderr,
    /// When this argument (a timeout pointer) is given.
    NonNull(u32),
    /// When this argument (a timeout in milliseconds) is above 0.
    PositiveInt(u32),
    FutexWaitWithTimeout,
}

/// A traced call: its kind for holds and injections, its name, when the filter stops it.
pub struct Syscall {
    pub nr: i64,
    pub kind: SyscallKind,
    pub name: &'static str,
    pub rule: Rule,
}

const fn call(nr: i64, kind: SyscallKind, name: &'static str, rule: Rule) -> Syscall {
    Syscall {
        nr,
        kind,
        name,
        rule,
    }
}

use Rule::*;
use SyscallKind::*;

/// Every traced call. `execve` is not here: exec is seen as a ptrace event, and stopping the
/// program's own first `execve` would stop it before the sandbox knows it started.
pub const SYSCALLS: &[Syscall] = &[
    call(libc::SYS_shmget, Shmget, "shmget", Always),
    call(libc::SYS_shmat, Shmat, "shmat", Always),
    call(libc::SYS_shmdt, Shmdt, "shmdt", Always),
    call(libc::SYS_shmctl, Shmctl, "shmctl", Always),
    call(libc::SYS_write, Write, "write", FdIsStdoutOrStderr),
    call(libc::SYS_writev, Write, "writev", FdIsStdoutOrStderr),
    call(libc::SYS_wait4, Wait, "wait4", Always),
    call(libc::SYS_waitid, Wait, "waitid", Always),
    call(libc::SYS_clone, Fork, "clone", Always),
    call(libc::SYS_clone3, Fork, "clone3", Always),
    #[cfg(target_arch = "x86_64")]
    call(libc::SYS_fork, Fork, "fork", Always),
    #[cfg(target_arch = "x86_64")]
    call(libc::SYS_vfork, Fork, "vfork", Always),
    call(libc::SYS_exit, Exit, "exit", Always),
    call(libc::SYS_exit_group, Exit, "exit_group", Always),
    call(libc::SYS_nanosleep, Sleep, "nanosleep", Always),
    call(libc::SYS_clock_nanosleep, Sleep, "clock_nanosleep", Always),
    call(libc::SYS_futex, Sleep, "futex", FutexWaitWithTimeout),
    call(libc::SYS_ppoll, Sleep, "ppoll", NonNull(2)),
    call(libc::SYS_pselect6, Sleep, "pselect6", NonNull(4)),
    call(libc::SYS_epoll_pwait, Sleep, "epoll_pwait", PositiveInt(3)),
    #[cfg(target_arch = "x86_64")]
    call(libc::SYS_poll, Sleep, "poll", PositiveInt(2)),
    #[cfg(target_arch = "x86_64")]
    call(libc::SYS_select, Sleep, "select", NonNull(4)),
    #[cfg(target_arch = "x86_64")]
    call(libc::SYS_epoll_wait, Sleep, "epoll_wait", PositiveInt(3)),
];

/// The filter's rules, one per traced call number.
pub fn rules() -> impl Iterator<Item = (i64, Rule)> {
    SYSCALLS.iter().map(|syscall| (syscall.nr, syscall.rule))
}

pub fn lookup(nr: u64) -> Option<&'static Syscall> {
    SYSCALLS.iter().find(|syscall| syscall.nr as u64 == nr)
}

/// Whether the filter would have stopped this call (the plain `PTRACE_SYSCALL` mode sees every
/// call and applies the rules itself).
pub fn selected(syscall: &Syscall, args: &[u64; 6]) -> bool {
    match syscall.rule {
        Always => true,
        FdIsStdoutOrStderr => matches!(args[0] as u32, 1 | 2),
        NonNull(index) => args[index as usize] != 0,
        PositiveInt(index) => (args[index as usize] as u32 as i32) > 0,
        FutexWaitWithTimeout => matches!(args[1] as u32 & 0x7f, 0 | 9) && args[3] != 0,
    }
}

/// At a stop before the call runs: the kernel skips it and the program sees `-1` with `errno`.
///
/// Sets the call's number to -1 (skip) and its return value to `-errno`, as seccomp(2)
/// documents for a tracer at a seccomp stop; strace's `inject` does the same.
#[cfg(target_arch = "x86_64")]
pub fn skip_with_errno(pid: Pid, errno: i32) -> Result<(), Errno> {
    edit_registers(pid, |regs| {
        regs.orig_rax = u64::MAX;
        regs.rax = (-i64::from(errno)) as u64;
    })
}

/// At a stop before the call runs (see the x86_64 version): aarch64 keeps the call's number
/// in a register set of its own.
#[cfg(target_arch = "aarch64")]
pub fn skip_with_errno(pid: Pid, errno: i32) -> Result<(), Errno> {
    const NT_ARM_SYSTEM_CALL: libc::c_int = 0x404;
    let mut number: libc::c_int = -1;
    let mut iov = libc::iovec {
        iov_base: (&mut number as *mut libc::c_int).cast(),
        iov_len: std::mem::size_of::<libc::c_int>(),
    };
    // SAFETY: PTRACE_SETREGSET reads `iov_len` bytes from `iov_base`, an int we own.
    Errno::result(unsafe {
        libc::ptrace(
            libc::PTRACE_SETREGSET,
            pid.as_raw(),
            NT_ARM_SYSTEM_CALL as usize as *mut libc::c_void,
            (&mut iov as *mut libc::iovec).cast::<libc::c_void>(),
        )
    })?;
    set_return(pid, -i64::from(errno))
}

/// At the stop after a skipped call: sets its return value again (needed where the kernel
/// resets it on the way out).
pub fn set_return(pid: Pid, value: i64) -> Result<(), Errno> {
    #[cfg(target_arch = "x86_64")]
    return edit_registers(pid, |regs| regs.rax = value as u64);
    #[cfg(target_arch = "aarch64")]
    return edit_registers(pid, |regs| regs.regs[0] = value as u64);
}

/// Reads a stopped tracee's general registers, lets `edit` change them, and writes them back.
#[cfg(target_arch = "x86_64")]
fn edit_registers(pid: Pid, edit: impl FnOnce(&mut libc::user_regs_struct)) -> Result<(), Errno> {
    let mut regs = nix::sys::ptrace::getregs(pid)?;
    edit(&mut regs);
    nix::sys::ptrace::setregs(pid, regs)
}

/// Reads a stopped tracee's general registers, lets `edit` change them, and writes them back.
#[cfg(target_arch = "aarch64")]
fn edit_registers(pid: Pid, edit: impl FnOnce(&mut libc::user_regs_struct)) -> Result<(), Errno> {
    use nix::sys::ptrace::regset::NT_PRSTATUS;
    let mut regs = nix::sys::ptrace::getregset::<NT_PRSTATUS>(pid)?;
    edit(&mut regs);
    nix::sys::ptrace::setregset::<NT_PRSTATUS>(pid, regs)
}
