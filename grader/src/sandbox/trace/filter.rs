//! The seccomp filter that makes the kernel stop the program at just the calls the lens
//! traces (`SECCOMP_RET_TRACE`), and let every other call through at full speed.
//!
//! A classic BPF program: check the architecture, load the call's number, then one block per
//! traced call. A block whose number does not match falls through to the next; one that
//! matches returns, after looking at arguments where only some calls matter: writes to fd 1
//! or 2, `futex` waits with a timeout, `poll`-family calls with a positive timeout. Last come
//! the clock reads (clock.rs), which reach the kernel only in a run whose vDSO the lens hid.
//!
//! The filter is installed by the program's child just before `exec`, once the tracer has
//! seized it: a `SECCOMP_RET_TRACE` with no tracer attached would fail the call (`ENOSYS`).
//! Filters are inherited by forks and kept across `exec`, so the whole tree is covered.

use nix::errno::Errno;

use super::arch::{self, Rule};

/// `struct sock_filter` instructions (linux/filter.h, linux/bpf_common.h).
const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD (0) | BPF_W (0) | BPF_ABS (0x20)
const BPF_JEQ_K: u16 = 0x05 | 0x10; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_JSET_K: u16 = 0x05 | 0x40; // BPF_JMP | BPF_JSET | BPF_K
const BPF_AND_K: u16 = 0x04 | 0x50; // BPF_ALU | BPF_AND | BPF_K
const BPF_RET_K: u16 = 0x06;

/// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
fn arg_low(index: u32) -> u32 {
    16 + 8 * index
}
fn arg_high(index: u32) -> u32 {
    20 + 8 * index
}

const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const TRACE: u32 = libc::SECCOMP_RET_TRACE;

/// `FUTEX_WAIT`, `FUTEX_WAIT_BITSET`, and the mask of the command bits.
const FUTEX_WAIT: u32 = 0;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_CMD: u32 = 0x7f;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Instructions that return TRACE when the 64-bit argument `index` is not 0 (a pointer given).
fn trace_if_non_null(index: u32) -> Vec<libc::sock_filter> {
    vec![
        stmt(BPF_LD_W_ABS, arg_low(index)),
        jump(BPF_JEQ_K, 0, 0, 2), // low half not 0: trace
        stmt(BPF_LD_W_ABS, arg_high(index)),
        jump(BPF_JEQ_K, 0, 1, 0), // both halves 0: allow
        stmt(BPF_RET_K, TRACE),
        stmt(BPF_RET_K, ALLOW),
    ]
}

/// The filter's instructions.
pub fn program() -> Vec<libc::sock_filter> {
    let mut program = vec![
        stmt(BPF_LD_W_ABS, ARCH),
        jump(BPF_JEQ_K, arch::AUDIT_ARCH, 1, 0),
        stmt(BPF_RET_K, ALLOW),
    ];
    for (nr, rule) in arch::rules() {
        let body: Vec<libc::sock_filter> = match rule {
            Rule::Always => vec![stmt(BPF_RET_K, TRACE)],
            Rule::FdIsStdoutOrStderr => vec![
                stmt(BPF_LD_W_ABS, arg_low(0)),
                jump(BPF_JEQ_K, 1, 1, 0),
                jump(BPF_JEQ_K, 2, 0, 1),
                stmt(BPF_RET_K, TRACE),
                stmt(BPF_RET_K, ALLOW),
            ],
            Rule::NonNull(index) => trace_if_non_null(index),
            Rule::PositiveInt(index) => vec![
                stmt(BPF_LD_W_ABS, arg_low(index)),
                jump(BPF_JSET_K, 0x8000_0000, 2, 0), // negative: waits forever, not a sleep
                jump(BPF_JEQ_K, 0, 1, 0),            // 0: does not wait
                stmt(BPF_RET_K, TRACE),
                stmt(BPF_RET_K, ALLOW),
            ],
            Rule::FutexWaitWithTimeout => {
                let check_timeout = trace_if_non_null(3);
                let mut body = vec![
                    stmt(BPF_LD_W_ABS, arg_low(1)),
                    stmt(BPF_AND_K, FUTEX_CMD),
                    jump(BPF_JEQ_K, FUTEX_WAIT, 1, 0),
                    // Not a wait: jump over the timeout check to its final ALLOW.
                    jump(
                        BPF_JEQ_K,
                        FUTEX_WAIT_BITSET,
                        0,
                        check_timeout.len() as u8 - 1,
                    ),
                ];
                body.extend(check_timeout);
                body
            }
        };
        program.push(stmt(BPF_LD_W_ABS, NR));
        program.push(jump(BPF_JEQ_K, nr as u32, 0, body.len() as u8));
        program.extend(body);
    }
    // Clock reads reach the kernel only when the lens hid the vDSO (clock.rs).
    for &nr in super::clock::CALLS {
        program.push(stmt(BPF_LD_W_ABS, NR));
        program.push(jump(BPF_JEQ_K, nr as u32, 0, 1));
        program.push(stmt(BPF_RET_K, TRACE));
    }
    program.push(stmt(BPF_RET_K, ALLOW));
    program
}

/// Installs the filter on the calling process (the program's child, before `exec`).
///
/// Without `CAP_SYS_ADMIN` the kernel wants `no_new_privs` first; it is set only then, as it
/// also changes what `exec` of a set-user-ID file does.
pub fn install(program: &[libc::sock_filter]) -> Result<(), Errno> {
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    let set = || {
        // SAFETY: `fprog` points at `program`, which outlives the call; the kernel copies it.
        Errno::result(unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &fprog as *const libc::sock_fprog,
            )
        })
    };
    match set() {
        Err(Errno::EACCES) => {
            // SAFETY: prctl with integer arguments only.
            Errno::result(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })?;
            set().map(drop)
        }
        other => other.map(drop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the classic BPF program on one `seccomp_data`, as the kernel would.
    fn run(program: &[libc::sock_filter], nr: i64, args: [u64; 6]) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&(nr as i32).to_ne_bytes());
        data[4..8].copy_from_slice(&arch::AUDIT_ARCH.to_ne_bytes());
        for (i, arg) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&arg.to_ne_bytes());
        }
        let (mut pc, mut a) = (0usize, 0u32);
        loop {
            let insn = program[pc];
            match insn.code {
                BPF_LD_W_ABS => {
                    let k = insn.k as usize;
                    a = u32::from_ne_bytes(data[k..k + 4].try_into().expect("4 bytes"));
                }
                BPF_AND_K => a &= insn.k,
                BPF_RET_K => return insn.k,
                BPF_JEQ_K | BPF_JSET_K => {
                    let hit = if insn.code == BPF_JEQ_K {
                        a == insn.k
                    } else {
                        a & insn.k != 0
                    };
                    pc += usize::from(if hit { insn.jt } else { insn.jf });
                }
                code => panic!("unknown instruction {code:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn traces_exactly_the_chosen_calls() {
        let program = program();
        let none = [0; 6];
        assert_eq!(run(&program, libc::SYS_shmat, none), TRACE);
        assert_eq!(run(&program, libc::SYS_exit_group, none), TRACE);
        assert_eq!(run(&program, libc::SYS_getpid, none), ALLOW);
        assert_eq!(run(&program, libc::SYS_write, [1, 0, 0, 0, 0, 0]), TRACE);
        assert_eq!(run(&program, libc::SYS_write, [2, 0, 0, 0, 0, 0]), TRACE);
        assert_eq!(run(&program, libc::SYS_write, [3, 0, 0, 0, 0, 0]), ALLOW);
        let futex =
            |op: u64, timeout: u64| run(&program, libc::SYS_futex, [0, op, 0, timeout, 0, 0]);
        assert_eq!(futex(0, 0x1000), TRACE);
        assert_eq!(futex(128, 0x1000), TRACE, "private wait with a timeout");
        assert_eq!(futex(9, 1 << 40), TRACE, "a timeout above 4 GiB");
        assert_eq!(
            futex(0, 0),
            ALLOW,
            "a wait without a timeout is not a sleep"
        );
        assert_eq!(futex(1, 0x1000), ALLOW, "a wake");
        // Clock reads, which reach the kernel only with the vDSO hidden (clock.rs).
        assert_eq!(run(&program, libc::SYS_clock_gettime, none), TRACE);
        assert_eq!(run(&program, libc::SYS_gettimeofday, none), TRACE);
        #[cfg(target_arch = "x86_64")]
        {
            let poll = |timeout: u64| run(&program, libc::SYS_poll, [0, 1, timeout, 0, 0, 0]);
            assert_eq!(poll(10), TRACE);
            assert_eq!(poll(0), ALLOW);
            assert_eq!(poll(u32::MAX as u64), ALLOW, "-1: no timeout");
        }
    }
}
