//! The seccomp *deny* filter every graded program runs under: the system calls that could
//! reach outside the sandbox, or weaken it, fail with `EPERM`.
//!
//! It is a fixed list, so the filter is a short hand-written classic BPF program (the layout of
//! `struct seccomp_data` and the BPF opcodes are the kernel's ABI) rather than a dependency
//! such as `seccompiler`, whose strength — policies compiled from rules over arguments — this
//! filter does not need. It is installed by [`install_deny_filter`], in the program's child
//! process just before `exec` (after `no_new_privs`); the sandbox's own processes (init, the
//! tracer) are never filtered. Another filter may be stacked after it (the lens's
//! `SECCOMP_RET_TRACE`): the kernel runs every filter and the strictest answer wins, so this
//! one's refusals stand whatever the other says.
//!
//! Refused with `EPERM`: changing namespaces (`setns`, `unshare`, and `clone` with any
//! `CLONE_NEW*` flag), mounting (`mount`, `umount2`, `pivot_root`, `chroot`, the new mount API),
//! reaching into other processes (`ptrace` except `PTRACE_TRACEME`, which only hands the caller
//! to its parent; `process_vm_readv`/`writev`, `pidfd_getfd`, `kcmp`), the kernel's keyring
//! (`keyctl`, `add_key`, `request_key`), `bpf`, `perf_event_open`, `userfaultfd`, `io_uring_*`
//! (its operations bypass seccomp), `open_by_handle_at` (the "shocker" escape), kernel modules
//! and `kexec`, the clock, the hostname, swap, `reboot`, `acct`, `quotactl`, `syslog`,
//! `fanotify_init`. `clone3` fails with `ENOSYS`, since its flags are behind a pointer the
//! filter cannot read: the C library then falls back to `clone`, whose flags it can. A system
//! call of another ABI (32-bit `int 0x80`, x32), whose numbers mean other calls, kills the
//! process.

use nix::errno::Errno;

/// `offsetof(struct seccomp_data, nr)`, `arch` and `args[0]` (its low 32 bits: little endian).
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0: u32 = 16;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7; // AUDIT_ARCH_AARCH64

/// The x32 ABI's system calls are the x86-64 numbers with this bit set.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Every `CLONE_NEW*` flag `clone` takes (`CLONE_NEWTIME` is `unshare`/`clone3` only: in
/// `clone`'s flags its bit is part of the exit signal).
const CLONE_NEW_ANY: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32;

/// `ptrace`'s request 0 (the libc crate's type for it differs between targets).
const PTRACE_TRACEME: u32 = 0;

/// Refused with `EPERM`, whatever the arguments.
const DENIED: &[libc::c_long] = &[
    libc::SYS_setns,
    libc::SYS_unshare,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_mount_setattr,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_pidfd_getfd,
    libc::SYS_kcmp,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_syslog,
    libc::SYS_vhangup,
    libc::SYS_fanotify_init,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_uselib,
];

fn statement(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

const LOAD: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
const IF_EQUAL: u32 = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
const IF_ANY_BIT: u32 = libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K;
const RETURN: u32 = libc::BPF_RET | libc::BPF_K;
const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;

fn fail_with(errno: Errno) -> u32 {
    libc::SECCOMP_RET_ERRNO | (errno as u32 & libc::SECCOMP_RET_DATA)
}

/// The filter's instructions.
fn program() -> Vec<libc::sock_filter> {
    let eperm = fail_with(Errno::EPERM);
    let mut program = vec![
        statement(LOAD, ARCH),
        jump(IF_EQUAL, AUDIT_ARCH, 1, 0),
        statement(RETURN, KILL),
        statement(LOAD, NR),
    ];
    #[cfg(target_arch = "x86_64")]
    program.extend([
        jump(
            libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
            X32_SYSCALL_BIT,
            0,
            1,
        ),
        statement(RETURN, KILL),
    ]);
    for &nr in DENIED {
        program.extend([jump(IF_EQUAL, nr as u32, 0, 1), statement(RETURN, eperm)]);
    }
    program.extend([
        jump(IF_EQUAL, libc::SYS_clone3 as u32, 0, 1),
        statement(RETURN, fail_with(Errno::ENOSYS)),
        // clone: refused when its flags (argument 0) ask for any new namespace.
        jump(IF_EQUAL, libc::SYS_clone as u32, 0, 4),
        statement(LOAD, ARG0),
        jump(IF_ANY_BIT, CLONE_NEW_ANY, 0, 1),
        statement(RETURN, eperm),
        statement(RETURN, ALLOW),
        // ptrace: only PTRACE_TRACEME (request 0, argument 0).
        jump(IF_EQUAL, libc::SYS_ptrace as u32, 0, 4),
        statement(LOAD, ARG0),
        jump(IF_EQUAL, PTRACE_TRACEME, 0, 1),
        statement(RETURN, ALLOW),
        statement(RETURN, eperm),
        statement(RETURN, ALLOW),
    ]);
    program
}

/// Installs the filter on the calling thread (and so on everything it `exec`s and forks).
/// Needs `no_new_privs` (or `CAP_SYS_ADMIN`) first. Allocates: call it after `fork` only in a
/// single-threaded process, as the sandbox is.
pub fn install_deny_filter() -> nix::Result<()> {
    let mut program = program();
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_mut_ptr(),
    };
    // SAFETY: `prog` points to `program`, which lives until the call returns; the kernel copies
    // the filter. SECCOMP_SET_MODE_FILTER with no flags takes exactly this pointer.
    let result = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        )
    };
    Errno::result(result).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_jump_lands_inside_the_program() {
        let program = program();
        for (at, instruction) in program.iter().enumerate() {
            if u32::from(instruction.code) & 0x07 == libc::BPF_JMP {
                for offset in [instruction.jt, instruction.jf] {
                    assert!(at + 1 + usize::from(offset) < program.len(), "at {at}");
                }
            }
        }
        let last = program.last().expect("not empty");
        assert_eq!((u32::from(last.code), last.k), (RETURN, ALLOW));
        assert!(program.len() < 4096, "BPF_MAXINSNS");
    }
}
