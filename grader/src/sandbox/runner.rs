//! One repeat of a scenario, run by the process that reaps everything: the PID namespace's
//! init (pid 1), or in host mode the sandbox's worker marked as child subreaper.
//!
//! It makes the setup segments, runs the steps one after the other (capturing output, answering
//! a dialog, enforcing the timeout), notes every process that outlived or was abandoned by its
//! parent, then reads the kernel's segment table and the segments' first bytes.
//! A step's standard streams (pipes, or the dialog's pseudo-terminal) are [`super::streams`]'.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::sys::mman::{MmapAdvise, madvise};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::Pid;
use sysv::{Attachment, Mode, ShmId, ShmatFlag, ShmgetFlag};

use super::confine::Confinement;
use super::host::HostRun;
use super::limits::Limits;
use super::procs;
use super::spawn;
use super::streams::Streams;
use super::trace::{Ended, Handshake, PokeTarget, RunLens, Tracer, Tracing};
use crate::proc_shm::{self, ShmEntry};
use crate::scenario::{
    Exit, Hold, Isolation, Observation, ProcessInfo, Scenario, Schedules, SegmentState, Step,
    StepOutcome,
};

/// Bytes of each segment copied into the observation.
pub const CONTENTS_BYTES: usize = 4096;
/// At most this many children are reaped before the event loop looks at the clock again.
const REAPS_PER_CALL: usize = 256;
/// At most this many processes are listed per step and kind (a fork bomb makes thousands).
const MAX_LISTED: usize = 64;

/// Where the run's processes live, which decides how to find and kill them.
pub enum Scope {
    /// A PID namespace of which the caller is init.
    Namespace,
    /// The machine's namespaces; the caller is the run's subreaper.
    Host(HostRun),
}

pub struct Runner<'a> {
    scenario: &'a Scenario,
    scope: Scope,
    limits: Limits,
    confinement: Confinement,
    /// SIGCHLD, read as data: the event loop waits for output and child exits in one `poll`.
    child_events: SignalFd,
    tracing: Tracing,
    /// The holds of this run.
    holds: Vec<Hold>,
    /// The lens's state between steps (taken by each step's tracer).
    lens: Option<RunLens>,
}

impl<'a> Runner<'a> {
    pub fn new(
        scenario: &'a Scenario,
        scope: Scope,
        limits: Limits,
        confinement: Confinement,
        tracing: Tracing,
        holds: Vec<Hold>,
    ) -> Result<Self> {
        let mut sigchld = SigSet::empty();
        sigchld.add(Signal::SIGCHLD);
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&sigchld), None)
            .context("Failed to block SIGCHLD")?;
        let child_events =
            SignalFd::with_flags(&sigchld, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
                .context("Failed to create a signalfd for SIGCHLD")?;
        Ok(Runner {
            scenario,
            scope,
            limits,
            confinement,
            child_events,
            tracing,
            holds,
            lens: None,
        })
    }

    /// Runs the whole scenario once. Failures of the sandbox itself go to `error`.
    pub fn observe(mut self, isolation: Isolation) -> Observation {
        let mut observation = Observation::empty(isolation);
        let mut held = Vec::new();
        let mut errors = Vec::new();
        let set_up = self
            .burn_ids(&mut observation.burnt_ids)
            .and_then(|()| self.setup(&mut observation.setup_ids, &mut held))
            .and_then(|()| self.start_lens(&observation.setup_ids));
        match set_up {
            Ok(()) => {
                for (index, step) in self.scenario.steps.iter().enumerate() {
                    match self.run_step(index, step) {
                        Ok(outcome) => observation.steps.push(outcome),
                        Err(error) => {
                            errors.push(format!("{error:#}"));
                            break;
                        }
                    }
                }
            }
            Err(error) => errors.push(format!("{error:#}")),
        }
        if let Some(mut lens) = self.lens.take() {
            if let Err(error) = lens.detach() {
                errors.push(format!("{error:#}"));
            }
            observation.untraced = lens.untraced;
            observation.schedule = lens.holds;
            observation.injected = lens.injected;
            observation.poked = lens.poked;
        }
        match self.segments(&held) {
            Ok(segments) => observation.segments = segments,
            Err(error) => errors.push(format!("{error:#}")),
        }
        if let Scope::Host(host) = &mut self.scope
            && let Err(error) = host.clean_up(held, &observation.segments)
        {
            errors.push(format!("{error:#}"));
        }
        if !errors.is_empty() {
            observation.error = Some(errors.join("; "));
        }
        observation
    }

    /// Creates and removes [`crate::scenario::Lens::burn_ids`] segments, so that the ids the
    /// program gets are not the first ones.
    fn burn_ids(&mut self, burnt: &mut Vec<i32>) -> Result<()> {
        for _ in 0..self.scenario.lens.burn_ids {
            let flags = ShmgetFlag::IPC_CREAT | ShmgetFlag::IPC_EXCL;
            let id = sysv::shmget(libc::IPC_PRIVATE, 1, flags, Mode::from_bits_truncate(0o600))
                .context("Failed to create a segment to burn its id")?;
            sysv::shmctl_rmid(id).context("Failed to remove a segment whose id was burnt")?;
            burnt.push(id.as_raw());
        }
        Ok(())
    }

    /// The lens's state for the run: the holds, injections, and writable attachments of the
    /// segments that get pokes (kept from the program's children, as held ones are).
    fn start_lens(&mut self, setup_ids: &[i32]) -> Result<()> {
        let lens = &self.scenario.lens;
        let mut pokes = Vec::new();
        for (index, poke) in lens.pokes.iter().enumerate() {
            let id = setup_ids.get(poke.segment).with_context(|| {
                format!(
                    "poke {index} names setup segment {}, which does not exist",
                    poke.segment
                )
            })?;
            let attachment = sysv::shmat(ShmId::from_raw(*id), ShmatFlag::empty())
                .context("Failed to attach a setup segment for a poke")?;
            keep_from_children(&attachment)?;
            pokes.push(PokeTarget {
                index,
                poke: poke.clone(),
                attachment,
            });
        }
        let bound = match &lens.schedules {
            Schedules::Explore(explore) => explore.hold,
            Schedules::Once => Duration::ZERO,
        };
        self.lens = Some(RunLens::new(
            &self.tracing,
            lens,
            std::mem::take(&mut self.holds),
            bound,
            pokes,
        ));
        Ok(())
    }

    fn setup(&mut self, ids: &mut Vec<i32>, held: &mut Vec<(ShmId, Attachment)>) -> Result<()> {
        // Made as the program's uid, as by an earlier program of the student's: then the
        // program may use and remove them as their owner.
        let _as_program = self.confinement.act_as_program()?;
        for segment in &self.scenario.setup {
            let failed = || {
                format!(
                    "Failed to create the setup segment with key {:#x} ({} bytes, mode {:o})",
                    segment.key, segment.size, segment.mode
                )
            };
            let mode = Mode::from_bits_truncate(segment.mode);
            let flags = ShmgetFlag::IPC_CREAT | ShmgetFlag::IPC_EXCL;
            let id = sysv::shmget(segment.key, segment.size, flags, mode).with_context(failed)?;
            ids.push(id.as_raw());
            if let Scope::Host(host) = &mut self.scope {
                host.created_setup_segment(id);
            }
            if !segment.contents.is_empty() {
                if segment.contents.len() > segment.size {
                    bail!(
                        "{}: {} bytes of contents do not fit",
                        failed(),
                        segment.contents.len()
                    );
                }
                let attachment = sysv::shmat(id, ShmatFlag::empty()).with_context(failed)?;
                attachment.write(0, &segment.contents);
                sysv::shmdt(attachment).with_context(failed)?;
            }
            if segment.hold_attached {
                let attachment = sysv::shmat(id, ShmatFlag::SHM_RDONLY).with_context(failed)?;
                // A forked program would inherit the attachment and detach it at exec, which
                // sets the segment's lpid and times as if the program had used it.
                keep_from_children(&attachment).with_context(failed)?;
                held.push((id, attachment));
            }
        }
        Ok(())
    }

    fn run_step(&mut self, index: usize, step: &Step) -> Result<StepOutcome> {
        let started = Instant::now();
        // A timeout too large for the clock means none, in practice: a year.
        let deadline = started
            .checked_add(self.scenario.timeout)
            .unwrap_or_else(|| started + Duration::from_secs(365 * 24 * 3600));
        let mut streams = Streams::open(&step.input)?;
        let spawned = spawn::spawn(
            &self.scenario.program,
            &step.args,
            streams.child_side(),
            &self.limits,
            &self.confinement,
            self.scenario.pin_cpu,
            Handshake::new(&self.tracing)?,
        )?;
        let pid = spawned.pid;
        streams.close_child_side();
        let mut tracer = match (spawned.traced, self.lens.take()) {
            (Some(Ok(())), Some(lens)) => Some(Tracer::new(
                lens,
                index,
                pid,
                self.scenario.program.display().to_string(),
                started,
            )),
            (Some(Err(why)), Some(mut lens)) => {
                lens.untraced.get_or_insert(why);
                self.lens = Some(lens);
                None
            }
            (_, lens) => {
                self.lens = lens;
                None
            }
        };
        if let Scope::Host(host) = &mut self.scope {
            host.note_pid(pid.as_raw());
        }

        let mut exit = None;
        let mut duration = None;
        let mut not_waited_for = Vec::new();
        loop {
            // Drained before reaping: a child ending after this wakes the poll below.
            self.drain_child_events();
            let more_to_reap = self.reap(pid, &mut exit, &mut not_waited_for, &mut tracer);
            if exit.is_some() {
                duration = Some(started.elapsed());
                // Whoever is still held was left behind by the program: let it go on.
                if let Some(tracer) = &mut tracer {
                    tracer.release_all();
                }
                break;
            }
            if let Some(tracer) = &mut tracer {
                tracer.tick();
            }
            let Some(left) = deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
            else {
                break;
            };
            let tick = tracer.as_ref().and_then(Tracer::next_tick);
            let wait = if more_to_reap {
                Duration::ZERO
            } else {
                tick.map_or(left, |tick| tick.min(left))
            };
            streams.wait(&self.child_events, wait)?;
        }

        let mut left_running = Vec::new();
        match exit {
            None => {
                let _ = self.kill_others();
                exit = Some(Exit::TimedOut);
            }
            Some(_) => {
                // Orphans that ended with the program were reaped above; anything still alive
                // was left running by the program.
                let _ = self.reap(pid, &mut exit, &mut not_waited_for, &mut tracer);
                if self.others_alive() {
                    let others = self.others();
                    left_running = others
                        .iter()
                        .filter(|process| !process.exiting)
                        .take(MAX_LISTED)
                        .map(|process| ProcessInfo {
                            pid: process.pid,
                            name: process.name.clone(),
                        })
                        .collect();
                    let reaped = self.kill_others();
                    // Those that were ending on their own when we looked were not left running,
                    // but they came to us to be reaped: nobody waited for them either.
                    let ended_alone = others.iter().filter(|process| {
                        process.exiting && reaped.contains(&Pid::from_raw(process.pid))
                    });
                    for process in ended_alone {
                        if not_waited_for.len() < MAX_LISTED {
                            not_waited_for.push(ProcessInfo {
                                pid: process.pid,
                                name: process.name.clone(),
                            });
                        }
                    }
                }
            }
        }
        // Every writer is gone now: what is left in the pipes is the end of the output.
        streams.drain();
        let (stdout, stderr) = streams.finish();
        let trace = tracer.map(|tracer| {
            let (trace, lens) = tracer.finish();
            self.lens = Some(lens);
            trace
        });
        Ok(StepOutcome {
            pid: pid.as_raw(),
            exit: exit.unwrap_or(Exit::TimedOut),
            stdout,
            stderr,
            duration: duration.unwrap_or_else(|| started.elapsed()),
            left_running,
            not_waited_for,
            trace,
        })
    }

    fn drain_child_events(&self) {
        while let Ok(Some(_)) = self.child_events.read_signal() {}
    }

    /// Reaps every ended child: the program (its exit goes to `exit`) and orphans given to us,
    /// which their parent did not wait for; hands the tracer its processes' stops.
    ///
    /// Bounded: a fork bomb makes orphans as fast as we reap them, and the caller must get
    /// back to checking the deadline. Returns true when it stopped at the bound.
    fn reap(
        &mut self,
        program: Pid,
        exit: &mut Option<Exit>,
        orphans: &mut Vec<ProcessInfo>,
        tracer: &mut Option<Tracer>,
    ) -> bool {
        for _ in 0..REAPS_PER_CALL {
            // Ptrace stops first, taken at once (WSTOPPED alone leaves exits alone): one call
            // per stop matters to a program that makes thousands of traced calls.
            if let Some(tracer) = tracer.as_mut() {
                let stops = WaitPidFlag::WSTOPPED | WaitPidFlag::WNOHANG | WaitPidFlag::__WALL;
                if let Ok(stop) = waitid(Id::All, stops)
                    && stop.pid().is_some()
                {
                    tracer.stopped(stop);
                    continue;
                }
            }
            // Peek first (WNOWAIT): an orphan's name can be read only while it exists.
            // __WALL: traced threads too.
            let flags = WaitPidFlag::WEXITED
                | WaitPidFlag::WNOHANG
                | WaitPidFlag::WNOWAIT
                | WaitPidFlag::__WALL;
            let Ok(status) = waitid(Id::All, flags) else {
                return false;
            };
            let Some(pid) = status.pid() else {
                return false;
            };
            let now = WaitPidFlag::WNOHANG | WaitPidFlag::__WALL;
            if !matches!(status, WaitStatus::Exited(..) | WaitStatus::Signaled(..)) {
                // A ptrace stop (only tracees stop for us): the tracer's.
                match (waitpid(pid, Some(now)), tracer.as_mut()) {
                    (Ok(stop), Some(tracer)) => tracer.stopped(stop),
                    (Ok(_), None) => {
                        let _ = nix::sys::ptrace::cont(pid, None);
                    }
                    (Err(_), _) => {}
                }
                continue;
            }
            let ended = tracer
                .as_mut()
                .map_or(Ended::Untraced, |tracer| tracer.ended(pid));
            match ended {
                Ended::ToItsParent => {
                    // Reported to us as its tracer; its parent reaps it.
                    let _ = waitpid(pid, Some(now));
                    continue;
                }
                Ended::Handover(handover) => {
                    // The name first: if the parent has ended meanwhile, the wait ends it.
                    let name = self.name_of(pid);
                    let _ = waitpid(pid, Some(now));
                    if handover.abandoned() && orphans.len() < MAX_LISTED {
                        orphans.push(ProcessInfo {
                            pid: pid.as_raw(),
                            name,
                        });
                    }
                    continue;
                }
                Ended::Untraced | Ended::Program | Ended::Orphan => {}
            }
            if pid == program {
                *exit = match status {
                    WaitStatus::Exited(_, code) => Some(Exit::Code(code)),
                    WaitStatus::Signaled(_, signal, _) => {
                        Some(Exit::Signal(signal as i32, signal.as_str().to_owned()))
                    }
                    _ => None,
                };
            } else if let Scope::Host(host) = &mut self.scope
                && orphans.len() >= MAX_LISTED
            {
                // Not listed, but its segments are still the run's to clean up.
                host.note_pid(pid.as_raw());
            } else if orphans.len() < MAX_LISTED {
                let name = self.name_of(pid);
                orphans.push(ProcessInfo {
                    pid: pid.as_raw(),
                    name,
                });
            }
            // Now reap it for real.
            let _ = waitpid(pid, Some(now));
        }
        true
    }

    fn name_of(&mut self, pid: Pid) -> String {
        match &mut self.scope {
            Scope::Namespace => procs::name_of(pid.as_raw()).unwrap_or_default(),
            Scope::Host(host) => {
                host.note_pid(pid.as_raw());
                procs::name_of(pid.as_raw()).unwrap_or_default()
            }
        }
    }

    fn others_alive(&self) -> bool {
        match self.scope {
            // kill(-1) from a namespace's init reaches every other process in it.
            Scope::Namespace => kill(Pid::from_raw(-1), None).is_ok(),
            Scope::Host(_) => !procs::my_descendants().is_empty(),
        }
    }

    fn others(&mut self) -> Vec<procs::Process> {
        match &mut self.scope {
            Scope::Namespace => procs::in_my_pid_namespace(),
            Scope::Host(host) => {
                let processes = procs::my_descendants();
                processes
                    .iter()
                    .for_each(|process| host.note_pid(process.pid));
                processes
            }
        }
    }

    /// Kills every other process of the run and reaps them all; returns the pids reaped.
    /// Bounded: each round kills everything visible, and what a fork bomb makes meanwhile is
    /// capped by the limits.
    fn kill_others(&mut self) -> Vec<Pid> {
        let mut reaped = Vec::new();
        for _ in 0..10_000 {
            let anyone_left = match &mut self.scope {
                Scope::Namespace => kill(Pid::from_raw(-1), Signal::SIGKILL) != Err(Errno::ESRCH),
                Scope::Host(host) => {
                    let processes = procs::my_descendants();
                    for process in &processes {
                        host.note_pid(process.pid);
                        let _ = kill(Pid::from_raw(process.proc_pid), Signal::SIGKILL);
                    }
                    !processes.is_empty()
                }
            };
            if !anyone_left {
                break;
            }
            // Killed processes become zombies, and their children our orphans: reap one (the
            // wait ends as soon as any child ends), then look again.
            match waitpid(None, Some(WaitPidFlag::__WALL)) {
                Ok(status) if is_stop(&status) => resume_killed(&status),
                Ok(status) => reaped.extend(status.pid()),
                Err(Errno::ECHILD) => std::thread::yield_now(),
                Err(_) => {}
            }
            // And whoever else has ended meanwhile, before looking again.
            for _ in 0..REAPS_PER_CALL {
                match waitpid(None, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
                    Ok(status) if is_stop(&status) => resume_killed(&status),
                    Ok(status) if status.pid().is_some() => reaped.extend(status.pid()),
                    _ => break,
                }
            }
        }
        // Children that ended between the last look and now (host mode).
        while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
            let Some(pid) = status.pid() else { break };
            if is_stop(&status) {
                resume_killed(&status);
            } else {
                reaped.push(pid);
            }
        }
        if let Scope::Host(host) = &mut self.scope {
            reaped.iter().for_each(|pid| host.note_pid(pid.as_raw()));
        }
        reaped
    }

    /// The segments left, with their first bytes. In host mode, only the run's own.
    fn segments(&mut self, held: &[(ShmId, Attachment)]) -> Result<Vec<SegmentState>> {
        let mut entries: Vec<ShmEntry> = proc_shm::read()?;
        if let Scope::Host(host) = &self.scope {
            entries.retain(|entry| host.created_by_run(entry));
        }
        entries.sort_by_key(|entry| entry.shmid);
        for entry in &mut entries {
            self.confinement.as_the_program_sees(entry);
        }
        Ok(entries
            .into_iter()
            .map(|entry| {
                let held_here = held.iter().find(|(id, _)| id.as_raw() == entry.shmid);
                let contents = match held_here {
                    Some((_, attachment)) => first_bytes(attachment),
                    None => read_contents(ShmId::from_raw(entry.shmid)),
                };
                SegmentState {
                    entry,
                    contents,
                    held_by_grader: held_here.is_some(),
                }
            })
            .collect())
    }
}

fn is_stop(status: &WaitStatus) -> bool {
    status.pid().is_some() && !matches!(status, WaitStatus::Exited(..) | WaitStatus::Signaled(..))
}

/// A traced process killed while stopped (at its exit, or held) may still report a stop:
/// let it go to its end.
fn resume_killed(status: &WaitStatus) {
    if let Some(pid) = status.pid() {
        let _ = nix::sys::ptrace::cont(pid, None);
    }
}

/// `madvise(MADV_DONTFORK)`: children forked later do not get this mapping.
fn keep_from_children(attachment: &Attachment) -> Result<()> {
    let page = 4096;
    let len = attachment.len().div_ceil(page) * page;
    let start = std::ptr::NonNull::new(attachment.as_ptr())
        .context("madvise(MADV_DONTFORK): the held attachment has no address")?;
    // SAFETY: the range is exactly the attachment's mapping (shmat maps whole pages); the
    // advice changes only what fork copies, not the mapping itself.
    unsafe { madvise(start.cast(), len, MmapAdvise::MADV_DONTFORK) }
        .context("madvise(MADV_DONTFORK) on the held attachment")
}

fn first_bytes(attachment: &Attachment) -> Vec<u8> {
    let mut bytes = vec![0; attachment.len().min(CONTENTS_BYTES)];
    attachment.read(0, &mut bytes);
    bytes
}

/// A segment's first bytes through a short read-only attachment; empty if it cannot be attached.
fn read_contents(id: ShmId) -> Vec<u8> {
    let Ok(attachment) = sysv::shmat(id, ShmatFlag::SHM_RDONLY) else {
        return Vec::new();
    };
    let bytes = first_bytes(&attachment);
    let _ = sysv::shmdt(attachment);
    bytes
}
