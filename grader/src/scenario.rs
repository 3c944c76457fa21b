//! What the grader asks the sandbox to run, and what the sandbox saw.
//!
//! These types are the contract between the two halves of the grader: [`crate::sandbox`] runs a
//! [`Scenario`] in a private IPC and PID namespace and returns [`Observation`]s; the checks in
//! [`crate::exercises`] turn observations into points. They are serialised (JSON) because the
//! sandbox runs in a process of its own, so they hold plain data only.
//!
//! # The lens
//!
//! [`Scenario::lens`] asks for more than the end state: a trace of the system calls of every
//! process of the program's tree ([`StepOutcome::trace`]), schedules that hold one process at
//! one of its calls so the others run first ([`Schedules::Explore`]), calls made to fail on
//! purpose ([`Injection`]), bytes written into a segment behind the program's back ([`Poke`]),
//! clocks moved ahead once a hold begins ([`Explore::clocks_jump`]) and segment ids used up
//! before the program runs ([`Lens::burn_ids`]). Processes are named by
//! their [`Lineage`] (which child of which child of the program), which, unlike pids and unlike
//! the order in which the kernel happens to run forks, is the same in every run of a program.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::proc_shm::ShmEntry;

/// One test of an exercise: set the kernel up, run the program one or more times, look.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scenario {
    /// Short name, shown in reports (`"second run finds the same segment"`).
    pub name: String,
    /// The program under test (a built binary).
    pub program: PathBuf,
    /// Segments the grader creates before the first step (e.g. the key 9990 segment that
    /// `attach` expects). Their ids are reported in [`Observation::setup_ids`].
    pub setup: Vec<SetupSegment>,
    /// Runs of the program, one after the other, in the same namespace.
    pub steps: Vec<Step>,
    /// Per step: past it, the step's whole process tree is killed and the step is `TimedOut`.
    pub timeout: Duration,
    /// Pin the program (and its children) to this CPU, to expose races.
    pub pin_cpu: Option<usize>,
    /// How many times to run the whole scenario, each time in a fresh namespace.
    pub repeat: u32,
    /// Every key the program may use (the exercise's fixed keys; setup keys need not be
    /// repeated). Only host mode needs them: it refuses to run if one of them already names a
    /// segment on the machine, as the program would then use (and might remove) someone else's.
    #[serde(default)]
    pub keys: Vec<i32>,
    /// What the system-call lens observes, perturbs and injects (see the module docs).
    #[serde(default)]
    pub lens: Lens,
}

/// The system-call lens's part of a [`Scenario`]. The default traces every step and changes
/// nothing: one run per repeat, no injection, no poke, no ids burnt.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Lens {
    /// Trace the program's processes ([`StepOutcome::trace`]). When tracing is off or not
    /// allowed, holds, injections and pokes cannot happen either: [`Observation::untraced`]
    /// says why, and the checks must fall back to what they can see without a trace.
    pub trace: bool,
    /// Which runs to make.
    pub schedules: Schedules,
    /// Calls made to fail on purpose, in every run.
    pub inject: Vec<Injection>,
    /// Bytes written into setup segments behind the program's back, in every run.
    pub pokes: Vec<Poke>,
    /// Create and remove this many segments before the setup, so that the ids the program
    /// gets are not 0, 1, 2… (a program printing a hard-coded id then fails).
    pub burn_ids: u32,
}

impl Default for Lens {
    fn default() -> Lens {
        Lens {
            trace: true,
            schedules: Schedules::Once,
            inject: Vec::new(),
            pokes: Vec::new(),
            burn_ids: 0,
        }
    }
}

/// Which runs the sandbox makes of a scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Schedules {
    /// [`Scenario::repeat`] runs, scheduled by the kernel as it likes.
    #[default]
    Once,
    /// The [`Scenario::repeat`] runs (the first is the *baseline*), then, if every step of the
    /// baseline ran to its end, whatever its exit status (a stub stopped at its `todo!()` or a
    /// hanging program runs once; a racy one that also exits 1 meets the schedules too),
    /// one run per [`Hold`] derived from the baseline's trace: every process × every
    /// [`Explore::at`] call it made, each occurrence, where another process may run meanwhile
    /// (a child's calls; a parent's between its first fork and the wait that reaped its last
    /// child), in a sorted order (depth 1), then pairs of holds in two different processes
    /// (depth 2) while [`Explore::max_runs`] allows. The list depends only on each process's
    /// own calls, not on how the baseline interleaved them, so regradings make the same runs.
    /// Each such run's [`Observation::schedule`] names its holds.
    Explore(Explore),
}

/// How [`Schedules::Explore`] explores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explore {
    /// The longest a process is held. It is released earlier once every other process of the
    /// step is blocked (waiting in the kernel), stopped, gone, or has run 1 ms of CPU since
    /// (a process spinning on a turn never blocks) or read the clock 3 times (seen with
    /// [`Explore::clocks_jump`]); never while another is in a traced sleep
    /// (up to 1 s): waiting that out is what exposes ordering by sleeping. The bound is for a
    /// process that gets no CPU at all: on a loaded machine the others may wait tens of
    /// milliseconds for a core, and a hold released before they ran exposes nothing. On an
    /// idle machine the others have run their millisecond long before it.
    pub hold: Duration,
    /// The calls a process may be held at (before the kernel runs them).
    pub at: Vec<SyscallKind>,
    /// 1: one hold per run; 2: also two holds (in two processes) per run.
    pub depth: u8,
    /// At most this many runs besides the baseline.
    pub max_runs: u32,
    /// A process held at one of these calls while children of its own are alive is held until
    /// they have all ended (at most 1 s), whatever else runs: a parent held at its `shmat`
    /// after the fork then shows whether its child could do its part without it. A parent
    /// that attaches only after `waitpid` has no child alive there, and is not held at all.
    #[serde(default)]
    pub until_children_end: Vec<SyscallKind>,
    /// Read the clocks through the kernel (the vDSO hidden from the program at its `exec`), and
    /// move them this far ahead, for the rest of the run, once a hold begins (once, however
    /// many holds): to a process that waits by spinning on the clock, the held one was away
    /// that long. `None`: clocks as they are.
    #[serde(default)]
    pub clocks_jump: Option<Duration>,
}

impl Default for Explore {
    fn default() -> Explore {
        Explore {
            hold: Duration::from_millis(100),
            at: vec![
                SyscallKind::Write,
                SyscallKind::Shmat,
                SyscallKind::Shmdt,
                SyscallKind::Exit,
                SyscallKind::Wait,
            ],
            depth: 1,
            max_runs: 64,
            until_children_end: Vec::new(),
            clocks_jump: None,
        }
    }
}

/// A process of a step's tree, named by descent: `[]` is the program, `[0]` its first child
/// (in the order the program forked them; a thread it starts counts as a child too), `[1, 0]`
/// the first child of its second child.
pub type Lineage = Vec<u32>;

/// One process held at one of its calls for up to [`Explore::hold`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Index into [`Scenario::steps`].
    pub step: usize,
    pub process: Lineage,
    pub call: SyscallKind,
    /// Which of that process's calls of this kind: 1 for the first.
    pub nth: u32,
    /// In an [`Observation`]: how long the process was held; `None` if the run never reached
    /// the call. Ignored in a request.
    #[serde(default)]
    pub held_for: Option<Duration>,
}

impl Hold {
    /// In words, for a report: `"child 1's 2nd write held 20 ms"`.
    pub fn describe(&self) -> String {
        let nth = match self.nth {
            1 => String::new(),
            2 => "2nd ".to_string(),
            3 => "3rd ".to_string(),
            n => format!("{n}th "),
        };
        let held = match self.held_for {
            Some(held) => format!("held {} ms", held.as_millis()),
            None => "to be held (never reached)".to_string(),
        };
        format!(
            "{}'s {nth}{} {held}",
            describe_process(&self.process),
            self.call.describe()
        )
    }
}

/// A process by its lineage, in words: `"the program"`, `"child 1"`, `"child 2 of child 1"`.
pub fn describe_process(lineage: &[u32]) -> String {
    match lineage.split_last() {
        None => "the program".to_string(),
        Some((last, [])) => format!("child {}", last + 1),
        Some((last, parent)) => format!("child {} of {}", last + 1, describe_process(parent)),
    }
}

/// The kinds of calls the lens knows, for holds and injections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SyscallKind {
    Shmget,
    Shmat,
    Shmdt,
    Shmctl,
    /// `fork`, `vfork`, `clone`, `clone3`.
    Fork,
    /// `execve`, `execveat`.
    Exec,
    /// `write`/`writev` to fd 1 or 2 (other fds are not traced).
    Write,
    /// `wait4`, `waitid`.
    Wait,
    /// `nanosleep`, `clock_nanosleep`, and `poll`, `ppoll`, `select`, `pselect6`,
    /// `epoll_wait`, `epoll_pwait`, `futex` waits when given a timeout.
    Sleep,
    /// `exit`, `exit_group` (a hold at exit holds the process just before it ends).
    Exit,
}

impl SyscallKind {
    /// In words: `"write"`, `"shmat"`, `"wait"`...
    pub fn describe(self) -> &'static str {
        match self {
            SyscallKind::Shmget => "shmget",
            SyscallKind::Shmat => "shmat",
            SyscallKind::Shmdt => "shmdt",
            SyscallKind::Shmctl => "shmctl",
            SyscallKind::Fork => "fork",
            SyscallKind::Exec => "exec",
            SyscallKind::Write => "write",
            SyscallKind::Wait => "wait",
            SyscallKind::Sleep => "sleep",
            SyscallKind::Exit => "exit",
        }
    }
}

/// Make a call fail, as `strace -e inject=SYSCALL:error=ERRNO:when=N` does: the kernel does
/// not run it and the program gets `-1` with this errno.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Injection {
    /// [`SyscallKind::Exit`] and [`SyscallKind::Sleep`] cannot be injected.
    pub call: SyscallKind,
    /// The errno the program sees, e.g. `libc::ENOMEM`.
    pub errno: i32,
    pub when: When,
    /// Only in this step (index into [`Scenario::steps`]); `None`: every step.
    #[serde(default)]
    pub step: Option<usize>,
}

impl Injection {
    /// Fails the `n`-th call of this kind (1 for the first), in every step.
    pub fn nth(call: SyscallKind, errno: i32, n: u32) -> Injection {
        Injection {
            call,
            errno,
            when: When::Nth(n),
            step: None,
        }
    }

    /// Fails every call of this kind, in every step.
    pub fn every(call: SyscallKind, errno: i32) -> Injection {
        Injection {
            call,
            errno,
            when: When::Every,
            step: None,
        }
    }
}

/// Which calls an [`Injection`] fails, counted over the step's whole process tree in the order
/// the tracer sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum When {
    /// Only the n-th (1 for the first).
    Nth(u32),
    /// Every one.
    Every,
}

/// Bytes the grader writes into a setup segment behind the program's back, while one of its
/// processes is stopped: at its exit (before its parent can see it gone), e.g. a number the
/// parent must then print; or before one of its calls, e.g. a message changed after one child
/// wrote it and before the other reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poke {
    /// Index into [`Scenario::setup`].
    pub segment: usize,
    pub offset: usize,
    pub bytes: Vec<u8>,
    /// Index into [`Scenario::steps`].
    pub step: usize,
    /// The process whose stop triggers it (e.g. `vec![0]`, the program's first child).
    pub process: Lineage,
    /// Which of its stops.
    pub at: PokeAt,
    /// Made only if the segment then holds these bytes at these offsets (e.g. a turn not yet
    /// passed, a question not yet answered); empty: always.
    #[serde(default)]
    pub only_if: Vec<(usize, Vec<u8>)>,
}

/// The stop of a [`Poke`]'s process that triggers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PokeAt {
    /// Its end (whatever the cause), before its parent can see it gone.
    Exit,
    /// The stop before its `nth` call of this kind (1 for the first), after the lens read what
    /// its segments held there ([`Event::shared`]) and before any hold.
    Before { call: SyscallKind, nth: u32 },
}

/// A segment made by the grader before the program runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SetupSegment {
    pub key: i32,
    pub size: usize,
    /// Permission bits, e.g. `0o666`.
    pub mode: u32,
    /// Written at offset 0 after creation.
    pub contents: Vec<u8>,
    /// Keep the segment attached (read-only) by the grader while the program runs, so that its
    /// contents survive the program's `IPC_RMID` and can be checked after: the kernel keeps a
    /// removed segment alive, marked `SHM_DEST`, until its last detach.
    pub hold_attached: bool,
}

/// One run of the program.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    pub args: Vec<String>,
    pub input: Input,
}

/// What the program's standard input is.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Input {
    /// Closed (reads see end of file at once).
    Closed,
    /// A dialog on a terminal: wait until the output ends with `prompt`, then type `reply`
    /// (sent as is: include the `\n` to press Enter, or leave it out to send end of file).
    Dialog { prompt: String, reply: String },
}

/// What one run of a scenario left behind.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Observation {
    /// How the run was isolated.
    pub isolation: Isolation,
    /// Ids of the [`Scenario::setup`] segments, in order.
    pub setup_ids: Vec<i32>,
    pub steps: Vec<StepOutcome>,
    /// Every segment in the namespace after the last step, in id order, with its contents
    /// (held setup segments included, even once removed and marked for destruction).
    pub segments: Vec<SegmentState>,
    /// Set when the sandbox itself failed (a setup segment could not be made, a program could
    /// not be started...): the grader reports it as its own error, not the student's.
    pub error: Option<String>,
    /// Why the steps have no trace (tracing off, or the kernel refused `ptrace`, e.g. in a
    /// container): then no hold, injection nor poke happened either. `None` when traced.
    #[serde(default)]
    pub untraced: Option<String>,
    /// The holds of this run ([`Schedules::Explore`]); empty for a run the kernel scheduled
    /// alone (every run of [`Schedules::Once`], and the baseline).
    #[serde(default)]
    pub schedule: Vec<Hold>,
    /// The injections that fired: which ([`Lens::inject`] index), where, in which call.
    #[serde(default)]
    pub injected: Vec<Injected>,
    /// The pokes made ([`Lens::pokes`] indices); one whose process never ended is missing.
    #[serde(default)]
    pub poked: Vec<usize>,
    /// The segment ids burnt before setup ([`Lens::burn_ids`]): the program's first new
    /// segment gets none of them.
    #[serde(default)]
    pub burnt_ids: Vec<i32>,
}

impl Observation {
    /// An observation of nothing yet: no step run, no segment, no error.
    pub fn empty(isolation: Isolation) -> Observation {
        Observation {
            isolation,
            setup_ids: Vec::new(),
            steps: Vec::new(),
            segments: Vec::new(),
            error: None,
            untraced: None,
            schedule: Vec::new(),
            injected: Vec::new(),
            poked: Vec::new(),
            burnt_ids: Vec::new(),
        }
    }
}

/// An [`Injection`] that made a call fail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Injected {
    /// Index into [`Lens::inject`].
    pub injection: usize,
    pub step: usize,
    /// Index into the step's [`Trace::processes`].
    pub process: usize,
    /// Index into the step's [`Trace::events`] (the failed call).
    pub event: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Isolation {
    /// The sandbox: private user, IPC, PID, mount, network, UTS and cgroup namespaces, the
    /// program as an unprivileged uid with no capabilities under a seccomp filter (see
    /// `sandbox`'s docs). `self_mapped`: the grader was an ordinary user, and the program ran as
    /// that user's own uid; otherwise the grader was root, and the program ran as a uid of a
    /// dedicated range.
    Namespaces { self_mapped: bool },
    /// No namespace was allowed: the run shared the machine's namespaces, with the grader's
    /// rights. Not a sandbox (see `sandbox`'s docs for the rules that keep the machine's own
    /// segments safe then).
    Host,
}

impl Isolation {
    /// The tier's name, as reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            Isolation::Namespaces { self_mapped: false } => "namespaces",
            Isolation::Namespaces { self_mapped: true } => "namespaces (user namespace)",
            Isolation::Host => "host",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepOutcome {
    /// The program's pid, as the kernel's `cpid`/`lpid` fields show it in the run's namespace.
    pub pid: i32,
    pub exit: Exit,
    /// Standard output (for a [`Input::Dialog`], the terminal's whole transcript, stderr included).
    pub stdout: Captured,
    pub stderr: Captured,
    pub duration: Duration,
    /// Processes of the program's tree still running after it exited (then killed).
    pub left_running: Vec<ProcessInfo>,
    /// Processes of the program's tree that ended without being waited for by their parent
    /// (reaped by the namespace's init instead).
    pub not_waited_for: Vec<ProcessInfo>,
    /// What every process of the step's tree did, in system calls; `None` when not traced
    /// ([`Observation::untraced`] says why).
    #[serde(default)]
    pub trace: Option<Trace>,
}

/// The system calls of a step's processes that matter to the lab, as the tracer saw them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// In order of creation: index 0 is the program.
    pub processes: Vec<TracedProcess>,
    /// In the order the tracer saw them: a call is recorded when it returns (with its result),
    /// except `exit` and `exec`, recorded when they happen, and a fork, recorded when the
    /// child exists. Within one process this is program order; across processes it is the
    /// order of the tracer's stops, which for writes to one pipe can differ from the order
    /// of the bytes when two processes write at once.
    pub events: Vec<Event>,
    /// Events not recorded after [`Trace::MAX_EVENTS`] (a program writing in a loop).
    pub dropped: u64,
}

impl Trace {
    /// The most events kept per step.
    pub const MAX_EVENTS: usize = 4096;
    /// The most bytes of written text kept per step, all writes together (past it, a write's
    /// text is cut, down to empty).
    pub const MAX_TEXT_BYTES: usize = 64 * 1024;
}

/// A process of a step's tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedProcess {
    /// Its pid in the run's namespace (as `getpid` and the kernel's `cpid` show it).
    pub pid: i32,
    /// Index of its parent in [`Trace::processes`]; `None` for the program.
    pub parent: Option<usize>,
    pub lineage: Lineage,
    /// Its last exec (the program's path for the program).
    pub exe: String,
    /// A thread (`clone` with `CLONE_THREAD`) rather than a process.
    pub thread: bool,
}

/// One call of one process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Index into [`Trace::processes`].
    pub process: usize,
    /// Since the step started.
    pub at: Duration,
    pub call: Call,
    /// The call did not run: the grader made it fail with this errno ([`Injection`]).
    #[serde(default)]
    pub injected: Option<i32>,
    /// The process was held at this call (before it ran) for this long ([`Hold`]).
    #[serde(default)]
    pub held: Option<Duration>,
    /// A write to stdout or a `shmdt` only: what the segments the process had attached held
    /// when it stopped before the call, read from its memory while it was stopped, so what a
    /// line can truthfully report ("child: 37892" with 37892 already in the segment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<SharedBytes>,
}

/// The first bytes of one attached segment, read at a stop ([`Event::shared`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedBytes {
    /// Where the process has it attached (what its `shmat` returned, or its parent's before
    /// the fork).
    pub addr: u64,
    /// At most [`SharedBytes::MAX_BYTES`] bytes from `addr`.
    pub bytes: Vec<u8>,
}

impl SharedBytes {
    /// Bytes read per attachment: the lab's messages fit (ping-pong's answer ends at 43).
    pub const MAX_BYTES: usize = 64;
}

/// A call's result: its value, or the errno it failed with (`libc::ENOMEM`...).
pub type Returned<T> = Result<T, i32>;

/// A traced call with its arguments and result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Call {
    Shmget {
        key: i32,
        size: u64,
        /// `IPC_CREAT`, `IPC_EXCL` and the mode bits.
        flags: i32,
        result: Returned<i32>,
    },
    Shmat {
        id: i32,
        addr: u64,
        flags: i32,
        /// The address attached.
        result: Returned<u64>,
    },
    Shmdt {
        addr: u64,
        result: Returned<()>,
    },
    Shmctl {
        id: i32,
        /// `IPC_RMID` (0), `IPC_SET` (1), `IPC_STAT` (2)...
        cmd: i32,
        result: Returned<i64>,
    },
    /// One of [`SyscallKind::Sleep`]'s calls.
    Sleep {
        /// The system call's name (`"nanosleep"`, `"futex"`...).
        syscall: String,
        /// The time asked for; `None` when it could not be read.
        duration: Option<Duration>,
        result: Returned<i64>,
    },
    Wait {
        /// `"wait4"` or `"waitid"`.
        syscall: String,
        /// The pid asked for (`-1`: any child; for `waitid`, the id with `P_ALL` as `-1`).
        pid: i64,
        /// The pid reaped (0 with `WNOHANG` and none ended).
        result: Returned<i32>,
        /// Index into [`Trace::processes`] of the process reaped, when traced.
        reaped: Option<usize>,
    },
    Fork {
        /// `"fork"`, `"vfork"`, `"clone"` or `"clone3"`.
        syscall: String,
        /// Index into [`Trace::processes`] of the child.
        result: Returned<usize>,
    },
    Write {
        /// 1 or 2.
        fd: i32,
        /// What was written (lossy UTF-8, at most [`Call::WRITE_BYTES`] bytes kept, and at
        /// most [`Trace::MAX_TEXT_BYTES`] in a whole trace).
        text: String,
        /// Bytes written.
        result: Returned<u64>,
    },
    Exec {
        path: String,
        result: Returned<()>,
    },
    /// The process ended.
    Exit(Exit),
}

impl Call {
    /// The most bytes of one write kept in [`Call::Write`].
    pub const WRITE_BYTES: usize = 4096;

    pub fn kind(&self) -> SyscallKind {
        match self {
            Call::Shmget { .. } => SyscallKind::Shmget,
            Call::Shmat { .. } => SyscallKind::Shmat,
            Call::Shmdt { .. } => SyscallKind::Shmdt,
            Call::Shmctl { .. } => SyscallKind::Shmctl,
            Call::Sleep { .. } => SyscallKind::Sleep,
            Call::Wait { .. } => SyscallKind::Wait,
            Call::Fork { .. } => SyscallKind::Fork,
            Call::Write { .. } => SyscallKind::Write,
            Call::Exec { .. } => SyscallKind::Exec,
            Call::Exit(_) => SyscallKind::Exit,
        }
    }
}

/// An errno's name, as strace prints it (`"ENOMEM"`).
pub fn errno_name(errno: i32) -> String {
    format!("{:?}", nix::errno::Errno::from_raw(errno))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Exit {
    Code(i32),
    /// Killed by this signal (number and name, e.g. `11`, `"SIGSEGV"`).
    Signal(i32, String),
    /// Still running at the timeout; killed.
    TimedOut,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub pid: i32,
    /// The command name (`/proc/PID/comm`) when it could be read.
    pub name: String,
}

/// Output as captured: capped, keeping the head and the tail.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Captured {
    /// The text kept (lossy UTF-8); when cut, the middle is replaced by a marker line.
    pub text: String,
    /// How many bytes the program wrote in all.
    pub total_bytes: u64,
    pub truncated: bool,
}

/// A segment as the kernel described it after the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SegmentState {
    pub entry: ShmEntry,
    /// Its first bytes (at most 4096), read through a read-only attachment.
    pub contents: Vec<u8>,
    /// One of the grader's setup segments that it kept attached ([`SetupSegment::hold_attached`]):
    /// its `nattch` counts the grader's attachment.
    pub held_by_grader: bool,
}

/// Defaults used by the exercise table.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
