//! Checks on what each process *did*: the system-call trace of a step ([`Trace`]).
//!
//! The kernel's end state cannot tell everything: exit detaches every attachment, so a program
//! that forgets `shmdt` ends like one that does not; one process printing all the lines ends
//! like two taking turns. The trace can. The checks here say, in a student's words, which
//! process did (or did not do) which call, and show the few calls that prove it, rendered as
//! `strace -f` would print them ([`render_event`]):
//!
//! ```text
//! [child 1] shmat(0, NULL, 0) = 0x7f3a1c000000
//! [child 1] write(1, "child: 37892\n", 13) = 13
//! [child 1] +++ exited with 0 +++
//! ```
//!
//! Processes are named by their place in the tree ([`describe_lineage`]): "the parent" (the
//! program), "child 1" (its first fork), "child 1 of child 2"; the same names in every run.
//!
//! **Without a trace** ([`Observation::untraced`]: tracing refused, e.g. in a container that
//! blocks `ptrace`) a check built on it does not pass silently: [`Run::traced`] hands back the
//! reason, and each check falls back to what the end state shows and says what it could not see.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Failure, Run, Verdict, ensure, quoted_list};
use crate::scenario::{Call, Event, Exit, Hold, Trace, errno_name};

/// The most trace lines a failure shows.
const SHOWN_EVENTS: usize = 12;

/// `IPC_RMID`, as `shmctl`'s command.
const IPC_RMID: i32 = libc::IPC_RMID;

/// "the parent" for the program itself (the lab's programs that fork are parents), "child 2"
/// for its second fork, "child 1 of child 2" further down.
pub fn describe_lineage(lineage: &[u32]) -> String {
    if lineage.is_empty() {
        "the parent".to_string()
    } else {
        crate::scenario::describe_process(lineage)
    }
}

/// The name of process `index` of a trace ("the program" when it never forked).
pub fn describe_process(trace: &Trace, index: usize) -> String {
    let Some(process) = trace.processes.get(index) else {
        return format!("process {index}");
    };
    if trace.processes.len() == 1 {
        return "the program".to_string();
    }
    match (process.thread, process.parent) {
        (true, Some(parent)) => format!("a thread of {}", describe_process(trace, parent)),
        _ => describe_lineage(&forked_lineage(trace, index)),
    }
}

/// The lineage of process `index` counting forked processes only: a program that starts a
/// thread and then forks still has its fork as "child 1", as the spec means it.
fn forked_lineage(trace: &Trace, index: usize) -> Vec<u32> {
    let mut lineage = Vec::new();
    let mut current = index;
    while let Some(parent) = trace
        .processes
        .get(current)
        .and_then(|process| process.parent)
    {
        let position = children_of(trace, parent)
            .iter()
            .position(|&child| child == current)
            .unwrap_or(0);
        lineage.push(position as u32);
        current = parent;
    }
    lineage.reverse();
    lineage
}

/// The processes (not threads) that `parent` forked, in fork order.
fn children_of(trace: &Trace, parent: usize) -> Vec<usize> {
    trace
        .processes
        .iter()
        .enumerate()
        .filter(|(_, process)| process.parent == Some(parent) && !process.thread)
        .map(|(index, _)| index)
        .collect()
}

/// A schedule in words, for a failure message: "with child 1's write held 3 ms".
pub fn describe_schedule(holds: &[Hold]) -> Option<String> {
    if holds.is_empty() {
        return None;
    }
    let holds: Vec<String> = holds.iter().map(Hold::describe).collect();
    Some(format!("with {}", holds.join(" and ")))
}

fn millis(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}

/// One event as `strace -f` would print it, prefixed with the process's name.
pub fn render_event(trace: &Trace, event: &Event) -> String {
    let who = describe_process(trace, event.process);
    let mut line = format!("[{who}] {}", render_call(trace, &event.call));
    if let Some(errno) = event.injected {
        let _ = write!(line, " (INJECTED {})", errno_name(errno));
    }
    if let Some(held) = event.held {
        let _ = write!(line, " <held {} by the grader>", millis(held));
    }
    line
}

fn render_call(trace: &Trace, call: &Call) -> String {
    match call {
        Call::Shmget {
            key,
            size,
            flags,
            result,
        } => format!(
            "shmget({key:#x}, {size}, {}) = {}",
            shmget_flags(*flags),
            returned(result, |id| id.to_string())
        ),
        Call::Shmat {
            id,
            addr,
            flags,
            result,
        } => format!(
            "shmat({id}, {}, {}) = {}",
            address(*addr),
            if *flags & libc::SHM_RDONLY != 0 {
                "SHM_RDONLY"
            } else {
                "0"
            },
            returned(result, |addr| format!("{addr:#x}"))
        ),
        Call::Shmdt { addr, result } => {
            format!(
                "shmdt({}) = {}",
                address(*addr),
                returned(result, |()| "0".to_string())
            )
        }
        Call::Shmctl { id, cmd, result } => format!(
            "shmctl({id}, {}, ...) = {}",
            match *cmd {
                IPC_RMID => "IPC_RMID".to_string(),
                libc::IPC_STAT => "IPC_STAT".to_string(),
                libc::IPC_SET => "IPC_SET".to_string(),
                other => other.to_string(),
            },
            returned(result, |value| value.to_string())
        ),
        Call::Sleep {
            syscall,
            duration,
            result,
        } => format!(
            "{syscall}({}) = {}",
            duration.map_or("...".to_string(), |duration| format!(
                "{:.3} s",
                duration.as_secs_f64()
            )),
            returned(result, |value| value.to_string())
        ),
        Call::Wait {
            syscall,
            pid,
            result,
            reaped,
        } => format!(
            "{syscall}({pid}, ...) = {}",
            returned(result, |pid| match reaped {
                Some(child) => format!("{pid} ({})", describe_process(trace, *child)),
                None => pid.to_string(),
            })
        ),
        Call::Fork { syscall, result } => format!(
            "{syscall}() = {}",
            returned(result, |child| {
                let pid = trace.processes.get(*child).map_or(0, |process| process.pid);
                format!("{pid} ({})", describe_process(trace, *child))
            })
        ),
        Call::Write { fd, text, result } => format!(
            "write({fd}, \"{}\", {}) = {}",
            super::clip(&text.escape_debug().to_string(), 80),
            text.len(),
            returned(result, |bytes| bytes.to_string())
        ),
        Call::Exec { path, result } => format!(
            "execve(\"{path}\", ...) = {}",
            returned(result, |()| "0".to_string())
        ),
        Call::Exit(Exit::Code(code)) => format!("+++ exited with {code} +++"),
        Call::Exit(Exit::Signal(_, name)) => format!("+++ killed by {name} +++"),
        Call::Exit(Exit::TimedOut) => "+++ killed by the grader (timeout) +++".to_string(),
    }
}

fn returned<T>(result: &Result<T, i32>, ok: impl FnOnce(&T) -> String) -> String {
    match result {
        Ok(value) => ok(value),
        Err(errno) => format!(
            "-1 {} ({})",
            errno_name(*errno),
            nix::errno::Errno::from_raw(*errno).desc()
        ),
    }
}

fn address(addr: u64) -> String {
    if addr == 0 {
        "NULL".to_string()
    } else {
        format!("{addr:#x}")
    }
}

fn shmget_flags(flags: i32) -> String {
    let mut names = Vec::new();
    if flags & libc::IPC_CREAT != 0 {
        names.push("IPC_CREAT".to_string());
    }
    if flags & libc::IPC_EXCL != 0 {
        names.push("IPC_EXCL".to_string());
    }
    names.push(format!("{:04o}", flags & 0o777));
    names.join("|")
}

/// The lines of `events` (indices into `trace.events`), at most [`SHOWN_EVENTS`] of them.
pub fn render_events(trace: &Trace, events: &[usize]) -> String {
    let mut lines: Vec<String> = events
        .iter()
        .take(SHOWN_EVENTS)
        .filter_map(|&index| trace.events.get(index))
        .map(|event| render_event(trace, event))
        .collect();
    if events.len() > SHOWN_EVENTS {
        lines.push(format!("[... {} more calls]", events.len() - SHOWN_EVENTS));
    }
    lines.join("\n")
}

/// Indices of the events for which `keep` holds.
pub fn events_where(trace: &Trace, keep: impl Fn(&Event) -> bool) -> Vec<usize> {
    trace
        .events
        .iter()
        .enumerate()
        .filter(|(_, event)| keep(event))
        .map(|(index, _)| index)
        .collect()
}

/// What a process printed on stdout, line by line, with the index of the write event that
/// ended each line (a line may be built by several writes: `print!` then `println!`).
pub fn lines_by_process(trace: &Trace) -> Vec<PrintedLine> {
    let mut pending: Vec<String> = vec![String::new(); trace.processes.len()];
    let mut lines = Vec::new();
    for (index, event) in trace.events.iter().enumerate() {
        let Call::Write { fd: 1, text, .. } = &event.call else {
            continue;
        };
        let Some(buffer) = pending.get_mut(event.process) else {
            continue;
        };
        buffer.push_str(text);
        while let Some(end) = buffer.find('\n') {
            let line: String = buffer.drain(..=end).collect();
            lines.push(PrintedLine {
                process: event.process,
                event: index,
                text: line.trim_end_matches(['\n', '\r']).to_string(),
            });
        }
    }
    lines
}

/// What the segments of `line`'s process held when it printed the line: read at the stop
/// before the write that ended it or, if it had detached them all by then, at its last `shmdt`
/// before it. Empty when it had never detached nor had anything attached.
pub fn seen_at_line<'t>(
    trace: &'t Trace,
    line: &PrintedLine,
) -> &'t [crate::scenario::SharedBytes] {
    let Some(write) = trace.events.get(line.event) else {
        return &[];
    };
    if !write.shared.is_empty() {
        return &write.shared;
    }
    trace.events[..line.event]
        .iter()
        .rev()
        .filter(|event| event.process == line.process)
        .find(|event| matches!(event.call, Call::Shmdt { .. }) && !event.shared.is_empty())
        .map_or(&[], |detached| &detached.shared)
}

/// A line of stdout and the process that wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintedLine {
    pub process: usize,
    /// Index into [`Trace::events`] of the write that ended it.
    pub event: usize,
    pub text: String,
}

/// The children the program forked itself (not threads), in fork order.
pub fn children_of_program(trace: &Trace) -> Vec<usize> {
    children_of(trace, 0)
}

/// The process whose place in the tree is `lineage`, counting forked processes only (see
/// [`describe_process`]).
pub fn process_with_lineage(trace: &Trace, lineage: &[u32]) -> Option<usize> {
    let mut current = 0;
    for &nth in lineage {
        current = *children_of(trace, current).get(nth as usize)?;
    }
    Some(current)
}

impl Run<'_> {
    /// The trace of step `index`, or why there is none (the sandbox's reason).
    pub fn traced(&self, index: usize) -> Result<&Trace, String> {
        let step = self.step(index).map_err(|failure| failure.message)?;
        step.trace.as_ref().ok_or_else(|| {
            self.observation
                .untraced
                .clone()
                .unwrap_or_else(|| "the sandbox recorded no trace".to_string())
        })
    }

    /// Every process of step `index` detached each address its `shmat` returned before it
    /// ended. Without a trace: only the end state (no attachment left).
    pub fn detached_before_exit(&self, index: usize) -> Verdict {
        let trace = match self.traced(index) {
            Ok(trace) => trace,
            Err(why) => return self.untraced_detach_fallback(why),
        };
        for (process, _) in trace.processes.iter().enumerate() {
            let mut attached: Vec<(u64, usize)> = Vec::new();
            let mut shown = Vec::new();
            for (event_index, event) in trace.events.iter().enumerate() {
                if event.process != process {
                    continue;
                }
                match &event.call {
                    Call::Shmat {
                        result: Ok(addr), ..
                    } => {
                        attached.push((*addr, event_index));
                        shown.push(event_index);
                    }
                    Call::Shmdt {
                        addr,
                        result: Ok(()),
                    } => {
                        attached.retain(|(attached, _)| attached != addr);
                        shown.push(event_index);
                    }
                    Call::Exit(_) => {
                        shown.push(event_index);
                        if let Some((addr, _)) = attached.first() {
                            let who = describe_process(trace, process);
                            return Err(Failure::new(format!(
                                "{who} exited with the segment still attached at {addr:#x}: \
                                 no shmdt of the address shmat returned (exit detaches it, \
                                 but the exercise is to give it back yourself)"
                            ))
                            .expected(format!("shmdt({addr:#x}) = 0 before exiting"))
                            .actual(format!("{who} exited without it"))
                            .trace(render_events(trace, &shown))
                            .step(index));
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn untraced_detach_fallback(&self, why: String) -> Verdict {
        let left: u64 = self
            .segments()
            .iter()
            .filter(|segment| !segment.held_by_grader)
            .map(|segment| segment.entry.nattch)
            .sum();
        ensure(left == 0, || {
            Failure::new(format!(
                "{left} attachment(s) left after the program exited (without a trace, {why}, \
                 only the end state could be checked)"
            ))
        })
    }

    /// Step `index` made no sleep call (`nanosleep`, `clock_nanosleep`, a timed wait) in any
    /// process. Without a trace: the step took less than `clock_limit` (a sleep of a second
    /// shows; a short one does not, which the failure of another check may then reveal).
    pub fn slept_nowhere(&self, index: usize, clock_limit: Duration) -> Verdict {
        let trace = match self.traced(index) {
            Ok(trace) => trace,
            Err(why) => {
                let step = self.step(index)?;
                return ensure(step.duration < clock_limit, || {
                    Failure::new(format!(
                        "the run took {} ms: the processes take turns by sleeping, not by \
                         waiting for each other (without a trace, {why}, only the clock was \
                         checked)",
                        step.duration.as_millis()
                    ))
                    .expected(format!("under {} ms", clock_limit.as_millis()))
                    .actual(format!("{} ms", step.duration.as_millis()))
                });
            }
        };
        let sleeps = events_where(trace, |event| matches!(event.call, Call::Sleep { .. }));
        let Some(&first) = sleeps.first() else {
            return Ok(());
        };
        let who = describe_process(trace, trace.events[first].process);
        let call = match &trace.events[first].call {
            Call::Sleep { syscall, .. } => syscall.clone(),
            _ => "sleep".to_string(),
        };
        Err(Failure::new(format!(
            "{who} called {call}: sleeping orders the processes only on a quiet machine; a \
             busy one can run them in any order"
        ))
        .expected("no sleep call: wait for the other process (waitpid, or the turn in the segment)")
        .actual(format!("{} sleep call(s)", sleeps.len()))
        .trace(render_events(trace, &sleeps))
        .step(index))
    }

    /// Step `index` forked exactly the children of `owners` (one per lineage, each a child of
    /// the program) and each line of stdout came from its owner: `owners` maps a line's
    /// prefix to the lineage that must print it. Without a trace: nothing can be seen, and the
    /// check passes on the output alone (other checks read it).
    pub fn lines_from_their_processes(
        &self,
        index: usize,
        children: usize,
        owners: &[(&str, &[u32])],
    ) -> Verdict {
        let trace = match self.traced(index) {
            Ok(trace) => trace,
            Err(why) => return self.owners_printed(index, owners, &why),
        };
        let forked = children_of_program(trace);
        let forks = events_where(trace, |event| matches!(event.call, Call::Fork { .. }));
        ensure(forked.len() == children, || {
            let message = match forked.len() {
                0 => format!(
                    "the program forked no process: the spec asks for {children} child \
                     process(es), each printing its own lines"
                ),
                found => {
                    format!("the program forked {found} process(es); the spec asks for {children}")
                }
            };
            let shown = if forks.is_empty() {
                events_where(trace, |event| {
                    matches!(event.call, Call::Write { fd: 1, .. })
                })
            } else {
                forks.clone()
            };
            Failure::new(message)
                .expected(format!("{children} fork(s) by the program"))
                .actual(format!("{} fork(s)", forked.len()))
                .trace(render_events(trace, &shown))
                .step(index)
        })?;
        for line in lines_by_process(trace) {
            let Some((_, lineage)) = owners
                .iter()
                .find(|(prefix, _)| line.text.starts_with(prefix))
            else {
                continue;
            };
            let owner = process_with_lineage(trace, lineage);
            if owner == Some(line.process) {
                continue;
            }
            let mut shown = forks.clone();
            shown.push(line.event);
            shown.sort_unstable();
            return Err(Failure::new(format!(
                "the line {:?} was printed by {}, not by {}",
                clip_line(&line.text),
                describe_process(trace, line.process),
                describe_lineage(lineage)
            ))
            .expected(format!("printed by {}", describe_lineage(lineage)))
            .actual(format!(
                "printed by {}",
                describe_process(trace, line.process)
            ))
            .trace(render_events(trace, &shown))
            .step(index));
        }
        Ok(())
    }

    /// Each line of step `index` starting with `prefix` (a line that reports what its process
    /// put into the segment) was printed once the segment held `expected` at `offset`: at the
    /// stop before the write that ended the line, the lens read the segments the process had
    /// attached ([`crate::scenario::Event::shared`]), and one of them must hold it. `render`
    /// shows what a segment held instead. Without a trace nothing was read: `untraced` judges.
    pub fn reported_once_written(
        &self,
        index: usize,
        prefix: &str,
        (offset, expected): (usize, &[u8]),
        render: impl Fn(&[u8]) -> String,
        untraced: impl FnOnce(&Run) -> Verdict,
    ) -> Verdict {
        let Ok(trace) = self.traced(index) else {
            return untraced(self);
        };
        let holds_it = |bytes: &[u8]| bytes.get(offset..offset + expected.len()) == Some(expected);
        for line in lines_by_process(trace) {
            if !line.text.starts_with(prefix) {
                continue;
            }
            let seen = seen_at_line(trace, &line);
            if seen.iter().any(|shared| holds_it(&shared.bytes)) {
                continue;
            }
            let who = describe_process(trace, line.process);
            let held = seen
                .last()
                .map(|shared| render(shared.bytes.get(offset..).unwrap_or_default()));
            let message = match &held {
                Some(held) => format!(
                    "{who} printed {:?} while the segment still held {held}: a line that says \
                     what was written is printed after the write, not before",
                    clip_line(&line.text)
                ),
                None => format!(
                    "{who} printed {:?} before it had the segment attached: a line that says what \
                     was written is printed after the write, not before",
                    clip_line(&line.text)
                ),
            };
            let shown = events_where(trace, |event| {
                event.process == line.process
                    && matches!(event.call, Call::Shmat { .. } | Call::Shmdt { .. })
            });
            let mut shown = shown;
            shown.push(line.event);
            shown.sort_unstable();
            return Err(Failure::new(message)
                .expected(format!(
                    "{} in the segment when it printed",
                    render(expected)
                ))
                .actual(held.unwrap_or_else(|| "no segment attached".to_string()))
                .trace(render_events(trace, &shown))
                .step(index));
        }
        Ok(())
    }

    /// Without a trace: at least the lines of `owners` were printed (who printed them could
    /// not be seen), so that a program doing nothing does not pass.
    fn owners_printed(&self, index: usize, owners: &[(&str, &[u32])], why: &str) -> Verdict {
        let lines = self.output_lines(index)?;
        let missing: Vec<&str> = owners
            .iter()
            .map(|(prefix, _)| *prefix)
            .filter(|prefix| !lines.iter().any(|line| line.starts_with(prefix)))
            .collect();
        ensure(missing.is_empty(), || {
            Failure::new(format!(
                "no line starting with {} (without a trace, {why}, which process printed what \
                 could not be seen)",
                quoted_list(&missing)
            ))
            .actual(lines.join("\n"))
            .step(index)
        })
    }

    /// Step `index`, in which the grader made one `call` fail on purpose, reported it (stderr
    /// names the call, and `key` unless empty) and exited 1. When nothing was injected (no
    /// trace, or the program never made that call) the run must just do its work.
    pub fn refusal_reported(&self, index: usize, call: &str, key: &str) -> Verdict {
        let fired = self
            .observation
            .injected
            .iter()
            .any(|injected| injected.step == index);
        if !fired {
            // Nothing was injected (no trace, or the program never made that call, which
            // another check judges): a plain run. It must at least do its work (exit 0 having
            // printed something), so that a program doing nothing does not pass.
            let why = match self.traced(index) {
                Ok(_) => format!("it never called {call}, so the grader could not make it fail"),
                Err(why) => format!("without a trace, {why}, no call could be made to fail"),
            };
            self.exited(index, 0).map_err(|failure| Failure {
                message: format!("{} ({why})", failure.message),
                ..failure
            })?;
            return ensure(!self.output_lines(index)?.is_empty(), || {
                Failure::new(format!(
                    "{} printed nothing ({why})",
                    self.describe_step(index)
                ))
                .step(index)
            });
        }
        let with_trace = |failure: Failure| match self.injection_trace(index) {
            Some(trace) => failure.trace(trace),
            None => failure,
        };
        let needles: Vec<&str> = [call, key].into_iter().filter(|n| !n.is_empty()).collect();
        self.exited(index, 1)
            .and_then(|()| self.stderr_mentions(index, &needles))
            .map_err(|failure| {
                let message = format!("when the grader made {call} fail: {}", failure.message);
                with_trace(Failure { message, ..failure })
            })
    }

    /// Step `i` reported the refused call `refused[i]` (its name, and the key unless empty)
    /// and exited 1, and after the last one nothing is left ([`Run::nothing_left`]).
    pub fn refusals_reported(&self, refused: &[(&str, &str)]) -> Verdict {
        for (index, (call, key)) in refused.iter().enumerate() {
            self.refusal_reported(index, call, key)?;
        }
        self.nothing_left(refused.len().saturating_sub(1))
    }

    /// After the last step (`index`): no segment left (but the grader's held ones) and no
    /// process running. A leak names, from the trace, the segment's `shmget` that no
    /// `shmctl(IPC_RMID)` followed, on the path the program took.
    pub fn nothing_left(&self, index: usize) -> Verdict {
        self.no_segment_left().map_err(|failure| {
            let unremoved = (0..=index)
                .find_map(|step| self.unremoved_segments(step).map(|found| (step, found)));
            match unremoved {
                Some((step, (ids, trace))) => Failure {
                    message: format!(
                        "{}: segment id {} was created and never removed on this path (no \
                         shmctl IPC_RMID)",
                        self.describe_step(step),
                        ids.iter()
                            .map(i32::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    ..failure
                }
                .trace(trace)
                .step(step),
                None => failure,
            }
        })?;
        self.nothing_left_running()
    }

    /// `failure` with the calls that show who printed what, and when: the writes to stdout and
    /// the calls the grader held (a failure of the output in a steered run).
    pub fn with_writes(&self, index: usize, failure: Failure) -> Failure {
        let Ok(trace) = self.traced(index) else {
            return failure;
        };
        let shown = events_where(trace, |event| {
            event.held.is_some() || matches!(event.call, Call::Write { fd: 1, .. })
        });
        if shown.is_empty() {
            failure
        } else {
            failure.trace(render_events(trace, &shown))
        }
    }

    /// The calls of step `index` that explain where a program went after an injected failure:
    /// the injected call, and the shmget/shmctl/exit calls around it. `None` without a trace.
    pub fn injection_trace(&self, index: usize) -> Option<String> {
        let trace = self.traced(index).ok()?;
        let shown = events_where(trace, |event| {
            event.injected.is_some()
                || matches!(
                    event.call,
                    Call::Shmget { .. } | Call::Shmctl { .. } | Call::Fork { .. } | Call::Exit(_)
                )
        });
        Some(render_events(trace, &shown))
    }

    /// The segments step `index` created (a successful `shmget` whose id the grader did not
    /// make) that no `shmctl(IPC_RMID)` of any process removed, with the calls that show it.
    pub fn unremoved_segments(&self, index: usize) -> Option<(Vec<i32>, String)> {
        let trace = self.traced(index).ok()?;
        let mut created: Vec<(i32, usize)> = Vec::new();
        for (event_index, event) in trace.events.iter().enumerate() {
            match &event.call {
                Call::Shmget { result: Ok(id), .. }
                    if !self.observation.setup_ids.contains(id)
                        && !created.iter().any(|(known, _)| known == id) =>
                {
                    created.push((*id, event_index));
                }
                Call::Shmctl {
                    id,
                    cmd: IPC_RMID,
                    result: Ok(_),
                } => created.retain(|(known, _)| known != id),
                _ => {}
            }
        }
        if created.is_empty() {
            return None;
        }
        let ids = created.iter().map(|(id, _)| *id).collect();
        let shown = events_where(trace, |event| {
            event.injected.is_some()
                || matches!(
                    event.call,
                    Call::Shmget { .. } | Call::Shmctl { .. } | Call::Exit(_)
                )
        });
        Some((ids, render_events(trace, &shown)))
    }
}

fn clip_line(line: &str) -> String {
    super::clip(line, 60)
}

#[cfg(test)]
mod tests;
