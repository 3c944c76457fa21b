//! Tests and checks: what the exercise table is made of, and the helpers checks are written with.
//!
//! A [`Test`] is one scenario (setup segments, runs of the program) plus the [`Check`]s that
//! score what the sandbox observed. A check is a plain Rust function over a [`Run`] (one
//! observation of the scenario) returning a [`Verdict`]: `Ok(())`, or a [`Failure`] that says
//! what was expected, what happened, and which step's output to show.
//!
//! The helpers on [`Run`] do the work common to many checks (exit status, exact lines, finding a
//! segment, reading an id out of a line) and produce failures with good messages, so that the
//! checks in [`crate::exercises`] read like the spec.

pub mod lens;

use std::fmt::Write as _;
use std::time::Duration;

use crate::proc_shm::ShmEntry;
use crate::scenario::{
    Exit, Explore, Injection, Input, Lens, Observation, Poke, ProcessInfo, Scenario, Schedules,
    SegmentState, SetupSegment, Step, StepOutcome, SyscallKind, When,
};

/// The result of one check on one run.
pub type Verdict = Result<(), Failure>;

/// Why a check failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Failure {
    /// One line: what went wrong.
    pub message: String,
    /// What the check wanted (multi-line allowed: then a line diff is shown).
    pub expected: Option<String>,
    /// What it found instead.
    pub actual: Option<String>,
    /// The step whose captured output explains the failure (shown under it).
    pub step: Option<usize>,
    /// What the trace adds (boxed: most failures have none, and a `Verdict` stays small).
    pub more: Option<Box<More>>,
}

/// The parts of a [`Failure`] that few failures have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct More {
    /// The system calls that show it, one per line as `strace -f` prints them ([`lens`]).
    pub trace: Option<String>,
    /// What to try next, when the failure knows better than the check's advice (lines in the
    /// wrong order point at synchronisation, whatever the check is about).
    pub advice: Option<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            ..Failure::default()
        }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Failure {
        self.expected = Some(expected.into());
        self
    }

    pub fn actual(mut self, actual: impl Into<String>) -> Failure {
        self.actual = Some(actual.into());
        self
    }

    pub fn step(mut self, step: usize) -> Failure {
        self.step = Some(step);
        self
    }

    pub fn advice(mut self, advice: impl Into<String>) -> Failure {
        self.more.get_or_insert_default().advice = Some(advice.into());
        self
    }

    pub fn trace(mut self, trace: impl Into<String>) -> Failure {
        self.more.get_or_insert_default().trace = Some(trace.into());
        self
    }

    /// The system calls that show it, if the check had a trace to show.
    pub fn shown_calls(&self) -> Option<&str> {
        self.more.as_ref()?.trace.as_deref()
    }

    /// Its own advice, if it knows better than its check's.
    pub fn own_advice(&self) -> Option<&str> {
        self.more.as_ref()?.advice.as_deref()
    }
}

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> Failure) -> Verdict {
    if condition { Ok(()) } else { Err(message()) }
}

type VerifyFn = dyn Fn(&Run) -> Verdict + Send + Sync;

/// One scored property of an exercise.
pub struct Check {
    pub name: &'static str,
    /// Weight within the exercise; the weights of an exercise sum to its points in `info.toml`.
    pub points: u32,
    /// What to try when it fails (shown as "next:").
    pub advice: &'static str,
    /// When students may see it on platforms that can defer (Gradescope).
    pub visibility: Visibility,
    /// Passed by a program that does nothing (exits 0, leaves nothing behind): it earns its
    /// points only when the exercise's main scenario ran to its end and did some of its work
    /// (see [`crate::grade`]), so an empty or hanging program earns nothing.
    pub tidy: bool,
    verify: Box<VerifyFn>,
}

/// When a check's result is shown to students: Gradescope's four test visibilities.
///
/// Every check that is not `Visible` is instructor-only: it is declared in
/// `grader/src/exercises/instructor.rs`, compiled only with the `instructor` feature, and never
/// copied into the handout, so a student's own grader neither runs nor names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Always shown (the default).
    #[default]
    Visible,
    /// Shown once the assignment's due date has passed.
    AfterDueDate,
    /// Shown once the instructor publishes the grades.
    AfterPublished,
    /// Never shown to students (Gradescope: worth no points, as its spec asks).
    Hidden,
}

impl Check {
    pub fn verify(&self, run: &Run) -> Verdict {
        (self.verify)(run)
    }
}

/// One scenario of an exercise and its checks.
pub struct Test {
    pub name: &'static str,
    pub setup: Vec<SetupSegment>,
    pub steps: Vec<Step>,
    /// The keys the program may use (see [`Scenario::keys`]).
    pub keys: Vec<i32>,
    /// Run it many times pinned to one CPU (`--repeat`), then under the lens's schedules (one
    /// process held at one of its calls), to expose races; every run must pass.
    pub race: bool,
    /// What the system-call lens injects, pokes and burns ([`Lens`]); the schedules follow
    /// from [`Test::race`].
    pub lens: Lens,
    pub checks: Vec<Check>,
    /// A figure to show beside the score, not scored (a throughput): computed from the first
    /// run, it ends the exercise's summary line ([`Test::measure`]).
    pub measure: Option<MeasureFn>,
}

/// Computes a [`Test::measure`] figure from a run, or nothing when the run cannot tell.
pub type MeasureFn = fn(&Run) -> Option<String>;

impl Test {
    pub fn new(name: &'static str, keys: &[i32]) -> Test {
        Test {
            name,
            setup: Vec::new(),
            steps: Vec::new(),
            keys: keys.to_vec(),
            race: false,
            lens: Lens::default(),
            checks: Vec::new(),
            measure: None,
        }
    }

    /// Shows `measure`'s figure beside the exercise's score (never scored).
    pub fn measure(mut self, measure: MeasureFn) -> Test {
        self.measure = Some(measure);
        self
    }

    /// A segment the grader creates before the first step.
    pub fn setup(mut self, key: i32, size: usize, mode: u32, contents: &[u8]) -> Test {
        self.setup.push(SetupSegment {
            key,
            size,
            mode,
            contents: contents.to_vec(),
            hold_attached: false,
        });
        self
    }

    /// A segment the grader creates and keeps attached, so its contents can be read even after
    /// the program removes it.
    pub fn held(mut self, key: i32, size: usize, mode: u32, contents: &[u8]) -> Test {
        self.setup.push(SetupSegment {
            key,
            size,
            mode,
            contents: contents.to_vec(),
            hold_attached: true,
        });
        self
    }

    /// A run of the program with these arguments and stdin closed.
    pub fn run(mut self, args: &[&str]) -> Test {
        let args = args.iter().map(|arg| arg.to_string()).collect();
        self.steps.push(Step {
            args,
            input: Input::Closed,
        });
        self
    }

    /// A run of the program on a terminal: wait for `prompt`, then type `reply`.
    pub fn dialog(mut self, prompt: &str, reply: &str) -> Test {
        self.steps.push(Step {
            args: Vec::new(),
            input: Input::Dialog {
                prompt: prompt.to_string(),
                reply: reply.to_string(),
            },
        });
        self
    }

    pub fn race(mut self) -> Test {
        self.race = true;
        self.explore()
    }

    /// After a first run, one run per schedule of the lens (one process held at one of its
    /// calls; see [`Schedules::Explore`]), without the pinned repeats of [`Test::race`].
    pub fn explore(mut self) -> Test {
        self.lens.schedules = Schedules::Explore(Explore::default());
        self
    }

    /// Make the first `call` of each step fail with `errno` (only in step `step` if given).
    pub fn inject(mut self, call: SyscallKind, errno: i32, step: Option<usize>) -> Test {
        self.lens.inject.push(Injection {
            call,
            errno,
            when: When::Nth(1),
            step,
        });
        self
    }

    /// When the process `lineage` of step 0 exits, write `bytes` at `offset` of setup segment
    /// `segment`, behind the program's back.
    pub fn poke_after_exit(
        mut self,
        segment: usize,
        offset: usize,
        bytes: &[u8],
        lineage: &[u32],
    ) -> Test {
        self.lens.pokes.push(Poke {
            segment,
            offset,
            bytes: bytes.to_vec(),
            step: 0,
            after_exit_of: lineage.to_vec(),
        });
        self
    }

    /// Use up `count` segment ids before the setup, so that the program's ids are not 0, 1...
    pub fn burn_ids(mut self, count: u32) -> Test {
        self.lens.burn_ids = count;
        self
    }

    /// A check of the work the program does.
    pub fn check(
        mut self,
        points: u32,
        name: &'static str,
        advice: &'static str,
        verify: impl Fn(&Run) -> Verdict + Send + Sync + 'static,
    ) -> Test {
        self.checks.push(Check {
            name,
            points,
            advice,
            visibility: Visibility::Visible,
            tidy: false,
            verify: Box::new(verify),
        });
        self
    }

    /// Sets the visibility of the check added last.
    pub fn visibility(mut self, visibility: Visibility) -> Test {
        if let Some(check) = self.checks.last_mut() {
            check.visibility = visibility;
        }
        self
    }

    /// Marks the check just added as tidy: a program doing nothing would pass it (an exit
    /// status, nothing left behind), so it counts only once the exercise's main scenario did
    /// its work ([`Check::tidy`]).
    pub fn tidy(mut self) -> Test {
        if let Some(check) = self.checks.last_mut() {
            check.tidy = true;
        }
        self
    }

    pub fn points(&self) -> u32 {
        self.checks.iter().map(|check| check.points).sum()
    }
}

/// One observation of a test's scenario, as the checks see it.
pub struct Run<'a> {
    pub scenario: &'a Scenario,
    pub observation: &'a Observation,
}

impl<'a> Run<'a> {
    pub fn new(scenario: &'a Scenario, observation: &'a Observation) -> Run<'a> {
        Run {
            scenario,
            observation,
        }
    }

    /// The outcome of step `index` (a failure if the sandbox did not get that far).
    pub fn step(&self, index: usize) -> Result<&'a StepOutcome, Failure> {
        self.observation
            .steps
            .get(index)
            .ok_or_else(|| Failure::new(format!("run {} of the program did not happen", index + 1)))
    }

    /// Step `index` exited normally with `code`.
    pub fn exited(&self, index: usize, code: i32) -> Verdict {
        let step = self.step(index)?;
        ensure(step.exit == Exit::Code(code), || {
            Failure::new(format!(
                "{}: expected exit status {code}",
                self.what_happened(index)
            ))
            .expected(format!("exit status {code}"))
            .actual(describe_exit(&step.exit, self.scenario.timeout))
            .step(index)
        })
    }

    /// Every step exited with `code`.
    pub fn all_exited(&self, code: i32) -> Verdict {
        (0..self.scenario.steps.len()).try_for_each(|index| self.exited(index, code))
    }

    /// "the program" or "run 2 of the program (`create --exclusive`)", for messages.
    pub fn what_happened(&self, index: usize) -> String {
        let Some(step) = self.observation.steps.get(index) else {
            return format!("run {} did not happen", index + 1);
        };
        let who = self.describe_step(index);
        match &step.exit {
            Exit::Code(0) => format!("{who} exited with status 0"),
            Exit::Code(code) => match (
                not_yet_implemented(&step.stderr.text),
                panic_message(&step.stderr.text),
            ) {
                (Some(todo), _) => format!("{who} stopped at a todo!(): {todo}"),
                (None, Some(panic)) if *code == 101 => format!("{who} panicked ({panic})"),
                _ => format!("{who} exited with status {code}"),
            },
            Exit::TimedOut => match self.missing_prompt(index) {
                Some(prompt) => format!(
                    "{who} never showed the prompt {prompt:?} (print it, then flush stdout: the \
                     grader types only once it sees it) and was {}",
                    describe_exit(&Exit::TimedOut, self.scenario.timeout)
                ),
                None => format!(
                    "{who} was {}",
                    describe_exit(&step.exit, self.scenario.timeout)
                ),
            },
            other => format!("{who} was {}", describe_exit(other, self.scenario.timeout)),
        }
    }

    /// For a dialog step whose transcript lacks its prompt: the prompt.
    fn missing_prompt(&self, index: usize) -> Option<&'a str> {
        let Some(Input::Dialog { prompt, .. }) =
            self.scenario.steps.get(index).map(|step| &step.input)
        else {
            return None;
        };
        let transcript = &self.observation.steps.get(index)?.stdout.text;
        (!transcript.contains(prompt.as_str())).then_some(prompt.as_str())
    }

    /// `the program` when there is one step, else `run N (ARGS)`.
    pub fn describe_step(&self, index: usize) -> String {
        if self.scenario.steps.len() == 1 {
            return "the program".to_string();
        }
        let Some(step) = self.scenario.steps.get(index) else {
            return format!("run {}", index + 1);
        };
        match &step.input {
            Input::Dialog { reply, .. } => format!("run {} (typing {reply:?})", index + 1),
            Input::Closed if step.args.is_empty() => format!("run {} (no arguments)", index + 1),
            Input::Closed => format!("run {} (arguments: {})", index + 1, step.args.join(" ")),
        }
    }

    /// What the program printed on stdout: lines without their `\r`. For a dialog, the part of
    /// the terminal transcript after the prompt and the echo of the reply.
    pub fn output_lines(&self, index: usize) -> Result<Vec<String>, Failure> {
        let step = self.step(index)?;
        let text = normalise_newlines(&step.stdout.text);
        let text = match &self.scenario.steps.get(index).map(|step| &step.input) {
            Some(Input::Dialog { prompt, reply }) => after_dialog(&text, prompt, reply),
            _ => text,
        };
        Ok(text.lines().map(str::to_string).collect())
    }

    /// What the program wrote on stderr (for a dialog: the transcript, where stderr goes too).
    pub fn error_text(&self, index: usize) -> Result<String, Failure> {
        let step = self.step(index)?;
        Ok(
            match self.scenario.steps.get(index).map(|step| &step.input) {
                Some(Input::Dialog { .. }) => normalise_newlines(&step.stdout.text),
                _ => normalise_newlines(&step.stderr.text),
            },
        )
    }

    /// Stdout of step `index` is exactly `expected`, line by line.
    pub fn printed(&self, index: usize, expected: &[String]) -> Verdict {
        let actual = self.output_lines(index)?;
        let step = self.step(index)?;
        if step.stdout.truncated {
            return Err(Failure::new(format!(
                "{} printed {} bytes on stdout; expected {} line(s)",
                self.describe_step(index),
                step.stdout.total_bytes,
                expected.len()
            ))
            .expected(expected.join("\n"))
            .actual(first_lines(&actual, 3))
            .step(index));
        }
        ensure(actual == expected, || {
            let message = if sorted(&actual) == sorted(expected) {
                format!(
                    "{} printed the right lines in the wrong order",
                    self.describe_step(index)
                )
            } else {
                format!(
                    "{} did not print the expected lines",
                    self.describe_step(index)
                )
            };
            Failure::new(message)
                .expected(expected.join("\n"))
                .actual(actual.join("\n"))
                .step(index)
        })
    }

    /// Stdout of step `index` has exactly the `expected` lines, in any order (the order is
    /// a race test's business: a run the grader does not steer may pass or fail it by luck).
    pub fn printed_in_any_order(&self, index: usize, expected: &[String]) -> Verdict {
        match self.printed(index, expected) {
            Err(failure) if !failure.message.ends_with("in the wrong order") => Err(failure),
            _ => Ok(()),
        }
    }

    /// Stderr of step `index` contains each of `needles` (case-sensitive).
    pub fn stderr_mentions(&self, index: usize, needles: &[&str]) -> Verdict {
        let text = self.error_text(index)?;
        let missing: Vec<&str> = needles
            .iter()
            .copied()
            .filter(|needle| !text.contains(needle))
            .collect();
        ensure(missing.is_empty(), || {
            Failure::new(format!(
                "{}: its error message does not mention {}",
                self.describe_step(index),
                quoted_list(&missing)
            ))
            .expected(format!("stderr mentioning {}", quoted_list(needles)))
            .actual(if text.trim().is_empty() {
                "nothing on stderr".to_string()
            } else {
                text.trim_end().to_string()
            })
            .step(index)
        })
    }

    /// The number on a line of stdout that starts with `prefix` (`"... ID: "` → the id).
    pub fn printed_number(&self, index: usize, prefix: &str) -> Result<i64, Failure> {
        let lines = self.output_lines(index)?;
        let line = lines
            .iter()
            .find(|line| line.starts_with(prefix))
            .ok_or_else(|| {
                Failure::new(format!(
                    "{} printed no line starting with {prefix:?}",
                    self.describe_step(index)
                ))
                .expected(format!("{prefix}<number>"))
                .actual(lines.join("\n"))
                .step(index)
            })?;
        let digits: String = line[prefix.len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '-')
            .collect();
        digits.parse().map_err(|_| {
            Failure::new(format!(
                "{} printed {line:?}: no number after {prefix:?}",
                self.describe_step(index)
            ))
            .step(index)
        })
    }

    /// Every segment left in the namespace, the grader's held ones included.
    pub fn segments(&self) -> &'a [SegmentState] {
        &self.observation.segments
    }

    /// The segments the program left, i.e. all but those the grader made (held or not).
    pub fn segments_not_from_setup(&self) -> Vec<&'a SegmentState> {
        self.segments()
            .iter()
            .filter(|segment| !self.observation.setup_ids.contains(&segment.entry.shmid))
            .collect()
    }

    /// The one live segment with `key` (removed segments have key 0).
    pub fn segment_with_key(&self, key: i32) -> Result<&'a SegmentState, Failure> {
        let found: Vec<&SegmentState> = self
            .segments()
            .iter()
            .filter(|segment| segment.entry.key == key)
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(
                Failure::new(format!("no segment with key {key:#x} after the run"))
                    .expected(format!("a segment with key {key:#x}"))
                    .actual(describe_segments(self.segments())),
            ),
            _ => Err(
                Failure::new(format!("{} segments with key {key:#x}", found.len()))
                    .actual(describe_segments(self.segments())),
            ),
        }
    }

    /// The grader's setup segment number `index`, found by id (even once removed).
    pub fn setup_segment(&self, index: usize) -> Result<&'a SegmentState, Failure> {
        let id = self.setup_id(index)?;
        self.segments()
            .iter()
            .find(|segment| segment.entry.shmid == id)
            .ok_or_else(|| {
                Failure::new(format!("the segment the grader made (id {id}) is gone"))
                    .actual(describe_segments(self.segments()))
            })
    }

    /// The id of the grader's setup segment number `index`.
    pub fn setup_id(&self, index: usize) -> Result<i32, Failure> {
        self.observation
            .setup_ids
            .get(index)
            .copied()
            .ok_or_else(|| Failure::new(format!("the sandbox reported no setup segment {index}")))
    }

    /// The program removed the grader's held setup segment `index` (`SHM_DEST` set, as the
    /// grader's attachment keeps it alive) and made no other segment.
    pub fn setup_segment_removed(&self, index: usize) -> Verdict {
        let segment = self.setup_segment(index)?;
        ensure(segment.entry.marked_for_destruction(), || {
            Failure::new("the segment was not removed (no IPC_RMID)")
                .expected("the segment marked for destruction")
                .actual(describe_segments(self.segments()))
        })?;
        let others = self.segments_not_from_setup();
        ensure(others.is_empty(), || {
            Failure::new(format!("{} more segment(s) left behind", others.len()))
                .actual(describe_segments(self.segments()))
        })
    }

    /// No segment is left apart from those the grader holds attached.
    pub fn no_segment_left(&self) -> Verdict {
        let left: Vec<&SegmentState> = self
            .segments()
            .iter()
            .filter(|segment| !segment.held_by_grader)
            .collect();
        ensure(left.is_empty(), || {
            let keys: Vec<String> = left
                .iter()
                .map(|segment| format!("{:#x}", segment.entry.key))
                .collect();
            Failure::new(format!(
                "{} segment(s) left behind (key {})",
                left.len(),
                keys.join(", ")
            ))
            .expected("no segment")
            .actual(describe_segments(self.segments()))
        })
    }

    /// Every process of every step was waited for by its parent.
    pub fn children_waited_for(&self) -> Verdict {
        for (index, step) in self.observation.steps.iter().enumerate() {
            ensure(step.not_waited_for.is_empty(), || {
                let names = describe_processes(&step.not_waited_for);
                Failure::new(format!(
                    "{}: {} child process(es) ended without being waited for: {}",
                    self.describe_step(index),
                    step.not_waited_for.len(),
                    names
                ))
                .expected("every child reaped with waitpid")
                .step(index)
            })?;
        }
        Ok(())
    }

    /// No process of any step was still running once its program exited.
    pub fn nothing_left_running(&self) -> Verdict {
        for (index, step) in self.observation.steps.iter().enumerate() {
            ensure(step.left_running.is_empty(), || {
                let names = describe_processes(&step.left_running);
                Failure::new(format!(
                    "{}: {} process(es) still running after it exited (killed by the grader): {}",
                    self.describe_step(index),
                    step.left_running.len(),
                    names
                ))
                .expected("no process left running")
                .step(index)
            })?;
        }
        Ok(())
    }
}

/// A number that differs from one grading to the next (std's per-process hash keys), for
/// values the program cannot guess: the checks read them back from the scenario.
pub fn unpredictable(below: u32) -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(below);
    (hasher.finish() % u64::from(below.max(1))) as u32
}

/// Processes listed shortly: a fork bomb leaves dozens.
fn describe_processes(processes: &[ProcessInfo]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = processes
        .iter()
        .take(SHOWN)
        .map(|process| format!("{} (pid {})", process.name, process.pid))
        .collect();
    if processes.len() > SHOWN {
        names.push(format!("and {} more", processes.len() - SHOWN));
    }
    names.join(", ")
}

/// "exit status 1", "killed by SIGSEGV (signal 11)", "still running after 5 s: killed".
pub fn describe_exit(exit: &Exit, timeout: Duration) -> String {
    match exit {
        Exit::Code(code) => format!("exit status {code}"),
        Exit::Signal(number, name) => format!("killed by {name} (signal {number})"),
        Exit::TimedOut => format!(
            "still running after {}: killed by the grader",
            seconds(timeout)
        ),
    }
}

fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// The first `count` lines, each clipped, and how many more there were.
fn first_lines(lines: &[String], count: usize) -> String {
    let mut text: Vec<String> = lines
        .iter()
        .take(count)
        .map(|line| clip(line, 120))
        .collect();
    if lines.len() > count {
        text.push(format!("[... {} more lines]", lines.len() - count));
    }
    text.join("\n")
}

/// `line`, cut to at most `max` characters (marked with `…`): a program may print one line of
/// megabytes, and a report must stay readable.
pub fn clip(line: &str, max: usize) -> String {
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// The message of a panic (the line after `panicked at FILE:LINE:COL:`), if `stderr` has one.
pub fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    lines.find(|line| line.contains("panicked at"))?;
    lines.next().map(|message| clip(message.trim(), 200))
}

/// The message of a `todo!()` panic in `stderr`, if the program stopped at one.
pub fn not_yet_implemented(stderr: &str) -> Option<String> {
    let line = stderr
        .lines()
        .find(|line| line.contains("not yet implemented"))?;
    let message = line
        .split_once("not yet implemented")
        .map_or("", |(_, rest)| rest);
    let message = message.trim_start_matches(':').trim();
    Some(if message.is_empty() {
        "not yet implemented".to_string()
    } else {
        message.to_string()
    })
}

/// Where a program panicked, from its panic message on `stderr`: `src/main.rs:39` for
/// `thread 'main' panicked at exercises/01-create/src/main.rs:39:5:` (the file from the
/// package's folder on, the line without the column).
pub fn panic_site(stderr: &str) -> Option<String> {
    let line = stderr.lines().find(|line| line.contains("panicked at "))?;
    let place = line.split_once("panicked at ")?.1.trim_end_matches(':');
    let mut parts = place.rsplitn(3, ':');
    let (_column, line_number, file) = (parts.next()?, parts.next()?, parts.next()?);
    line_number.parse::<u32>().ok()?;
    let file = file.find("src/").map_or(file, |start| &file[start..]);
    Some(format!("{file}:{line_number}"))
}

/// A run stopped at a `todo!()`: exit status 101 and the panic message on stderr.
pub fn stopped_at_todo(step: &StepOutcome) -> Option<String> {
    if step.exit != Exit::Code(101) {
        return None;
    }
    not_yet_implemented(&step.stderr.text).or_else(|| not_yet_implemented(&step.stdout.text))
}

/// One line per segment, like a short `ipcs -m`.
pub fn describe_segments(segments: &[SegmentState]) -> String {
    if segments.is_empty() {
        return "no segment".to_string();
    }
    let mut text = String::new();
    for segment in segments {
        let _ = writeln!(text, "{}", describe_entry(&segment.entry));
    }
    text.trim_end().to_string()
}

/// `id 3, key 0x2706, 1024 bytes, mode 0666, cpid 2, lpid 2, 0 attached`.
pub fn describe_entry(entry: &ShmEntry) -> String {
    let dest = if entry.marked_for_destruction() {
        ", marked for destruction"
    } else {
        ""
    };
    format!(
        "id {}, key {:#x}, {} bytes, mode {:04o}, cpid {}, lpid {}, {} attached{dest}",
        entry.shmid,
        entry.key,
        entry.size,
        entry.permissions(),
        entry.cpid,
        entry.lpid,
        entry.nattch
    )
}

/// Bytes for a message: printable text as a string, with NULs and others escaped.
pub fn describe_bytes(bytes: &[u8]) -> String {
    if bytes.iter().all(|byte| *byte == 0) {
        return format!("{} zero bytes", bytes.len());
    }
    format!("\"{}\"", bytes.escape_ascii())
}

/// The C string at `offset` of a segment's captured contents.
pub fn c_string_at(contents: &[u8], offset: usize) -> Vec<u8> {
    contents
        .get(offset..)
        .unwrap_or(&[])
        .iter()
        .copied()
        .take_while(|byte| *byte != 0)
        .collect()
}

fn normalise_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The transcript after the prompt, without the terminal's echo of the reply.
fn after_dialog(transcript: &str, prompt: &str, reply: &str) -> String {
    let Some(at) = transcript.find(prompt) else {
        return transcript.to_string();
    };
    let rest = &transcript[at + prompt.len()..];
    let echo = reply.trim_end_matches('\n');
    match rest.strip_prefix(echo) {
        Some(after) if !echo.is_empty() || after.starts_with('\n') => {
            after.strip_prefix('\n').unwrap_or(after).to_string()
        }
        _ => rest.to_string(),
    }
}

fn sorted(lines: &[String]) -> Vec<&String> {
    let mut sorted: Vec<&String> = lines.iter().collect();
    sorted.sort();
    sorted
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("{item:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_site_is_the_file_and_line() {
        let stderr = "\nthread 'main' panicked at exercises/01-create/src/main.rs:39:5:\nnot yet implemented: x\n";
        assert_eq!(panic_site(stderr).as_deref(), Some("src/main.rs:39"));
        assert_eq!(panic_site("no panic here"), None);
    }

    #[test]
    fn todo_message_is_extracted() {
        let stderr = "\nthread 'main' panicked at exercises/01-create/src/main.rs:9:5:\nnot yet implemented: create the segment\nnote: run with `RUST_BACKTRACE=1`";
        assert_eq!(
            not_yet_implemented(stderr).as_deref(),
            Some("create the segment")
        );
        assert_eq!(
            not_yet_implemented("not yet implemented").as_deref(),
            Some("not yet implemented")
        );
        assert_eq!(not_yet_implemented("panicked at x: boom"), None);
    }

    #[test]
    fn dialog_output_skips_prompt_and_echo() {
        let prompt = "Enter the size of shared memory: ";
        let echoed = "Enter the size of shared memory: 64\nWe have accessed shared memory ID: 3\n";
        assert_eq!(
            after_dialog(echoed, prompt, "64\n"),
            "We have accessed shared memory ID: 3\n"
        );
        let silent = "Enter the size of shared memory: We have accessed shared memory ID: 3\n";
        assert_eq!(
            after_dialog(silent, prompt, "64\n"),
            "We have accessed shared memory ID: 3\n"
        );
        let empty = "Enter the size of shared memory: \nerror: reading the size (key 0x7d4): no size given\n";
        assert_eq!(
            after_dialog(empty, prompt, "\n"),
            "error: reading the size (key 0x7d4): no size given\n"
        );
    }

    #[test]
    fn exits_are_described() {
        assert_eq!(
            describe_exit(&Exit::Signal(11, "SIGSEGV".into()), Duration::from_secs(5)),
            "killed by SIGSEGV (signal 11)"
        );
        assert_eq!(
            describe_exit(&Exit::TimedOut, Duration::from_secs(5)),
            "still running after 5 s: killed by the grader"
        );
    }

    #[test]
    fn bytes_are_described() {
        assert_eq!(describe_bytes(&[0, 0, 0]), "3 zero bytes");
        assert_eq!(describe_bytes(b"hi\0"), "\"hi\\x00\"");
        assert_eq!(c_string_at(b"\x02\0\0\0hello\0junk", 4), b"hello");
    }
}
