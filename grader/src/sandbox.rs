//! Runs a [`Scenario`] where it cannot touch the machine, and reports what it saw.
//!
//! # Design
//!
//! **Why a process of its own (re-exec).** Namespaces belong to processes (and `unshare` of a
//! user namespace is refused to a multi-threaded process), and the sandbox forks a lot, which
//! is only safe in a single-threaded process. The grader itself runs threads (parallel jobs,
//! tests), so [`run`] starts a fresh copy of the grader binary, `grader __sandbox`, which reads
//! the scenario as JSON on stdin and writes one [`Observation`] per run, as JSON, on stdout:
//! the repeats, then one per schedule the baseline's trace calls for (`trace/explore.rs`).
//! [`serve`] is that hidden subcommand; `main` calls it before anything else. Grading keeps
//! one such process started ahead per thread ([`Sandboxes`]), so that its start overlaps a run.
//!
//! **The process tree.** `grader __sandbox` (on the machine's side, which is where the pids
//! cgroup is made and the uid range is mapped) forks a *jail* per scenario; the jail forks a
//! *worker* per run; the worker forks the run's *init* (pid 1 of the run), which forks
//! the program (pid 2, 3, …):
//!
//! ```text
//! grader ── grader __sandbox ── jail ──────────── worker ──────────── init ── program
//!           (machine's side)    user, mount,      IPC, PID and        /proc, scratch,
//!                               net, UTS, cgroup  mount namespaces    steps, observation
//!                               namespaces; root  of the run
//! ```
//!
//! **The jail, once per scenario** (`userns.rs`, `rootfs.rs`): a new user namespace (as root
//! the dedicated uid range, mapped by the sandbox, which alone may; otherwise the caller's own
//! uid as 0), then new mount, network, UTS and cgroup namespaces, and the minimal read-only
//! root built and pivoted into. One network namespace for all the repeats: making one costs
//! about 0.4 ms here and tearing it down more (an asynchronous kernel worker), against 0.04 ms
//! for IPC and PID; nothing of the network survives a run anyway (sockets die with their
//! processes), and a program has no right to configure it. The sandbox itself never enters any
//! of this, so when the kernel refuses a tier it is free to try the next.
//!
//! **Per repeat: fresh IPC, PID and mount namespaces.** The worker unshares them and forks
//! init. Init mounts the run's own `/proc`, detaches the machine's old root for good, mounts the
//! scratch tmpfs, creates the setup segments (as the program's uid, so that the program owns
//! them as if an earlier program of the student's had made them), runs the steps, reads
//! `/proc/sysvipc/shm` — which shows the reader's IPC namespace — and sends the observation
//! back through a pipe. When init exits the kernel kills every process left in its PID
//! namespace; when the worker and init are gone the IPC namespace dies with every segment in it.
//! Nothing can leak to the machine, and no run sees another's segments. (A PID namespace can be
//! unshared only once per process, hence one worker per repeat.)
//!
//! **The program** (`confine.rs`, `seccomp.rs`) runs as an unprivileged uid (1000 inside, host
//! uid [`RANGE_BASE`]` + 1000`, as root; otherwise the caller's own uid, in a user namespace of
//! its own nested in the jail's: see `userns.rs`), with no capabilities
//! in any set, the bounding set empty and `SECBIT_NOROOT` locked, `no_new_privs`, a seccomp
//! filter that refuses `setns`, `unshare`, `mount`, `ptrace` (but `PTRACE_TRACEME`), `bpf`,
//! `keyctl` and the like, its scratch directory ([`SCRATCH`]) as working directory and `HOME`,
//! and only `PATH`, `LANG` and `HOME` in its environment. Init, the tracer, is not filtered.
//!
//! **The lens** (`trace.rs`): init seizes the program's child with `ptrace` before the child
//! changes its uid (a seize afterwards would need the child dumpable again), the child confines
//! itself, stacks the lens's `SECCOMP_RET_TRACE` filter on the deny filter, and execs; init then
//! traces every process of the run. A call the deny filter refuses fails with `EPERM` before any
//! trace stop, so the lens never sees it. The runs' holds and the tracing mode go from
//! `serve_scenario` through the jail and the worker to init (`Runner::new`).
//!
//! **Library or own code.** Bubblewrap and nsjail are programs, not libraries: calling them
//! would add an installed dependency and a process per run, and neither could keep init, the
//! grader's observer, inside the namespaces it builds. `hakoniwa` (a Rust library doing what
//! bubblewrap does) spawns a *command* into the container it builds, and its seccomp feature
//! links the C `libseccomp`; the grader needs its own code as init inside the namespaces
//! (reaping, `kill(-1)`, reading the IPC namespace, tracing), so its model does not fit. `landlock` would restrict paths, which the mount namespace already
//! hides, and needs Linux 5.13+. `seccompiler` compiles rule sets over arguments; this filter
//! is a fixed list of numbers and two argument tests, 60 lines of BPF by hand. So: our own code
//! over `nix`, in the order bubblewrap uses, each step small and commented.
//!
//! **Why init is the reaper.** Orphans are re-parented to the PID namespace's init, so init
//! sees every process that ended without its parent waiting for it ("not waited for"), and
//! `kill(-1, …)` from init reaches exactly the run's other processes: the timeout kills the
//! whole tree at once, and after the program exits `kill(-1, 0)` says whether it left anything
//! running (listed from `/proc`, then killed; a process already in `exit` when we look counts
//! as not waited for, not as left running). Init waits for output and child exits in one
//! `poll` (SIGCHLD through a signalfd), so a step costs no more than the program itself.
//!
//! **What the observation does not disturb.** Init holds `hold_attached` segments with
//! `MADV_DONTFORK`, so programs do not inherit the attachment (which would change the segment's
//! `lpid` and times at their `exec`). The table is read before the contents are copied, so the
//! copying attachment does not show in it.
//!
//! **Isolation tiers**, decided by trying, best first, and reported in
//! [`Observation::isolation`]:
//! 1. `namespaces` (root): the dedicated uid range; needs `CAP_SETUID` and `CAP_SETGID` on the
//!    machine (not `CAP_SYS_ADMIN`: the jail gets every capability it needs in its own user
//!    namespace);
//! 2. `user-namespace` (anyone, where unprivileged user namespaces are allowed): the caller's
//!    own uid mapped to 0 in the jail's user namespace (so that init is the root of the run's
//!    IPC namespace and may cap it), and back to its own number in a user namespace of the
//!    program's, nested in the jail's; `setgroups` denied. Refused to the machine's root, whose
//!    uid must never run a program;
//! 3. neither: host mode, **not a sandbox**: the program runs with the grader's rights in the
//!    machine's namespaces, with a cleared environment, no capabilities and the same seccomp
//!    filter, and with the rules of `host.rs`: runs
//!    serialised by a lock file ([`HOST_LOCK_PATH`]), a scenario refused if one of its keys
//!    (setup keys and [`Scenario::keys`]) is already in use, and only the run's own segments
//!    reported and removed afterwards (new since the start, created by the sandbox or by a
//!    process of the run; the worker is the run's subreaper, so orphans come back to it).
//!    It prints nothing itself: the grader tells the user, and `--submission` refuses it
//!    ([`Tier::Sandboxed`], [`require_sandbox`]) unless given `--unsafe-host`.
//!
//! **Limits** (`limits.rs`): every program gets `RLIMIT_AS` (1 GiB), `RLIMIT_FSIZE` (1 MiB),
//! `RLIMIT_CORE` = 0, the run's segments at most [`SEGMENT_MEMORY`] in all, its message queues
//! and semaphores at most [`MESSAGE_QUEUES`] and [`SEMAPHORES`] (`kernel.shmall`, `msgmni`
//! and `sem` of the run's IPC namespace, set by init, its root; no address space counts them),
//! and a cap on its processes: `RLIMIT_NPROC` (counted per user namespace
//! since Linux 5.14), and as root also a `pids` cgroup with `pids.max` = [`MAX_TASKS`], made on
//! the machine's side and impossible to leave from inside (no `/sys`, no capability, `mount`
//! refused), so that a fork bomb ends at the step's timeout without using up the machine's pids.
//!
//! **Nothing outlives the grader.** The sandbox, the jail, the worker and init each ask the
//! kernel to kill them when their parent dies (`PR_SET_PDEATHSIG`, asked again after each change
//! of credentials, which clears it), and init's death ends its namespace.
//!
//! For tests, the environment variable [`ISOLATION_ENV`] (set by [`run_with`]) forces a tier.

mod capture;
mod confine;
pub(crate) use confine::drop_privileges;
mod host;
mod limits;
pub(crate) mod namespaces;
mod procs;
mod rootfs;
pub(crate) use rootfs::SYSTEM_DIRS;
mod runner;
mod seccomp;
mod spawn;
mod streams;
mod trace;
mod userns;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, pipe2};

pub use capture::{HEAD_BYTES, TAIL_BYTES};
pub use confine::ENVIRONMENT;
pub use host::LOCK_PATH as HOST_LOCK_PATH;
pub use limits::MAX_TASKS;
pub use rootfs::{MESSAGE_QUEUES, SCRATCH, SEGMENT_MEMORY, SEMAPHORES};
pub use runner::CONTENTS_BYTES;
pub use userns::{PROGRAM_ID, RANGE_BASE};

use crate::scenario::{Hold, Isolation, Observation, Scenario, Schedules};
use confine::Confinement;
use limits::{Limits, PidsCgroup};
use runner::{Runner, Scope};
pub use trace::TRACE_ENV;
use trace::Tracing;

/// The hidden subcommand: `grader __sandbox` runs [`serve`].
pub const SUBCOMMAND: &str = "__sandbox";

/// The argument after [`SUBCOMMAND`] by which [`run`] says it removes the sandbox's cgroup.
const PARENT_REMOVES_CGROUP: &str = "--parent-removes-cgroup";

/// Environment variable read by [`serve`]: forces one tier (see [`Tier::name`]).
pub const ISOLATION_ENV: &str = "SHMLAB_SANDBOX_ISOLATION";

/// Which isolation to use; normally [`Tier::Best`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// The best the kernel allows (what [`run`] uses).
    Best,
    /// The best of the namespace tiers; never host mode (for submissions: see
    /// [`require_sandbox`]).
    Sandboxed,
    /// Private namespaces made with root privileges; fail if not allowed.
    Namespaces,
    /// Private namespaces inside a new user namespace; fail if not allowed.
    UserNamespace,
    /// The machine's IPC namespace, under host mode's rules.
    Host,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Best => "best",
            Tier::Sandboxed => "sandboxed",
            Tier::Namespaces => "namespaces",
            Tier::UserNamespace => "user-namespace",
            Tier::Host => "host",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Tier::Best,
            Tier::Sandboxed,
            Tier::Namespaces,
            Tier::UserNamespace,
            Tier::Host,
        ]
        .into_iter()
        .find(|tier| tier.name() == name)
    }
}

/// The report's isolation line for a tier: the tier and what it guarantees (what
/// `tests/sandbox_hostile.rs` shows), or for host mode that it is no sandbox. A `note` (why
/// the runs were not traced) is kept at the end, in parentheses.
pub fn isolation_line(tier: Isolation, note: Option<&str>) -> String {
    let name = tier.name();
    let note = note.map(|note| format!(" ({note})")).unwrap_or_default();
    let sandbox = |who: &str| {
        format!(
            "isolation: {name}: each run had its own user, IPC, PID, mount, network and UTS \
             namespaces and ran as {who} with no capabilities, a read-only view of the system's \
             programs and a seccomp filter: this machine's segments, processes and files were \
             out of its reach{note}"
        )
    };
    match tier {
        Isolation::Namespaces { self_mapped: false } => sandbox(&format!(
            "uid {} (a dedicated uid, not root)",
            RANGE_BASE + PROGRAM_ID
        )),
        Isolation::Namespaces { self_mapped: true } => sandbox("your own uid"),
        Isolation::Host => format!(
            "isolation: host: NOT A SANDBOX. The kernel allowed no namespace, so the programs ran \
             with your rights, in this machine's namespaces; only its segments with the lab's \
             keys were protected. Grade untrusted code only where namespaces work (see the \
             book's Security chapter).{note}"
        ),
    }
}

/// Checks that a sandbox tier works here (one trivial run, [`Tier::Sandboxed`]), before a
/// submission is graded: in host mode its programs would run with the grader's rights.
pub fn require_sandbox(sandbox_exe: &Path) -> Result<()> {
    let probe = Scenario {
        name: "sandbox probe".into(),
        program: "/bin/true".into(),
        setup: Vec::new(),
        steps: vec![crate::scenario::Step {
            args: Vec::new(),
            input: crate::scenario::Input::Closed,
        }],
        timeout: Duration::from_secs(5),
        pin_cpu: None,
        repeat: 1,
        keys: Vec::new(),
        // The probe asks only whether a tier works; the lens falls back on its own.
        lens: crate::scenario::Lens {
            trace: false,
            ..Default::default()
        },
    };
    run_with(&probe, sandbox_exe, Tier::Sandboxed)
        .map(drop)
        .context(
            "Refusing to grade a submission without a sandbox: the kernel allows the grader no \
         namespace here, so the submission's programs would run in host mode, with your rights \
         on this machine (your files, your processes, the network). Grade it where user \
         namespaces are allowed (or as root outside a locked-down container); or, only if you \
         trust this code, pass --unsafe-host",
        )
}

/// Runs `scenario` `repeat` times in the sandbox process `sandbox_exe __sandbox` (the grader
/// binary: `std::env::current_exe()`), one [`Observation`] per repeat.
pub fn run(scenario: &Scenario, sandbox_exe: &Path) -> Result<Vec<Observation>> {
    run_with(scenario, sandbox_exe, Tier::Best)
}

/// [`run`], forcing an isolation tier.
pub fn run_with(scenario: &Scenario, sandbox_exe: &Path, tier: Tier) -> Result<Vec<Observation>> {
    let child = give_scenario(start(sandbox_exe, tier)?, scenario)?;
    collect(child, scenario)
}

/// Runs scenarios one after another like [`run_with`], each in a sandbox process started
/// while the previous scenario ran: the sandbox's start (exec, and as root entering its pids
/// cgroup, which waits for the kernel's RCU grace period: 5 to 40 ms here) then overlaps a
/// run instead of delaying the next. One per grading thread; dropping it ends the spare.
pub struct Sandboxes {
    sandbox_exe: std::path::PathBuf,
    tier: Tier,
    spare: Option<std::process::Child>,
}

impl Sandboxes {
    pub fn new(sandbox_exe: &Path, tier: Tier) -> Sandboxes {
        Sandboxes {
            sandbox_exe: sandbox_exe.to_path_buf(),
            tier,
            spare: None,
        }
    }

    /// Runs `scenario`; with `more` (another scenario may follow), starts the next sandbox
    /// meanwhile.
    pub fn run(&mut self, scenario: &Scenario, more: bool) -> Result<Vec<Observation>> {
        let sent = match self.spare.take() {
            Some(spare) => give_scenario(spare, scenario).or_else(|error| {
                // The spare died before its scenario came (killed from outside): start afresh.
                drop(error);
                give_scenario(start(&self.sandbox_exe, self.tier)?, scenario)
            }),
            None => give_scenario(start(&self.sandbox_exe, self.tier)?, scenario),
        };
        let child = sent?;
        if more {
            self.spare = start(&self.sandbox_exe, self.tier).ok();
        }
        collect(child, scenario)
    }
}

impl Drop for Sandboxes {
    fn drop(&mut self) {
        if let Some(mut spare) = self.spare.take() {
            // Never given a scenario: it ends on end of file; kill it anyway, and reap it.
            let _ = spare.kill();
            let _ = spare.wait();
            remove_cgroup_of(&spare);
        }
    }
}

/// Starts a sandbox process (`sandbox_exe __sandbox`) that waits for its scenario on stdin.
fn start(sandbox_exe: &Path, tier: Tier) -> Result<std::process::Child> {
    let mut command = Command::new(sandbox_exe);
    // SAFETY: the closure runs in the forked child before exec and only calls prctl, which is
    // async-signal-safe. The sandbox dies with the thread that started it (this one, which
    // waits for it, or the thread that keeps it as a spare and ends it), so a grader killed
    // mid-run leaves no sandbox behind.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
        })
    };
    // The sandbox needs nothing of the grader's environment but the lens's mode
    // ([`TRACE_ENV`], when set), and whatever else it holds (a token, a password) had better
    // not be in its memory, next to the graded code.
    command.env_clear();
    if let Some(mode) = std::env::var_os(TRACE_ENV) {
        command.env(TRACE_ENV, mode);
    }
    command
        .arg(SUBCOMMAND)
        .arg(PARENT_REMOVES_CGROUP)
        .env(ISOLATION_ENV, tier.name())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("Failed to start the sandbox {}", sandbox_exe.display()))
}

/// Gives a started sandbox its scenario. On failure the sandbox is ended and reaped.
fn give_scenario(
    mut child: std::process::Child,
    scenario: &Scenario,
) -> Result<std::process::Child> {
    let input = serde_json::to_vec(scenario).context("Failed to encode the scenario")?;
    // The sandbox reads all of its input before it writes anything: no deadlock.
    let written = child
        .stdin
        .take()
        .context("the sandbox's stdin is not a pipe")
        .and_then(|mut stdin| {
            stdin
                .write_all(&input)
                .context("Failed to send the scenario to the sandbox")
        });
    match written {
        Ok(()) => Ok(child),
        Err(error) => {
            let _ = child.kill();
            let _ = child.wait();
            remove_cgroup_of(&child);
            Err(error)
        }
    }
}

/// As root, removes the pids cgroup of a sandbox that has been reaped.
fn remove_cgroup_of(child: &std::process::Child) {
    if nix::unistd::geteuid().is_root() {
        limits::remove_sandbox_cgroup(child.id());
    }
}

/// Waits for a sandbox that has its scenario, and decodes its observations.
fn collect(child: std::process::Child, scenario: &Scenario) -> Result<Vec<Observation>> {
    // A watchdog, in case the sandbox itself hangs: its own timeouts end every step long before.
    let steps = u32::try_from(scenario.steps.len()).unwrap_or(u32::MAX);
    let budget = scenario
        .timeout
        .saturating_add(Duration::from_secs(2))
        .saturating_mul(steps.saturating_add(1))
        .saturating_mul(
            scenario
                .repeat
                .max(1)
                .saturating_add(match &scenario.lens.schedules {
                    Schedules::Explore(explore) => explore.max_runs,
                    Schedules::Once => 0,
                }),
        )
        .saturating_add(Duration::from_secs(10));
    let id = child.id();
    let pid = nix::unistd::Pid::from_raw(id as i32);
    let (done, finished) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done.send(());
        output
    });
    if finished.recv_timeout(budget) == Err(mpsc::RecvTimeoutError::Timeout) {
        // Not reaped yet (the waiter signals right after reaping): the pid is still the sandbox.
        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
    }
    let output = waiter
        .join()
        .map_err(|_| anyhow::anyhow!("the sandbox's waiting thread panicked"))?
        .context("Failed to wait for the sandbox")?;
    if nix::unistd::geteuid().is_root() {
        limits::remove_sandbox_cgroup(id);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("the sandbox failed ({}): {}", output.status, stderr.trim());
    }
    let observations: Vec<Observation> =
        serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "Failed to decode the sandbox's report (stderr: {})",
                stderr.trim()
            )
        })?;
    // Exploring adds one observation per schedule after the repeats.
    let exploring = matches!(scenario.lens.schedules, Schedules::Explore(_));
    let expected = scenario.repeat.max(1) as usize;
    if observations.len() < expected || (!exploring && observations.len() != expected) {
        bail!(
            "the sandbox made {} observations for {} repeats",
            observations.len(),
            scenario.repeat
        );
    }
    Ok(observations)
}

/// The `grader __sandbox` subcommand: scenario (JSON) on stdin, observations (JSON) on stdout.
///
/// Call it first thing in `main`, while the process has a single thread.
pub fn serve() -> ExitCode {
    match serve_scenario() {
        Ok(observations) => {
            let mut stdout = std::io::stdout().lock();
            let written = serde_json::to_writer(&mut stdout, &observations)
                .map_err(anyhow::Error::from)
                .and_then(|()| stdout.flush().map_err(anyhow::Error::from));
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: the grader's sandbox could not write its report: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(error) => {
            eprintln!("error: the grader's sandbox failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve_scenario() -> Result<Vec<Observation>> {
    // Decided on the machine's side of any user namespace: the real user, the cgroup. Before
    // the scenario is read: a sandbox started ahead of its scenario ([`Sandboxes`]) enters its
    // cgroup, which takes the kernel a grace period, while it waits.
    let root = nix::unistd::geteuid().is_root();
    let limits = Limits::for_caller();
    let removed_by_parent = std::env::args().nth(2).as_deref() == Some(PARENT_REMOVES_CGROUP);
    let _cgroup = if root {
        PidsCgroup::enter(removed_by_parent).ok()
    } else {
        None
    };
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .context("Failed to read the scenario from stdin")?;
    let scenario: Scenario =
        serde_json::from_slice(&input).context("Failed to decode the scenario (JSON on stdin)")?;
    let requested = match std::env::var(ISOLATION_ENV) {
        Ok(name) => Tier::from_name(&name).with_context(|| {
            format!(
                "{ISOLATION_ENV}={name:?} is not one of best, sandboxed, namespaces, user-namespace, host"
            )
        })?,
        Err(_) => Tier::Best,
    };
    let candidates: Vec<Tier> = match requested {
        Tier::Best if root => vec![Tier::Namespaces, Tier::UserNamespace, Tier::Host],
        Tier::Best => vec![Tier::UserNamespace, Tier::Host],
        Tier::Sandboxed if root => vec![Tier::Namespaces, Tier::UserNamespace],
        Tier::Sandboxed => vec![Tier::UserNamespace],
        forced => vec![forced],
    };

    let tracing = Tracing::decide(&scenario.lens)?;
    let mut failures = Vec::new();
    for tier in candidates {
        let outcome = match tier {
            Tier::Host => in_host_mode(&scenario, limits, &tracing),
            _ => in_jail(&scenario, tier, limits, &tracing),
        };
        match outcome {
            Ok(observations) => return Ok(observations),
            Err(Repeat::TierUnavailable(why)) => failures.push(why),
            Err(Repeat::Failed(error)) => return Err(error),
        }
    }
    bail!("no isolation tier worked: {}", failures.join("; "))
}

enum Repeat {
    /// The kernel refused this tier's namespaces: try the next.
    TierUnavailable(String),
    Failed(anyhow::Error),
}

fn failed(error: anyhow::Error) -> Repeat {
    Repeat::Failed(error)
}

/// The exit status of the jail, worker or init when the kernel refused the tier's setup.
const UNSHARE_REFUSED: i32 = 3;

/// Host mode: every run (see [`trace::explore::Runs`]) in a worker forked from the sandbox
/// itself.
fn in_host_mode(
    scenario: &Scenario,
    limits: Limits,
    tracing: &Tracing,
) -> Result<Vec<Observation>, Repeat> {
    let mut runs = trace::explore::Runs::new(scenario);
    let mut observations = Vec::new();
    while let Some(holds) = runs.next_holds() {
        let (report_read, report_write) = report_pipe()?;
        let child = fork_with(report_read, report_write, |report| {
            host_worker(scenario, limits, Lens { tracing, holds }, report)
        })?;
        let observation: Observation = decode_observation(&child.wait()?).map_err(failed)?;
        runs.observed(|| Ok(observation.clone())).map_err(failed)?;
        observations.push(observation);
    }
    Ok(observations)
}

/// How the lens works in one run: whether it traces, and the run's holds.
struct Lens<'a> {
    tracing: &'a Tracing,
    holds: Vec<Hold>,
}

fn decode_observation(report: &[u8]) -> Result<Observation> {
    serde_json::from_slice(report).context("Failed to decode the worker's report")
}

/// The namespace tiers: a *jail* process, forked from the sandbox, enters a new user
/// namespace (mapped by this process for [`Tier::Namespaces`]), new mount, network, UTS and
/// cgroup namespaces (one each for all the repeats: nothing of them survives a run, and a
/// network namespace costs about 0.4 ms to make and more to tear down), builds the read-only
/// root and pivots into it, then forks a worker per run (the repeats, then the schedules the
/// baseline's trace calls for: [`trace::explore::Runs`]). It sends all the observations at
/// the end. The sandbox itself stays on the machine's side, so a refused tier leaves it free to
/// try the next one.
fn in_jail(
    scenario: &Scenario,
    tier: Tier,
    limits: Limits,
    tracing: &Tracing,
) -> Result<Vec<Observation>, Repeat> {
    let (report_read, report_write) = report_pipe()?;
    let (unshared_read, unshared_write) = report_pipe()?;
    let (mapped_read, mapped_write) = report_pipe()?;
    // The jail must not hold the sandbox's ends, or it would wait for itself.
    let sandbox_ends = [unshared_read.as_raw_fd(), mapped_write.as_raw_fd()];
    let child = fork_with(report_read, report_write, |report| {
        for fd in sandbox_ends {
            // SAFETY: closes the child's copies of two descriptors whose owners (the parent's
            // OwnedFds) are never dropped in the child, which ends with _exit.
            unsafe { libc::close(fd) };
        }
        jail(
            scenario,
            tier,
            limits,
            tracing,
            (unshared_write, mapped_read),
            report,
        )
    })?;
    if tier == Tier::Namespaces {
        // The jail says it has unshared (one byte) or fails (end of file, its report says why).
        let mut byte = [0u8; 1];
        if nix::unistd::read(&unshared_read, &mut byte) == Ok(1) {
            if let Err(error) = userns::map_range(child.pid) {
                let _ = nix::sys::signal::kill(child.pid, Signal::SIGKILL);
                let _ = child.wait();
                return Err(Repeat::TierUnavailable(format!("namespaces: {error:#}")));
            }
            let _ = nix::unistd::write(&mapped_write, &byte);
        }
    }
    drop(mapped_write);
    let report = child.wait()?;
    serde_json::from_slice(&report)
        .context("Failed to decode the jail's report")
        .map_err(failed)
}

/// The jail (see [`in_jail`]); returns its exit status.
fn jail(
    scenario: &Scenario,
    tier: Tier,
    limits: Limits,
    tracing: &Tracing,
    (unshared, mapped): (OwnedFd, OwnedFd),
    mut report: std::fs::File,
) -> i32 {
    let parent = nix::unistd::getppid();
    let (ids, own_namespace, program) = match enter_jail(tier, &scenario.program, unshared, mapped)
    {
        Ok(entered) => entered,
        Err(error) => {
            let _ = write!(report, "{}: {error:#}", tier.name());
            return UNSHARE_REFUSED;
        }
    };
    // A change of credentials clears the parent-death signal: ask again, and make sure the
    // sandbox did not die meanwhile.
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    if nix::unistd::getppid() != parent {
        return 1;
    }
    let mut limits = limits;
    if tier == Tier::Namespaces {
        // The program's uid is the range's, not the machine's root: RLIMIT_NPROC applies.
        limits.tasks = Some(MAX_TASKS);
    }
    let confinement = Confinement::new(Some(ids), rootfs::SCRATCH).in_own_namespace(own_namespace);
    let isolation = Isolation::Namespaces {
        self_mapped: tier == Tier::UserNamespace,
    };
    let mut runs = trace::explore::Runs::new(scenario);
    if let Err(error) = program {
        // Not the tier's fault: every repeat says the program could not be started (and a
        // refused baseline calls for no schedules).
        let observation = refused(isolation, anyhow::anyhow!("{error:#}"));
        let mut observations = Vec::new();
        while runs.next_holds().is_some() {
            let _ = runs.observed(|| Ok(observation.clone()));
            observations.push(observation.clone());
        }
        return send(&mut report, &observations);
    }
    // Each worker's report is one observation in JSON, passed on as it is: decoding and
    // encoding 4 KiB of segment bytes per run again would cost more than the run's namespaces.
    // Only the baseline of a scenario that explores schedules is decoded, for its trace.
    let mut observations: Vec<Vec<u8>> = Vec::new();
    while let Some(holds) = runs.next_holds() {
        let repeat = report_pipe().and_then(|(report_read, report_write)| {
            let child = fork_with(report_read, report_write, |report| {
                let lens = Lens { tracing, holds };
                namespace_worker(scenario, isolation, limits, &confinement, lens, report)
            })?;
            let observation = child.wait()?;
            runs.observed(|| decode_observation(&observation))
                .map_err(failed)?;
            Ok(observation)
        });
        match repeat {
            Ok(observation) => observations.push(observation),
            Err(Repeat::TierUnavailable(why)) if observations.is_empty() => {
                let _ = write!(report, "{why}");
                return UNSHARE_REFUSED;
            }
            Err(Repeat::TierUnavailable(why)) => {
                let _ = write!(report, "{why}");
                return 1;
            }
            Err(Repeat::Failed(error)) => {
                let _ = write!(report, "{error:#}");
                return 1;
            }
        }
    }
    let array = [b"[".as_slice(), &observations.join(b",".as_slice()), b"]"].concat();
    i32::from(report.write_all(&array).is_err())
}

/// A uid and a gid.
type Ids = (u32, u32);

/// The jail's namespaces and root; returns the program's uid and gid inside, its ids in a user
/// namespace of its own (the self-mapped tier: see `userns.rs`), and whether its binary could
/// be opened (if not, there is no new root: nothing will run).
///
/// The program is opened in the new mount namespace (a bind mount's source must be in the
/// caller's), and, as root, before the jail takes the range's uid 0: until then it still has the
/// machine root's uid, which owns the folders on the way (though no longer the capability to
/// pass those of other users: a program in another user's private folder is not reachable).
fn enter_jail(
    tier: Tier,
    program: &Path,
    unshared: OwnedFd,
    mapped: OwnedFd,
) -> Result<(Ids, Option<Ids>, Result<()>)> {
    let own_namespace = if tier == Tier::Namespaces {
        namespaces::unshare(CloneFlags::CLONE_NEWUSER)?;
        nix::unistd::write(&unshared, &[1]).context("Failed to tell the sandbox")?;
        let mut byte = [0u8; 1];
        if nix::unistd::read(&mapped, &mut byte) != Ok(1) {
            bail!("the sandbox did not map the dedicated uid range");
        }
        None
    } else {
        drop((unshared, mapped));
        Some(userns::enter_self_mapped()?)
    };
    namespaces::unshare(
        CloneFlags::CLONE_NEWNS
            | CloneFlags::CLONE_NEWNET
            | CloneFlags::CLONE_NEWUTS
            | CloneFlags::CLONE_NEWCGROUP,
    )?;
    let program = rootfs::Program::open(program);
    let ids = match own_namespace {
        // Self-mapped, the caller's uid is the namespace's 0.
        Some(_) => (0, 0),
        None => {
            userns::become_range_root()?;
            (userns::PROGRAM_ID, userns::PROGRAM_ID)
        }
    };
    namespaces::set_hostname("shmlab-sandbox")?;
    match program {
        Ok(program) => {
            rootfs::build(&program)?;
            Ok((ids, own_namespace, Ok(())))
        }
        Err(error) => Ok((ids, own_namespace, Err(error))),
    }
}

fn report_pipe() -> Result<(OwnedFd, OwnedFd), Repeat> {
    pipe2(OFlag::O_CLOEXEC)
        .context("Failed to create a pipe")
        .map_err(failed)
}

/// A forked child of the sandbox (a jail or a worker) and the read end of its report.
struct Child {
    pid: nix::unistd::Pid,
    report: OwnedFd,
}

impl Child {
    /// Reads the child's whole report and reaps it; `Ok` when it exited with 0.
    fn wait(self) -> Result<Vec<u8>, Repeat> {
        let mut report = Vec::new();
        let read = std::fs::File::from(self.report).read_to_end(&mut report);
        let status = waitpid(self.pid, None);
        read.context("Failed to read the report of the sandbox's child")
            .map_err(failed)?;
        let text = || String::from_utf8_lossy(&report).into_owned();
        match status {
            Ok(WaitStatus::Exited(_, 0)) => Ok(report),
            Ok(WaitStatus::Exited(_, UNSHARE_REFUSED)) => Err(Repeat::TierUnavailable(text())),
            other => Err(failed(anyhow::anyhow!(
                "the sandbox's child ended badly ({other:?}): {}",
                text()
            ))),
        }
    }
}

/// Forks; the child runs `body` with its report's write end, and exits with what `body`
/// returns (101 if it panics).
fn fork_with(
    report_read: OwnedFd,
    report_write: OwnedFd,
    body: impl FnOnce(std::fs::File) -> i32,
) -> Result<Child, Repeat> {
    let parent = nix::unistd::getpid();
    // SAFETY: the sandbox process and its forks are single-threaded (see `serve`).
    match unsafe { fork() }
        .context("Failed to fork in the sandbox")
        .map_err(failed)?
    {
        ForkResult::Child => {
            drop(report_read);
            // If the parent dies (the grader killed the sandbox), so does the run; and if it
            // died before the request was in place, the parent is already someone else.
            let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
            let status = if nix::unistd::getppid() == parent {
                let report = std::fs::File::from(report_write);
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(report)))
                    .unwrap_or(101)
            } else {
                1
            };
            // SAFETY: ends the forked child without running the parent's exit handlers or
            // flushing its stdout (which is the JSON channel to the grader).
            unsafe { libc::_exit(status) }
        }
        ForkResult::Parent { child } => {
            drop(report_write);
            Ok(Child {
                pid: child,
                report: report_read,
            })
        }
    }
}

/// Host mode's worker: the run's subreaper, in the machine's namespaces, with a temporary
/// folder as the program's working directory and `HOME`.
fn host_worker(
    scenario: &Scenario,
    limits: Limits,
    lens: Lens<'_>,
    mut report: std::fs::File,
) -> i32 {
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let scratch = match nix::unistd::mkdtemp("/tmp/shmlab-host-scratch-XXXXXX") {
        Ok(dir) => dir,
        Err(errno) => {
            let error = anyhow::anyhow!("Failed to create a scratch folder in /tmp: {errno}");
            return send(&mut report, &refused(Isolation::Host, error));
        }
    };
    let confinement = Confinement::new(None, &scratch.to_string_lossy());
    let observation = match host::HostRun::begin(scenario) {
        Ok(host) => match Runner::new(
            scenario,
            Scope::Host(host),
            limits,
            confinement,
            lens.tracing.clone(),
            lens.holds,
        ) {
            Ok(runner) => runner.observe(Isolation::Host),
            Err(error) => refused(Isolation::Host, error),
        },
        Err(error) => refused(Isolation::Host, error),
    };
    let _ = std::fs::remove_dir_all(&scratch);
    send(&mut report, &observation)
}

/// A namespace tier's worker: makes the run's IPC, PID and mount namespaces, forks their init,
/// passes on its exit status.
fn namespace_worker(
    scenario: &Scenario,
    isolation: Isolation,
    limits: Limits,
    confinement: &Confinement,
    lens: Lens<'_>,
    mut report: std::fs::File,
) -> i32 {
    let flags = CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS;
    if let Err(error) = namespaces::unshare(flags) {
        let _ = write!(report, "{error:#}");
        return UNSHARE_REFUSED;
    }
    // SAFETY: the worker is a fork of the single-threaded jail, single-threaded too.
    match unsafe { fork() } {
        Err(errno) => {
            let _ = write!(report, "fork of the namespace's init: {errno}");
            UNSHARE_REFUSED
        }
        Ok(ForkResult::Child) => {
            let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
            let status = match confinement.ids.map(rootfs::enter_run) {
                Some(Err(error)) => {
                    let _ = write!(report, "{error:#}");
                    UNSHARE_REFUSED
                }
                _ => {
                    let observation = match Runner::new(
                        scenario,
                        Scope::Namespace,
                        limits,
                        confinement.clone(),
                        lens.tracing.clone(),
                        lens.holds,
                    ) {
                        Ok(runner) => runner.observe(isolation),
                        Err(error) => refused(isolation, error),
                    };
                    send(&mut report, &observation)
                }
            };
            // SAFETY: as for the worker: no exit handlers, no flushing of inherited buffers.
            unsafe { libc::_exit(status) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(report);
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, status)) => status,
                _ => 1,
            }
        }
    }
}

fn refused(isolation: Isolation, error: anyhow::Error) -> Observation {
    Observation {
        error: Some(format!("{error:#}")),
        ..Observation::empty(isolation)
    }
}

fn send<T: serde::Serialize>(report: &mut std::fs::File, value: &T) -> i32 {
    // One write, not one per JSON token.
    let sent = serde_json::to_vec(value)
        .map_err(std::io::Error::from)
        .and_then(|json| report.write_all(&json));
    i32::from(sent.is_err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_isolation_line_names_the_tier_and_what_it_guarantees() {
        let root = isolation_line(Isolation::Namespaces { self_mapped: false }, None);
        assert!(root.starts_with("isolation: namespaces: "), "{root}");
        assert!(
            root.contains("uid 2000001000 (a dedicated uid, not root)"),
            "{root}"
        );
        let user = isolation_line(Isolation::Namespaces { self_mapped: true }, None);
        assert!(
            user.contains("as your own uid with no capabilities"),
            "{user}"
        );
        for line in [&root, &user] {
            assert!(line.contains("out of its reach"), "{line}");
        }
        let host = isolation_line(Isolation::Host, None);
        assert!(
            host.starts_with("isolation: host: NOT A SANDBOX."),
            "{host}"
        );
        let noted = isolation_line(
            Isolation::Host,
            Some("no system-call trace (ptrace refused)"),
        );
        assert!(
            noted.starts_with("isolation: host: NOT A SANDBOX.")
                && noted.ends_with(" (no system-call trace (ptrace refused))"),
            "{noted}"
        );
    }
}
