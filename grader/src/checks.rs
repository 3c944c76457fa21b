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
//!
//! Three parts, by concern: this module is the vocabulary (a [`Test`] built step by step, its
//! [`Check`]s, their [`Failure`]s); [`run`] holds the [`Run`] helpers the checks call;
//! [`text`] says what was observed in words (exits, segments, bytes) and reads what a program
//! printed (panics, `todo!()`s, a dialog's transcript), for the checks and the reports alike.
//! [`lens`] adds the checks over the system-call trace.

pub mod lens;
pub mod run;
pub mod text;

pub use run::Run;
pub use text::{
    c_string_at, clip, describe_bytes, describe_entry, describe_exit, describe_segments,
    not_yet_implemented, panic_message, panic_site, stopped_at_todo,
};
// For the check modules below this one (`lens`).
use text::quoted_list;

use crate::scenario::{
    Explore, Injection, Input, Lens, Poke, PokeAt, Schedules, SetupSegment, Step, SyscallKind, When,
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
    /// The keys the program may use (see [`crate::scenario::Scenario::keys`]).
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

    /// Under the schedules of [`Test::race`] or [`Test::explore`], a process held at `call`
    /// while children of its own are alive is held until they have ended
    /// ([`Explore::until_children_end`]).
    pub fn hold_until_children_end(mut self, call: SyscallKind) -> Test {
        if let Schedules::Explore(explore) = &mut self.lens.schedules {
            explore.until_children_end.push(call);
        }
        self
    }

    /// Under the schedules of [`Test::race`] or [`Test::explore`], the clocks read through the
    /// kernel and moved `jump` ahead when a hold begins ([`Explore::clocks_jump`]).
    pub fn clocks_jump_at_holds(mut self, jump: std::time::Duration) -> Test {
        if let Schedules::Explore(explore) = &mut self.lens.schedules {
            explore.clocks_jump = Some(jump);
        }
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
            process: lineage.to_vec(),
            at: PokeAt::Exit,
            only_if: Vec::new(),
        });
        self
    }

    /// At the stop before the `nth` `call` of process `lineage` of step 0, if setup segment
    /// `segment` then holds each of `only_if`'s bytes at its offset, write `bytes` at `offset`
    /// of it, behind the program's back.
    pub fn poke_before(
        self,
        segment: usize,
        (offset, bytes): (usize, &[u8]),
        lineage: &[u32],
        (call, nth): (SyscallKind, u32),
        only_if: &[(usize, &[u8])],
    ) -> Test {
        let mut test = self.poke_after_exit(segment, offset, bytes, lineage);
        if let Some(poke) = test.lens.pokes.last_mut() {
            poke.at = PokeAt::Before { call, nth };
            poke.only_if = only_if
                .iter()
                .map(|(offset, bytes)| (*offset, bytes.to_vec()))
                .collect();
        }
        test
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

/// A number that differs from one grading to the next (std's per-process hash keys), for
/// values the program cannot guess: the checks read them back from the scenario.
pub fn unpredictable(below: u32) -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(below);
    (hasher.finish() % u64::from(below.max(1))) as u32
}
