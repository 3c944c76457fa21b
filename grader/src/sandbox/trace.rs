//! The system-call lens: a tracer of every process of the program's tree, run by the process
//! that already reaps them all (the PID namespace's init, see runner.rs).
//!
//! # How a program is traced
//!
//! **Attaching: `PTRACE_SEIZE` from the parent, not `PTRACE_TRACEME`.** The program's child
//! waits on a pipe right after `fork`; init seizes it (with the options below) and then says
//! "go". The child installs the seccomp filter and `exec`s. Seizing from outside keeps the
//! child's side to two calls (a read and `seccomp`), works whatever deny filter the sandbox
//! later adds in the child (a filter that refuses `ptrace` to the program does not bind its
//! tracer), and gives the modern stop semantics (`PTRACE_EVENT_STOP` for new children and
//! group stops, no stray `SIGSTOP`/`SIGTRAP`). If the kernel refuses (`EPERM` in a container
//! whose seccomp profile blocks `ptrace`, Yama's `ptrace_scope` 3), the child runs untraced
//! and the observation says why ([`crate::scenario::Observation::untraced`]).
//!
//! **Options**: `PTRACE_O_TRACEFORK | TRACEVFORK | TRACECLONE` (every new process and thread
//! is traced from its first instruction), `TRACEEXEC`, `TRACEEXIT` (a stop before each exit:
//! its status, and the moment for [`crate::scenario::Poke`]s, before the parent can see the
//! child gone), `TRACESECCOMP`, `TRACESYSGOOD`, and `EXITKILL` (if init dies, so do they).
//!
//! **Which calls stop: a seccomp filter** (filter.rs) returns `SECCOMP_RET_TRACE` for just the
//! calls of arch.rs (SysV calls, writes to fd 1 and 2, waits, forks, exits, sleeps with a
//! timeout) and lets everything else through at full speed. A stopped call is resumed with
//! `PTRACE_SYSCALL`, so the next stop is its return, where its result is read. Arguments
//! come from `PTRACE_GET_SYSCALL_INFO` (Linux 5.3+), buffers from `process_vm_readv`
//! (decode.rs). The other mode, [`Mode::Syscall`], uses no filter and stops at every call's
//! entry and exit (`PTRACE_SYSCALL`), as strace does without `--seccomp-bpf`.
//!
//! **Why the filter: measured.** Fixture `trace-busy` makes 100 000 untraced calls (`getppid`)
//! and 200 traced ones (writes to stdout); one whole sandbox run of it (namespaces, init, the
//! program), on the 2-core test machine under load (other builds running), debug build:
//!
//! ```sh
//! for mode in off seccomp syscall; do   # SHMLAB_SANDBOX_TRACE picks the mode
//!   hyperfine "SHMLAB_SANDBOX_TRACE=$mode target/debug/grader __sandbox < busy.json"
//! done   # busy.json: a Scenario running target/debug/trace-busy once
//! ```
//!
//! | mode | mean ± σ | min |
//! |---|---|---|
//! | not traced (`off`) | 20 ms ± 6 ms | 16 ms |
//! | seccomp filter (`seccomp`, the default) | 48 ms ± 27 ms | 23 ms |
//! | plain `PTRACE_SYSCALL` (`syscall`) | 2.16 s ± 0.70 s | 1.52 s |
//!
//! With the filter an untraced call costs nothing and a traced one two stops (about 10 µs
//! each here, more under load); stopping at every call costs 45 times as much. A program
//! that floods its output pays one stop per write past [`Trace::MAX_EVENTS`] events.
//!
//! **Fault injection** ([`crate::scenario::Injection`]), as strace's `-e inject`: at the stop
//! before the call, its number is set to -1 (the kernel skips it) and its return value to
//! `-errno`; at its return stop the value is set again.
//!
//! **What a line can report** ([`crate::scenario::Event::shared`]): at the stop before each
//! write to stdout and each `shmdt`, before any hold, the tracer reads the first
//! [`SharedBytes::MAX_BYTES`] bytes at every address where the process has a segment attached
//! (its `shmat` results, its parent's attachments at the fork, less its `shmdt`s, none after
//! an `exec`), from its memory (decode.rs) while it is stopped: what it had put into the
//! segment when it decided to print, so that "child: 37892" can be checked against the
//! segment at that moment rather than at the end. One `process_vm_readv` per attachment, at
//! most [`MAX_SHARED_READS`] calls per step; no extra run.
//!
//! **Pokes** ([`crate::scenario::Poke`]): bytes written into a setup segment through init's
//! own attachment while the process that triggers them is stopped, at its exit stop or at the
//! stop before one of its calls (after the read above, before any hold): what the others
//! read from then on is the grader's, and what the process itself had written is in its
//! event.
//!
//! **Clocks** ([`crate::scenario::Explore::clocks_jump`], clock.rs): in a run with holds, the
//! vDSO is hidden from the program at its `exec` stop, so its clock reads become calls the
//! filter stops; once a hold has begun, each read's time is moved ahead at its return.
//!
//! **Holds** ([`crate::scenario::Hold`]): a process is held by not resuming it at the stop
//! before the chosen call. It is released when the others have had their chance: each other
//! process is blocked in the kernel (waiting for a child, a lock, a pipe), stopped, gone, or
//! has run [`RAN_ENOUGH`] of CPU since the hold began (`/proc/PID/schedstat`: a process
//! spinning on a turn in shared memory never blocks) or read the clock [`LOOPED_ENOUGH`] times
//! (a waiting loop whose clock reads the lens stops, see clock.rs); and never while another
//! process sleeps in a traced sleep (up to [`SLEEP_CAP`]): waiting out a `sleep` is what
//! exposes ordering by sleeping. At the latest it is released after the scenario's bound. A
//! hold at one of [`crate::scenario::Explore::until_children_end`]'s calls of a process with
//! children alive lasts until they have all reached their exit stop (up to [`SLEEP_CAP`]),
//! however much CPU they spin meanwhile: a child waiting for its held parent never gets there.
//!
//! **Exits and reaping.** A traced process's end is reported to its tracer before its parent
//! can reap it; init then "reaps" it for the tracer only (the kernel hands the zombie on to its
//! real parent). So init tells the program's processes that were abandoned (real parent: init)
//! from those whose parent will still wait for them ([`Tracer::ended`]). Who the real parent is
//! can change under init's feet: a parent past its exit stop hands its children to init at any
//! moment, and then init's wait, meant for the tracer only, ends the child for good. So when
//! the parent was another process, init decides *after* its wait ([`Handover::abandoned`]):
//! a child still there went to its parent; a child gone whose parent is ending was init's.

mod arch;
mod clock;
pub mod decode;
pub mod explore;
mod filter;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::ptrace::{self, Event, Options};
use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;
use nix::unistd::{Pid, pipe2};
use sysv::Attachment;

use super::procs;
use crate::scenario::{
    Call, Event as TraceEvent, Exit, Hold, Injected, Injection, Lens, Lineage, Poke, PokeAt,
    Schedules, SharedBytes, SyscallKind, Trace, TracedProcess, When,
};

/// Environment variable read by the sandbox: `seccomp` (the default), `syscall` (plain
/// `PTRACE_SYSCALL`, for measuring), `off` (no tracing), `refuse` (act as if the kernel refused
/// `ptrace`, to test the fallback).
pub const TRACE_ENV: &str = "SHMLAB_SANDBOX_TRACE";

/// A process counts as having had its chance during a hold once it has run this much CPU.
pub const RAN_ENOUGH: Duration = Duration::from_millis(1);
/// A process counts as having had its chance during a hold once it has read the clock this many
/// times (with the vDSO hidden, see clock.rs): it is going round a waiting loop. Three, not
/// two: a process spinning on the clock makes at most two (one begun before the hold, one
/// that jumps and ends its spin), and must not end the hold before it has gone on.
pub const LOOPED_ENOUGH: u32 = 3;
/// The longest a hold waits for another process's traced sleep to end.
pub const SLEEP_CAP: Duration = Duration::from_secs(1);
/// How often holds are looked at.
const HOLD_TICK: Duration = Duration::from_millis(1);
/// At most this many writes per step get the segments read ([`TraceEvent::shared`]): a program
/// flooding its output while attached does not fill the trace with copies.
const MAX_SHARED_READS: usize = 256;

/// How calls are made to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A seccomp filter stops only the traced calls.
    Seccomp,
    /// Every call stops twice (`PTRACE_SYSCALL`).
    Syscall,
}

/// Whether and how this sandbox traces, from [`Lens::trace`] and [`TRACE_ENV`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tracing {
    On(Mode),
    /// Not traced, and why.
    Off(String),
    /// Try nothing, and report a refusal (testing the fallback).
    SimulateRefusal,
}

impl Tracing {
    pub fn decide(lens: &Lens) -> Result<Tracing> {
        if !lens.trace {
            return Ok(Tracing::Off("tracing was not asked for".into()));
        }
        match std::env::var(TRACE_ENV).as_deref() {
            Err(_) | Ok("seccomp") => Ok(Tracing::On(Mode::Seccomp)),
            Ok("syscall") => Ok(Tracing::On(Mode::Syscall)),
            Ok("off") => Ok(Tracing::Off(format!(
                "tracing was turned off ({TRACE_ENV}=off)"
            ))),
            Ok("refuse") => Ok(Tracing::SimulateRefusal),
            Ok(other) => {
                anyhow::bail!("{TRACE_ENV}={other:?} is not one of seccomp, syscall, off, refuse")
            }
        }
    }
}

/// The two ends of the "go" pipe between init and the program's child (see the module docs).
pub struct Handshake {
    go_read: OwnedFd,
    go_write: OwnedFd,
    /// The seccomp filter, built before fork (the child only installs it).
    filter: Option<Vec<libc::sock_filter>>,
    simulate_refusal: bool,
}

/// The child's go byte: traced, or not.
const TRACED: u8 = b'T';
const UNTRACED: u8 = b'U';

impl Handshake {
    /// `None` when the run is not traced.
    pub fn new(tracing: &Tracing) -> Result<Option<Handshake>> {
        let (filter, simulate_refusal) = match tracing {
            Tracing::Off(_) => return Ok(None),
            Tracing::On(Mode::Seccomp) => (Some(filter::program()), false),
            Tracing::On(Mode::Syscall) => (None, false),
            Tracing::SimulateRefusal => (None, true),
        };
        // The child inherits our "dumpable" flag, which a change of credentials (a user
        // namespace's uid mapping) clears; not dumpable, it could be seized only with
        // CAP_SYS_PTRACE in the machine's user namespace (`ptrace` answers EPERM).
        // SAFETY: prctl with integer arguments only.
        let _ = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) };
        let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC).context("Failed to create a pipe")?;
        Ok(Some(Handshake {
            go_read,
            go_write,
            filter,
            simulate_refusal,
        }))
    }

    /// In the child, before any change of its credentials: waits for init's word, so that
    /// init seizes a child that still has init's own (a child whose uid the sandbox changed
    /// is not dumpable until it says so again, and a seize meanwhile is refused). Returns
    /// whether the child is traced. Async-signal-safe (a read).
    pub fn wait_for_tracer(&self) -> Result<bool, Errno> {
        let mut go = [0u8; 1];
        loop {
            match nix::unistd::read(&self.go_read, &mut go) {
                Ok(1) => return Ok(go[0] == TRACED),
                Ok(_) => return Err(Errno::EPIPE), // init is gone
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(errno),
            }
        }
    }

    /// In the child, just before `exec` (after `no_new_privs`): installs the filter if
    /// traced. Async-signal-safe (two system calls).
    pub fn install_filter(&self, traced: bool) -> Result<(), Errno> {
        match &self.filter {
            Some(program) if traced => filter::install(program),
            _ => Ok(()),
        }
    }

    /// In init, right after fork: seizes the child, then lets it go. `Err` says why the child
    /// runs untraced.
    pub fn in_parent(self, child: Pid) -> Result<(), String> {
        let options = Options::PTRACE_O_TRACESYSGOOD
            | Options::PTRACE_O_TRACEFORK
            | Options::PTRACE_O_TRACEVFORK
            | Options::PTRACE_O_TRACECLONE
            | Options::PTRACE_O_TRACEEXEC
            | Options::PTRACE_O_TRACEEXIT
            | Options::PTRACE_O_TRACESECCOMP
            | Options::PTRACE_O_EXITKILL;
        let seized = if self.simulate_refusal {
            Err(format!(
                "ptrace(PTRACE_SEIZE) was refused (simulated: {TRACE_ENV}=refuse)"
            ))
        } else {
            ptrace::seize(child, options)
                .map_err(|errno| format!("ptrace(PTRACE_SEIZE) was refused: {}", errno.desc()))
        };
        let go = if seized.is_ok() { TRACED } else { UNTRACED };
        // The child is blocked reading: one byte into an empty pipe cannot fail but by the
        // child's death, which the caller sees at exec.
        let _ = nix::unistd::write(self.go_write.as_fd(), &[go]);
        seized
    }
}

/// A setup segment's writable attachment, for the pokes into it.
pub struct PokeTarget {
    pub index: usize,
    pub poke: Poke,
    pub attachment: Attachment,
}

impl RunLens {
    /// Detaches the pokes' attachments (so that they do not show in the segments' `nattch`).
    pub fn detach(&mut self) -> Result<()> {
        for target in self.pokes.drain(..) {
            sysv::shmdt(target.attachment).context("Failed to detach a poked segment")?;
        }
        Ok(())
    }
}

/// What the lens keeps across the steps of one run.
pub struct RunLens {
    pub mode: Option<Mode>,
    /// Why the run is not traced (set by the first step that could not be).
    pub untraced: Option<String>,
    pub holds: Vec<Hold>,
    /// Holds that have started (a hold is applied once).
    started: Vec<bool>,
    pub hold_bound: Duration,
    /// [`crate::scenario::Explore::until_children_end`].
    until_children_end: Vec<SyscallKind>,
    /// [`crate::scenario::Explore::clocks_jump`].
    clocks_jump: Option<Duration>,
    /// How far the run's clocks are ahead: a jump once a hold has begun.
    clocks_ahead: Duration,
    pub injections: Vec<Injection>,
    pub injected: Vec<Injected>,
    pub pokes: Vec<PokeTarget>,
    pub poked: Vec<usize>,
}

impl RunLens {
    pub fn new(
        tracing: &Tracing,
        lens: &Lens,
        holds: Vec<Hold>,
        hold_bound: Duration,
        pokes: Vec<PokeTarget>,
    ) -> RunLens {
        let (mode, untraced) = match tracing {
            Tracing::On(mode) => (Some(*mode), None),
            Tracing::Off(why) => (None, Some(why.clone())),
            Tracing::SimulateRefusal => (None, None),
        };
        RunLens {
            mode,
            untraced,
            started: vec![false; holds.len()],
            holds,
            hold_bound,
            until_children_end: match &lens.schedules {
                Schedules::Explore(explore) => explore.until_children_end.clone(),
                Schedules::Once => Vec::new(),
            },
            clocks_jump: match &lens.schedules {
                Schedules::Explore(explore) => explore.clocks_jump,
                Schedules::Once => None,
            },
            clocks_ahead: Duration::ZERO,
            injections: lens.inject.clone(),
            injected: Vec::new(),
            pokes,
            poked: Vec::new(),
        }
    }
}

/// A process being traced.
struct Process {
    index: usize,
    lineage: Lineage,
    /// Its pid in `/proc`'s namespace (its own until it is reaped, not after), and its pidfd,
    /// which names this process whatever its pid becomes (it does not keep the pid).
    proc_pid: Option<(i32, OwnedFd)>,
    thread: bool,
    children: u32,
    /// Events recorded per kind: a call's `nth` for holds.
    counts: HashMap<SyscallKind, u32>,
    /// The call it is in, between the stop before it and its return.
    pending: Option<Pending>,
    /// The clock read it is in, to be moved ahead at its return ([`RunLens::clocks_ahead`]).
    clock_read: Option<clock::ClockRead>,
    /// Clock reads so far (seen only with the vDSO hidden).
    clock_reads: u32,
    hold: Option<ActiveHold>,
    /// How long it was held at its `exit`, for the exit event.
    exit_held: Option<Duration>,
    /// Past its exit stop: ending.
    exiting: bool,
    /// The addresses it has a segment attached at (its own `shmat`s, and its parent's
    /// attachments at the fork), less those it detached.
    attached: Vec<u64>,
}

struct Pending {
    syscall: &'static arch::Syscall,
    args: [u64; 6],
    slept: Option<Duration>,
    /// The injection (index, errno) that skips this call.
    injected: Option<(usize, i32)>,
    held: Option<Duration>,
    /// A write to stdout or a `shmdt`: the attached segments' bytes at the stop before it.
    shared: Vec<SharedBytes>,
}

struct ActiveHold {
    hold: usize,
    since: Instant,
    /// Held until its children have ended ([`RunLens::until_children_end`]).
    until_children_end: bool,
    /// CPU time and clock reads of the others when the hold began.
    ran_before: HashMap<Pid, (Duration, u32)>,
}

/// How init should treat the end of a process of the run.
#[derive(Debug)]
pub enum Ended {
    /// Not a traced process (or the run is untraced): as before.
    Untraced,
    /// The program itself.
    Program,
    /// A thread: the end was reported to us as its tracer only.
    ToItsParent,
    /// Abandoned by its parent and handed to init: nobody waited for it.
    Orphan,
    /// Its real parent was another process when we looked; reaping it hands it on to that
    /// parent, unless the parent has ended since. [`Handover::abandoned`] tells, after the reap.
    Handover(Handover),
}

/// A traced process whose end init reaps as its tracer while its real parent was, a moment
/// ago, another process of the run.
///
/// Between that look and init's wait the parent may pass `exit_notify` and make init the real
/// parent too; the wait then ends the child for good, and it was abandoned. The kernel's
/// answer is in what the wait left: a child still there (a zombie for its parent) was handed
/// on — if the parent ends without reaping it, it comes back to init and is counted then; a
/// child gone was reaped by init (or by its parent, right after: but a parent's wait stops at
/// its traced return, so that parent is not ending yet).
#[derive(Debug)]
pub struct Handover {
    /// The child's pidfd: tells whether it still exists, whatever its pid became.
    child: OwnedFd,
    /// The parent's pid in `/proc`'s namespace.
    parent: i32,
}

impl Handover {
    /// Called after init's wait: true when that wait ended the child because its parent had
    /// ended first (nobody waited for it).
    pub fn abandoned(&self) -> bool {
        !procs::exists(&self.child) && procs::is_exiting(self.parent)
    }
}

/// Traces one step.
pub struct Tracer {
    run: RunLens,
    step: usize,
    started: Instant,
    processes: HashMap<Pid, Process>,
    /// Every pid seen in this step → its index (kept after the process is gone).
    index_of: HashMap<i32, usize>,
    /// New processes stopped before their parent's fork event named them.
    unnamed: HashSet<Pid>,
    injection_counts: Vec<u32>,
    trace: Trace,
    /// Bytes of written text in the trace so far.
    text_bytes: usize,
    /// Writes whose segments were read so far ([`MAX_SHARED_READS`]).
    shared_reads: usize,
    /// Our own pid in `/proc`'s namespace (to tell whether we are a process's real parent).
    my_proc_pid: Option<i32>,
}

impl Tracer {
    /// Starts tracing `program` (seized, and about to stop at its `exec`).
    pub fn new(run: RunLens, step: usize, program: Pid, exe: String, started: Instant) -> Tracer {
        let my_proc_pid = std::fs::read_link("/proc/self")
            .ok()
            .and_then(|link| link.to_str()?.parse().ok());
        let mut tracer = Tracer {
            injection_counts: vec![0; run.injections.len()],
            run,
            step,
            started,
            processes: HashMap::new(),
            index_of: HashMap::new(),
            unnamed: HashSet::new(),
            trace: Trace::default(),
            text_bytes: 0,
            shared_reads: 0,
            my_proc_pid,
        };
        tracer.register(program, None, exe);
        tracer
    }

    /// The step's trace, and the run's lens state for the next step.
    pub fn finish(mut self) -> (Trace, RunLens) {
        self.release_all();
        (self.trace, self.run)
    }

    fn register(&mut self, pid: Pid, parent: Option<Pid>, exe: String) -> usize {
        let index = self.trace.processes.len();
        let (lineage, parent_index) = match parent.and_then(|p| self.processes.get_mut(&p)) {
            Some(parent) => {
                let mut lineage = parent.lineage.clone();
                lineage.push(parent.children);
                parent.children += 1;
                (lineage, Some(parent.index))
            }
            None => (Vec::new(), None),
        };
        let proc_pid = procs::proc_pid(pid.as_raw());
        let thread = proc_pid.as_ref().is_some_and(|(proc_pid, _)| {
            procs::status_field(*proc_pid, "Tgid:").is_some_and(|tgid| tgid != proc_pid.to_string())
        });
        self.trace.processes.push(TracedProcess {
            pid: pid.as_raw(),
            parent: parent_index,
            lineage: lineage.clone(),
            exe,
            thread,
        });
        self.index_of.insert(pid.as_raw(), index);
        self.processes.insert(
            pid,
            Process {
                index,
                lineage,
                proc_pid,
                thread,
                children: 0,
                counts: HashMap::new(),
                pending: None,
                clock_read: None,
                clock_reads: 0,
                hold: None,
                exit_held: None,
                exiting: false,
                attached: Vec::new(),
            },
        );
        index
    }

    fn trace_is_full(&self) -> bool {
        self.trace.events.len() >= Trace::MAX_EVENTS
    }

    /// Adds an event for `pid`; `injected` names the injection (index, errno) that made the
    /// call fail.
    fn record(
        &mut self,
        pid: Pid,
        call: Call,
        injected: Option<(usize, i32)>,
        held: Option<Duration>,
    ) {
        self.record_with(pid, call, injected, held, Vec::new());
    }

    /// [`Tracer::record`], with what the process's segments held before the call.
    fn record_with(
        &mut self,
        pid: Pid,
        mut call: Call,
        injected: Option<(usize, i32)>,
        held: Option<Duration>,
        shared: Vec<SharedBytes>,
    ) {
        let Some(process) = self.processes.get_mut(&pid) else {
            return;
        };
        *process.counts.entry(call.kind()).or_default() += 1;
        match &call {
            Call::Shmat {
                result: Ok(addr), ..
            } => process.attached.push(*addr),
            Call::Shmdt {
                addr,
                result: Ok(()),
            } => process.attached.retain(|attached| attached != addr),
            // A new program: the old one's attachments are gone.
            Call::Exec { result: Ok(()), .. } => process.attached.clear(),
            _ => {}
        }
        let process = process.index;
        if self.trace_is_full() {
            self.trace.dropped += 1;
            return;
        }
        if let Call::Write { text, .. } = &mut call {
            let left = Trace::MAX_TEXT_BYTES.saturating_sub(self.text_bytes);
            if text.len() > left {
                let mut cut = left;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
            }
            self.text_bytes += text.len();
        }
        if let Some((injection, _)) = injected {
            self.run.injected.push(Injected {
                injection,
                step: self.step,
                process,
                event: self.trace.events.len(),
            });
        }
        self.trace.events.push(TraceEvent {
            process,
            at: self.started.elapsed(),
            call,
            injected: injected.map(|(_, errno)| errno),
            held,
            shared,
        });
    }

    /// A ptrace stop of `pid`, as `waitpid` reported it: records what it shows and resumes
    /// the process (unless it is to be held).
    pub fn stopped(&mut self, status: WaitStatus) {
        match status {
            WaitStatus::PtraceEvent(pid, _, event)
                if event == Event::PTRACE_EVENT_SECCOMP as i32 =>
            {
                match ptrace::syscall_info(pid) {
                    // SAFETY: op SECCOMP says the union holds `seccomp`.
                    Ok(info) if info.op == libc::PTRACE_SYSCALL_INFO_SECCOMP => {
                        let seccomp = unsafe { info.u.seccomp };
                        self.entering(pid, seccomp.nr, seccomp.args);
                    }
                    _ => self.resume(pid, None),
                }
            }
            WaitStatus::PtraceSyscall(pid) => match ptrace::syscall_info(pid) {
                Ok(info) if info.op == libc::PTRACE_SYSCALL_INFO_ENTRY => {
                    // SAFETY: op ENTRY says the union holds `entry`.
                    let entry = unsafe { info.u.entry };
                    self.entering(pid, entry.nr, entry.args);
                }
                Ok(info) if info.op == libc::PTRACE_SYSCALL_INFO_EXIT => {
                    // SAFETY: op EXIT says the union holds `exit`.
                    let exit = unsafe { info.u.exit };
                    self.returning(pid, exit.sval);
                }
                _ => self.resume(pid, None),
            },
            WaitStatus::PtraceEvent(pid, _, event)
                if [
                    Event::PTRACE_EVENT_FORK,
                    Event::PTRACE_EVENT_VFORK,
                    Event::PTRACE_EVENT_CLONE,
                ]
                .iter()
                .any(|e| *e as i32 == event) =>
            {
                self.forked(pid, event);
            }
            WaitStatus::PtraceEvent(pid, _, event) if event == Event::PTRACE_EVENT_EXEC as i32 => {
                let exe = self
                    .processes
                    .get(&pid)
                    .and_then(|p| p.proc_pid.as_ref())
                    .and_then(|(proc_pid, _)| {
                        std::fs::read_link(format!("/proc/{proc_pid}/exe")).ok()
                    })
                    .map(|path| path.display().to_string())
                    .unwrap_or_default();
                if let Some(process) = self.processes.get(&pid) {
                    self.trace.processes[process.index].exe = exe.clone();
                }
                // Only a run with holds has clocks to move: the others keep the vDSO.
                if self.run.clocks_jump.is_some() && !self.run.holds.is_empty() {
                    clock::hide_vdso(pid);
                }
                self.record(
                    pid,
                    Call::Exec {
                        path: exe,
                        result: Ok(()),
                    },
                    None,
                    None,
                );
                self.resume(pid, None);
            }
            WaitStatus::PtraceEvent(pid, _, event) if event == Event::PTRACE_EVENT_EXIT as i32 => {
                self.exiting(pid);
            }
            WaitStatus::PtraceEvent(pid, _, event) if event == libc::PTRACE_EVENT_STOP => {
                if self.processes.contains_key(&pid) {
                    // A group stop (the program stopped itself): carry on.
                    self.resume(pid, None);
                } else {
                    // A new process, stopped before its parent's fork event named it: keep it
                    // stopped until then, so its lineage is known before it runs.
                    self.unnamed.insert(pid);
                }
            }
            // A signal about to be delivered (`waitid` reports it as a trap with no event).
            WaitStatus::Stopped(pid, signal) | WaitStatus::PtraceEvent(pid, signal, 0) => {
                self.resume(pid, Some(signal))
            }
            _ => {}
        }
    }

    /// The stop before a call runs.
    fn entering(&mut self, pid: Pid, nr: u64, args: [u64; 6]) {
        if let Some(read) = clock::read(nr, &args) {
            // Stopped at its return only when there is something to move.
            if let Some(process) = self.processes.get_mut(&pid) {
                process.clock_reads += 1;
                if !self.run.clocks_ahead.is_zero() {
                    process.clock_read = Some(read);
                }
            }
            return self.resume(pid, None);
        }
        let Some(syscall) = arch::lookup(nr).filter(|syscall| arch::selected(syscall, &args))
        else {
            return self.resume(pid, None);
        };
        let Some(process) = self.processes.get(&pid) else {
            return self.resume(pid, None);
        };
        let kind = syscall.kind;
        let nth = process.counts.get(&kind).copied().unwrap_or(0) + 1;
        let lineage = process.lineage.clone();
        let injected = self.injection(kind);
        if let Some((_, errno)) = injected {
            let _ = arch::skip_with_errno(pid, errno);
        }
        if injected.is_none() && kind != SyscallKind::Exit && self.trace_is_full() {
            // The event would be dropped: count it, and spare the stop at its return (a
            // program flooding its output pays one stop per write, not two, and no copy).
            if let Some(process) = self.processes.get_mut(&pid) {
                *process.counts.entry(kind).or_default() += 1;
            }
            self.trace.dropped += 1;
            return self.resume(pid, None);
        }
        let pending = Pending {
            syscall,
            args,
            slept: decode::sleep_at_entry(pid, syscall, &args),
            injected,
            held: None,
            shared: self.read_shared(pid, kind, &args),
        };
        self.poke(&lineage, PokeAt::Before { call: kind, nth });
        let hold = (0..self.run.holds.len()).find(|&h| {
            let hold = &self.run.holds[h];
            !self.run.started[h]
                && hold.step == self.step
                && hold.call == kind
                && hold.nth == nth
                && hold.process == lineage
        });
        let ran_before = hold.map(|_| self.cpu_of_others(pid)).unwrap_or_default();
        let Some(process) = self.processes.get_mut(&pid) else {
            return;
        };
        process.pending = Some(pending);
        match hold {
            Some(hold) => {
                self.run.started[hold] = true;
                self.run.clocks_ahead = self.run.clocks_jump.unwrap_or_default();
                process.hold = Some(ActiveHold {
                    hold,
                    since: Instant::now(),
                    until_children_end: self.run.until_children_end.contains(&kind),
                    ran_before,
                });
            }
            None => self.go_on(pid),
        }
    }

    /// Counts a call of `kind` for the injections, and returns the one that fires.
    fn injection(&mut self, kind: SyscallKind) -> Option<(usize, i32)> {
        let mut fired = None;
        for (index, injection) in self.run.injections.iter().enumerate() {
            if injection.call != kind || injection.step.is_some_and(|step| step != self.step) {
                continue;
            }
            self.injection_counts[index] += 1;
            let fires = match injection.when {
                When::Every => true,
                When::Nth(n) => self.injection_counts[index] == n,
            };
            if fires && fired.is_none() {
                fired = Some((index, injection.errno));
            }
        }
        fired
    }

    /// Lets a process stopped before a call (and not, or no longer, held) make the call.
    fn go_on(&mut self, pid: Pid) {
        let Some(process) = self.processes.get_mut(&pid) else {
            return;
        };
        if let Some(pending) = &process.pending
            && pending.syscall.kind == SyscallKind::Exit
        {
            // `exit` does not return: its event is the exit stop.
            process.exit_held = pending.held;
            process.pending = None;
        }
        self.resume(pid, None);
    }

    /// The stop after a call returned `value`.
    fn returning(&mut self, pid: Pid, mut value: i64) {
        if let Some(read) = self
            .processes
            .get_mut(&pid)
            .and_then(|p| p.clock_read.take())
        {
            // Failed (a bad pointer: -EFAULT...): nothing to move.
            if value >= 0 {
                clock::shift(pid, read, value, self.run.clocks_ahead);
            }
            return self.resume(pid, None);
        }
        let Some(pending) = self.processes.get_mut(&pid).and_then(|p| p.pending.take()) else {
            return self.resume(pid, None);
        };
        if let Some((_, errno)) = pending.injected {
            value = -i64::from(errno);
            let _ = arch::set_return(pid, value);
        }
        // ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK: interrupted by
        // a signal, the call will run again and be seen again; a sleep is recorded now (it
        // restarts as `restart_syscall`, which is not traced).
        if (-516..=-512).contains(&value) {
            if pending.syscall.kind != SyscallKind::Sleep {
                return self.resume(pid, None);
            }
            value = -i64::from(libc::EINTR);
        }
        let index_of = &self.index_of;
        let call = decode::call(
            pid,
            pending.syscall,
            &pending.args,
            value,
            pending.slept,
            |p| index_of.get(&p).copied(),
        );
        if let Some(call) = call {
            self.record_with(pid, call, pending.injected, pending.held, pending.shared);
        }
        self.resume(pid, None);
    }

    /// At the stop before a write to stdout, before any hold: the first bytes of each segment
    /// the process has attached, read from its memory (it is stopped, so they are what it had
    /// put there when it decided to print). Also before a `shmdt`: what the segment held when
    /// the process gave it up (for a line printed after detaching).
    fn read_shared(&mut self, pid: Pid, kind: SyscallKind, args: &[u64; 6]) -> Vec<SharedBytes> {
        let stdout = kind == SyscallKind::Write && args[0] == 1;
        if !(stdout || kind == SyscallKind::Shmdt) || self.shared_reads >= MAX_SHARED_READS {
            return Vec::new();
        }
        let Some(process) = self.processes.get(&pid) else {
            return Vec::new();
        };
        let shared: Vec<SharedBytes> = process
            .attached
            .iter()
            .map(|&addr| SharedBytes {
                addr,
                bytes: decode::read_memory(pid, addr, SharedBytes::MAX_BYTES),
            })
            .collect();
        if !shared.is_empty() {
            self.shared_reads += 1;
        }
        shared
    }

    /// A fork, vfork or clone event: the child exists.
    fn forked(&mut self, parent: Pid, event: i32) {
        let child = ptrace::getevent(parent)
            .ok()
            .map(|pid| Pid::from_raw(pid as i32));
        if let Some(child) = child.filter(|child| !self.processes.contains_key(child)) {
            let exe = self
                .processes
                .get(&parent)
                .map(|p| self.trace.processes[p.index].exe.clone())
                .unwrap_or_default();
            let index = self.register(child, Some(parent), exe);
            // The child has its parent's attachments (fork copies the mappings).
            let inherited = self
                .processes
                .get(&parent)
                .map(|p| p.attached.clone())
                .unwrap_or_default();
            if let Some(process) = self.processes.get_mut(&child) {
                process.attached = inherited;
            }
            let (name, held) = match self
                .processes
                .get_mut(&parent)
                .and_then(|p| p.pending.as_mut())
            {
                Some(pending) => (pending.syscall.name, pending.held.take()),
                None if event == Event::PTRACE_EVENT_VFORK as i32 => ("vfork", None),
                None if event == Event::PTRACE_EVENT_FORK as i32 => ("fork", None),
                None => ("clone", None),
            };
            let call = Call::Fork {
                syscall: name.to_owned(),
                result: Ok(index),
            };
            self.record(parent, call, None, held);
            if self.unnamed.remove(&child) {
                self.resume(child, None);
            }
        }
        self.resume(parent, None);
    }

    /// The stop before a process ends: its exit status, and the pokes it triggers.
    fn exiting(&mut self, pid: Pid) {
        let status = ptrace::getevent(pid).unwrap_or(0) as i32;
        let exit = if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            let name = Signal::try_from(signal)
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|_| format!("signal {signal}"));
            Exit::Signal(signal, name)
        } else {
            Exit::Code(libc::WEXITSTATUS(status))
        };
        if let Some(process) = self.processes.get_mut(&pid) {
            process.pending = None;
            process.exiting = true;
            let held = process.exit_held.take();
            let lineage = process.lineage.clone();
            self.record(pid, Call::Exit(exit), None, held);
            self.poke(&lineage, PokeAt::Exit);
        }
        let _ = ptrace::cont(pid, None);
    }

    /// Makes the pokes that the stop `at` of process `lineage` triggers (it is stopped there).
    fn poke(&mut self, lineage: &[u32], at: PokeAt) {
        for target in &self.run.pokes {
            if target.poke.step == self.step
                && target.poke.process == lineage
                && target.poke.at == at
                && !self.run.poked.contains(&target.index)
                && target.poke.offset + target.poke.bytes.len() <= target.attachment.len()
                && target.poke.only_if.iter().all(|(offset, bytes)| {
                    let mut held = vec![0; bytes.len()];
                    target.attachment.try_read(*offset, &mut held).is_ok() && held == *bytes
                })
            {
                target
                    .attachment
                    .write(target.poke.offset, &target.poke.bytes);
                self.run.poked.push(target.index);
            }
        }
    }

    /// Resumes a stopped process: to its call's return when a call is pending (or in plain
    /// `PTRACE_SYSCALL` mode), else to the next stop the filter makes.
    fn resume(&self, pid: Pid, signal: Option<Signal>) {
        let to_return = self.run.mode == Some(Mode::Syscall)
            || self
                .processes
                .get(&pid)
                .is_some_and(|p| p.pending.is_some() || p.clock_read.is_some());
        // ESRCH: killed meanwhile (the timeout), nothing to resume.
        let _ = if to_return {
            ptrace::syscall(pid, signal)
        } else {
            ptrace::cont(pid, signal)
        };
    }

    /// A process of the run has ended (a zombie, peeked at by init): who must reap it.
    pub fn ended(&mut self, pid: Pid) -> Ended {
        self.unnamed.remove(&pid);
        let Some(process) = self.processes.remove(&pid) else {
            return Ended::Untraced;
        };
        if process.index == 0 {
            return Ended::Program;
        }
        if process.thread {
            return Ended::ToItsParent;
        }
        let Some((proc_pid, child)) = process.proc_pid else {
            return Ended::Orphan;
        };
        let parent = procs::status_field(proc_pid, "PPid:").and_then(|ppid| ppid.parse().ok());
        match (parent, self.my_proc_pid) {
            (Some(parent), Some(me)) if parent != me => Ended::Handover(Handover { child, parent }),
            _ => Ended::Orphan,
        }
    }

    /// How soon [`Tracer::tick`] wants to run again.
    pub fn next_tick(&self) -> Option<Duration> {
        self.processes
            .values()
            .any(|p| p.hold.is_some())
            .then_some(HOLD_TICK)
    }

    /// Releases the holds whose time has come (see the module docs).
    pub fn tick(&mut self) {
        let held: Vec<Pid> = self
            .processes
            .iter()
            .filter(|(_, p)| p.hold.is_some())
            .map(|(pid, _)| *pid)
            .collect();
        for pid in held {
            if self.hold_is_over(pid) {
                self.release(pid);
            }
        }
    }

    fn hold_is_over(&self, pid: Pid) -> bool {
        let Some(hold) = self.processes.get(&pid).and_then(|p| p.hold.as_ref()) else {
            return true;
        };
        let elapsed = hold.since.elapsed();
        if elapsed >= SLEEP_CAP {
            return true;
        }
        if hold.until_children_end {
            let lineage = &self.processes[&pid].lineage;
            let children_alive = self.processes.values().any(|process| {
                process.lineage.len() > lineage.len()
                    && process.lineage.starts_with(lineage)
                    && !process.exiting
                    && !process.thread
            });
            if children_alive {
                return false;
            }
        }
        let others = self.processes.iter().filter(|(other, _)| **other != pid);
        let mut sleeping = false;
        let mut settled = elapsed >= HOLD_TICK;
        for (other, process) in others {
            if process.hold.is_some() {
                continue;
            }
            if process
                .pending
                .as_ref()
                .is_some_and(|p| p.syscall.kind == SyscallKind::Sleep)
            {
                sleeping = true;
                continue;
            }
            let Some((proc_pid, _)) = &process.proc_pid else {
                continue;
            };
            let blocked = match state(*proc_pid) {
                None => true,
                // Not 'D': uninterruptible waits are short (a page fault, a disk read).
                Some(state) => matches!(state, 'S' | 'Z' | 'X' | 'x' | 'T'),
            };
            let (cpu_before, reads_before) =
                hold.ran_before.get(other).copied().unwrap_or_default();
            let ran =
                cpu_time(*proc_pid).is_some_and(|now| now.saturating_sub(cpu_before) >= RAN_ENOUGH);
            // A waiting loop that reads the clock (the vDSO hidden) spends its time stopped
            // at those reads rather than on the CPU: going round it is its chance.
            let looped = process.clock_reads.saturating_sub(reads_before) >= LOOPED_ENOUGH;
            settled &= blocked || ran || looped;
        }
        !sleeping && (settled || elapsed >= self.run.hold_bound)
    }

    fn release(&mut self, pid: Pid) {
        let Some(process) = self.processes.get_mut(&pid) else {
            return;
        };
        let Some(hold) = process.hold.take() else {
            return;
        };
        let held = hold.since.elapsed();
        if let Some(pending) = &mut process.pending {
            pending.held = Some(held);
        }
        self.run.holds[hold.hold].held_for = Some(held);
        self.go_on(pid);
    }

    /// Releases every hold (the program ended, or the step is over).
    pub fn release_all(&mut self) {
        let held: Vec<Pid> = self
            .processes
            .iter()
            .filter(|(_, p)| p.hold.is_some())
            .map(|(pid, _)| *pid)
            .collect();
        for pid in held {
            self.release(pid);
        }
    }

    fn cpu_of_others(&self, pid: Pid) -> HashMap<Pid, (Duration, u32)> {
        self.processes
            .iter()
            .filter(|(other, _)| **other != pid)
            .filter_map(|(other, process)| {
                let (proc_pid, _) = process.proc_pid.as_ref()?;
                Some((*other, (cpu_time(*proc_pid)?, process.clock_reads)))
            })
            .collect()
    }
}

/// The scheduler state letter of `/proc/PID/stat` (`R`, `S`, `D`, `T`, `t`, `Z`...).
fn state(proc_pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{proc_pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// CPU time used so far (`/proc/PID/schedstat`, in nanoseconds).
fn cpu_time(proc_pid: i32) -> Option<Duration> {
    let schedstat = std::fs::read_to_string(format!("/proc/{proc_pid}/schedstat")).ok()?;
    let nanos = schedstat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}
