//! Runs a [`Scenario`] where it cannot touch the machine, and reports what it saw.
//!
//! # Design
//!
//! **Why a process of its own (re-exec).** Namespaces belong to processes (and `unshare` of a
//! user namespace is refused to a multi-threaded process), and the sandbox forks a lot, which
//! is only safe in a single-threaded process. The grader itself runs threads (parallel jobs,
//! tests), so [`run`] starts a fresh copy of the grader binary, `grader __sandbox`, which reads
//! the scenario as JSON on stdin and writes one [`Observation`] per repeat, as JSON, on stdout.
//! [`serve`] is that hidden subcommand; `main` calls it before anything else.
//!
//! **Per repeat: a fresh IPC and PID namespace.** The sandbox forks a *worker*, which unshares
//! a new IPC namespace and a new PID namespace, then forks the namespace's *init* (pid 1).
//! Init creates the setup segments, runs the steps (the program is pid 2, 3, …), reads
//! `/proc/sysvipc/shm` — which shows the reader's IPC namespace — and sends the observation
//! back through a pipe. When init exits the kernel kills every process left in its PID
//! namespace; when the worker and init are gone the IPC namespace dies with every segment in it.
//! Nothing can leak to the machine, and no run sees another's segments. (A PID namespace can be
//! unshared only once per process, hence one worker per repeat.)
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
//! 1. root (with `CAP_SYS_ADMIN`): `unshare(CLONE_NEWIPC | CLONE_NEWPID)` directly;
//! 2. anyone, where user namespaces are allowed: `unshare(CLONE_NEWUSER)` once (the caller's uid
//!    and gid mapped to 0 inside, `setgroups` denied), then as in 1;
//! 3. neither: host mode, in the machine's IPC namespace, with the rules of `host.rs`: runs
//!    serialised by a lock file ([`HOST_LOCK_PATH`]), a scenario refused if one of its keys
//!    (setup keys and [`Scenario::keys`]) is already in use, and only the run's own segments
//!    reported and removed afterwards (new since the start, created by the sandbox or by a
//!    process of the run; the worker is the run's subreaper, so orphans come back to it).
//!    It prints nothing itself: the grader tells the user.
//!
//! **Limits** (`limits.rs`): every program gets `RLIMIT_AS` (1 GiB), `RLIMIT_FSIZE` (1 MiB),
//! `RLIMIT_CORE` = 0, and a cap on its processes (`RLIMIT_NPROC`; as root, whom the kernel
//! exempts from it, a `pids` cgroup with `pids.max` = [`MAX_TASKS`]), so that a fork bomb ends
//! at the step's timeout without using up the machine's pids.
//!
//! **Nothing outlives the grader.** The sandbox, the worker and init each ask the kernel to
//! kill them when their parent dies (`PR_SET_PDEATHSIG`), and init's death ends its namespace.
//!
//! For tests, the environment variable [`ISOLATION_ENV`] (set by [`run_with`]) forces a tier.

mod capture;
mod host;
mod limits;
mod procs;
mod runner;
mod spawn;
mod trace;

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::fcntl::OFlag;
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, pipe2};

pub use capture::{HEAD_BYTES, TAIL_BYTES};
pub use host::LOCK_PATH as HOST_LOCK_PATH;
pub use limits::MAX_TASKS;
pub use runner::CONTENTS_BYTES;

use crate::scenario::{Hold, Isolation, Observation, Scenario, Schedules};
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
            Tier::Namespaces => "namespaces",
            Tier::UserNamespace => "user-namespace",
            Tier::Host => "host",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Tier::Best,
            Tier::Namespaces,
            Tier::UserNamespace,
            Tier::Host,
        ]
        .into_iter()
        .find(|tier| tier.name() == name)
    }
}

/// Runs `scenario` `repeat` times in the sandbox process `sandbox_exe __sandbox` (the grader
/// binary: `std::env::current_exe()`), one [`Observation`] per repeat.
pub fn run(scenario: &Scenario, sandbox_exe: &Path) -> Result<Vec<Observation>> {
    run_with(scenario, sandbox_exe, Tier::Best)
}

/// [`run`], forcing an isolation tier.
pub fn run_with(scenario: &Scenario, sandbox_exe: &Path, tier: Tier) -> Result<Vec<Observation>> {
    let input = serde_json::to_vec(scenario).context("Failed to encode the scenario")?;
    let mut command = Command::new(sandbox_exe);
    // SAFETY: the closure runs in the forked child before exec and only calls prctl, which is
    // async-signal-safe. The sandbox dies with the thread that started it (this one, which
    // waits for it below), so a grader killed mid-run leaves no sandbox behind.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
        })
    };
    let mut child = command
        .arg(SUBCOMMAND)
        .arg(PARENT_REMOVES_CGROUP)
        .env(ISOLATION_ENV, tier.name())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("Failed to start the sandbox {}", sandbox_exe.display()))?;
    // The sandbox reads all of its input before it writes anything: no deadlock.
    let mut stdin = child
        .stdin
        .take()
        .context("the sandbox's stdin is not a pipe")?;
    stdin
        .write_all(&input)
        .context("Failed to send the scenario to the sandbox")?;
    drop(stdin);

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
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
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
        limits::remove_sandbox_cgroup(pid.as_raw() as u32);
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
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .context("Failed to read the scenario from stdin")?;
    let scenario: Scenario =
        serde_json::from_slice(&input).context("Failed to decode the scenario (JSON on stdin)")?;
    let requested = match std::env::var(ISOLATION_ENV) {
        Ok(name) => Tier::from_name(&name).with_context(|| {
            format!("{ISOLATION_ENV}={name:?} is not one of best, namespaces, user-namespace, host")
        })?,
        Err(_) => Tier::Best,
    };
    let root = nix::unistd::geteuid().is_root();
    let mut candidates: Vec<Tier> = match requested {
        Tier::Best if root => vec![Tier::Namespaces, Tier::UserNamespace, Tier::Host],
        Tier::Best => vec![Tier::UserNamespace, Tier::Host],
        forced => vec![forced],
    };
    candidates.reverse(); // a stack: best on top

    // Decided on the machine's side of any user namespace: the real user, the cgroup.
    let limits = Limits::for_caller();
    let removed_by_parent = std::env::args().nth(2).as_deref() == Some(PARENT_REMOVES_CGROUP);
    let _cgroup = if root {
        PidsCgroup::enter(removed_by_parent).ok()
    } else {
        None
    };

    let tracing = Tracing::decide(&scenario.lens)?;
    let mut runs = trace::explore::Runs::new(&scenario);
    let mut in_user_namespace = false;
    let mut observations = Vec::new();
    let mut failures = Vec::new();
    while let Some(holds) = runs.next_holds() {
        let Some(&tier) = candidates.last() else {
            bail!("no isolation tier worked: {}", failures.join("; "));
        };
        if tier == Tier::UserNamespace && !in_user_namespace {
            if let Err(error) = enter_user_namespace() {
                failures.push(format!("{error:#}"));
                candidates.pop();
                continue;
            }
            in_user_namespace = true;
        }
        match run_repeat(&scenario, tier, in_user_namespace, limits, &tracing, holds) {
            Ok(observation) => {
                runs.observed(|| Ok(observation.clone()))?;
                observations.push(observation);
            }
            Err(Repeat::TierUnavailable(why)) => {
                failures.push(why);
                candidates.pop();
            }
            Err(Repeat::Failed(error)) => return Err(error),
        }
    }
    Ok(observations)
}

enum Repeat {
    /// The kernel refused this tier's namespaces: try the next.
    TierUnavailable(String),
    Failed(anyhow::Error),
}

/// The worker's exit status when `unshare` was refused.
const UNSHARE_REFUSED: i32 = 3;

fn run_repeat(
    scenario: &Scenario,
    tier: Tier,
    in_user_namespace: bool,
    limits: Limits,
    tracing: &Tracing,
    holds: Vec<Hold>,
) -> Result<Observation, Repeat> {
    let failed = |error: anyhow::Error| Repeat::Failed(error);
    let (report_read, report_write) = pipe2(OFlag::O_CLOEXEC)
        .context("Failed to create a pipe")
        .map_err(failed)?;
    let sandbox = nix::unistd::getpid();
    // SAFETY: the sandbox process is single-threaded (see `serve`).
    match unsafe { fork() }
        .context("Failed to fork the sandbox's worker")
        .map_err(failed)?
    {
        ForkResult::Child => {
            drop(report_read);
            let status = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                worker(
                    scenario,
                    tier,
                    in_user_namespace,
                    limits,
                    report_write,
                    sandbox,
                    Lens {
                        tracing: tracing.clone(),
                        holds: holds.clone(),
                    },
                )
            }))
            .unwrap_or(101);
            // SAFETY: ends the forked child without running the parent's exit handlers or
            // flushing its stdout (which is the JSON channel to the grader).
            unsafe { libc::_exit(status) }
        }
        ForkResult::Parent { child } => {
            drop(report_write);
            let mut report = Vec::new();
            let read = std::fs::File::from(report_read).read_to_end(&mut report);
            let status = waitpid(child, None);
            read.context("Failed to read the worker's report")
                .map_err(failed)?;
            match status {
                Ok(WaitStatus::Exited(_, UNSHARE_REFUSED)) => {
                    return Err(Repeat::TierUnavailable(
                        String::from_utf8_lossy(&report).into_owned(),
                    ));
                }
                Ok(WaitStatus::Exited(_, 0)) => {}
                other => {
                    return Err(failed(anyhow::anyhow!(
                        "the sandbox's worker ended badly: {other:?}"
                    )));
                }
            }
            serde_json::from_slice(&report)
                .context("Failed to decode the worker's report")
                .map_err(failed)
        }
    }
}

/// How the lens works in one run.
struct Lens {
    tracing: Tracing,
    holds: Vec<Hold>,
}

/// The forked worker: makes the namespaces, forks init, passes on its exit status.
fn worker(
    scenario: &Scenario,
    tier: Tier,
    in_user_namespace: bool,
    limits: Limits,
    report: OwnedFd,
    sandbox: nix::unistd::Pid,
    lens: Lens,
) -> i32 {
    // If the sandbox dies (the grader killed it), so does the run; and if it died before
    // the request was in place, the parent is already someone else.
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    if nix::unistd::getppid() != sandbox {
        return 1;
    }
    let mut report = std::fs::File::from(report);
    if tier == Tier::Host {
        let _ = nix::sys::prctl::set_child_subreaper(true);
        let observation = match host::HostRun::begin(scenario) {
            Ok(host) => match Runner::new(
                scenario,
                Scope::Host(host),
                limits,
                lens.tracing,
                lens.holds,
            ) {
                Ok(runner) => runner.observe(Isolation::Host),
                Err(error) => refused(Isolation::Host, error),
            },
            Err(error) => refused(Isolation::Host, error),
        };
        return send(&mut report, &observation);
    }
    if let Err(errno) = unshare(CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWPID) {
        let _ = write!(
            report,
            "unshare(CLONE_NEWIPC | CLONE_NEWPID) as {}: {errno}",
            tier.name()
        );
        return UNSHARE_REFUSED;
    }
    let isolation = Isolation::Namespaces {
        user_namespace: in_user_namespace,
    };
    // SAFETY: the worker is a fork of the single-threaded sandbox, single-threaded too.
    match unsafe { fork() } {
        Err(errno) => {
            let _ = write!(report, "fork of the namespace's init: {errno}");
            UNSHARE_REFUSED
        }
        Ok(ForkResult::Child) => {
            let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
            let observation =
                match Runner::new(scenario, Scope::Namespace, limits, lens.tracing, lens.holds) {
                    Ok(runner) => runner.observe(isolation),
                    Err(error) => refused(isolation, error),
                };
            let status = send(&mut report, &observation);
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

fn send(report: &mut std::fs::File, observation: &Observation) -> i32 {
    // One write, not one per JSON token.
    let sent = serde_json::to_vec(observation)
        .map_err(std::io::Error::from)
        .and_then(|json| report.write_all(&json));
    i32::from(sent.is_err())
}

/// Enters a new user namespace in which the caller is root (uid and gid 0 map to the caller's).
fn enter_user_namespace() -> Result<()> {
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    unshare(CloneFlags::CLONE_NEWUSER).context("unshare(CLONE_NEWUSER)")?;
    // Must precede gid_map for an unprivileged caller; absent before Linux 3.19.
    match std::fs::write("/proc/self/setgroups", "deny") {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(error).context("Failed to write /proc/self/setgroups");
        }
        _ => {}
    }
    std::fs::write("/proc/self/uid_map", format!("0 {uid} 1"))
        .context("Failed to write /proc/self/uid_map")?;
    std::fs::write("/proc/self/gid_map", format!("0 {gid} 1"))
        .context("Failed to write /proc/self/gid_map")?;
    Ok(())
}
