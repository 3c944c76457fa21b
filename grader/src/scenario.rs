//! What the grader asks the sandbox to run, and what the sandbox saw.
//!
//! These types are the contract between the two halves of the grader: [`crate::sandbox`] runs a
//! [`Scenario`] in a private IPC and PID namespace and returns [`Observation`]s; the checks in
//! [`crate::exercises`] turn observations into points. They are serialised (JSON) because the
//! sandbox runs in a process of its own, so they hold plain data only.

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
