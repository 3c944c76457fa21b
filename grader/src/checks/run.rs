//! [`Run`]: one observation of a test's scenario, and the helpers checks are written with.
//!
//! Each helper does a piece of work common to many checks (the exit status, exact lines,
//! finding a segment, reading an id out of a line) and fails with a [`Failure`] that says
//! what was expected, what happened, and which step's output to show, so that the checks in
//! [`crate::exercises`] read like the spec.

use super::text::{
    after_dialog, describe_exit, describe_processes, describe_segments, first_lines,
    normalise_newlines, not_yet_implemented, panic_message, quoted_list, sorted,
};
use super::{Failure, Verdict, ensure};
use crate::scenario::{Call, Exit, Input, Observation, Scenario, SegmentState, StepOutcome, Trace};

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

    /// What the program printed on stdout: lines without their `\r`. For a dialog, the part
    /// after the prompt and the echo of the reply.
    pub fn output_lines(&self, index: usize) -> Result<Vec<String>, Failure> {
        let text = self.stdout_text(index)?;
        let text = match &self.scenario.steps.get(index).map(|step| &step.input) {
            Some(Input::Dialog { prompt, reply }) => after_dialog(&text, prompt, reply),
            _ => text,
        };
        Ok(text.lines().map(str::to_string).collect())
    }

    /// What the program wrote on stdout, newlines normalised.
    ///
    /// A dialog runs on a terminal, which merges stdout and stderr: there the trace's writes
    /// to fd 1 tell them apart, so a prompt or a message sent to stderr is not taken for
    /// stdout. Untraced (or with a trace that kept only part of the text), the transcript.
    pub fn stdout_text(&self, index: usize) -> Result<String, Failure> {
        let step = self.step(index)?;
        Ok(normalise_newlines(
            &self
                .dialog_stream(index, 1)
                .unwrap_or_else(|| step.stdout.text.clone()),
        ))
    }

    /// What the program wrote on stderr; for a dialog as [`Run::stdout_text`] does for stdout.
    pub fn error_text(&self, index: usize) -> Result<String, Failure> {
        let step = self.step(index)?;
        let merged = match self.scenario.steps.get(index).map(|step| &step.input) {
            Some(Input::Dialog { .. }) => &step.stdout.text,
            _ => &step.stderr.text,
        };
        Ok(normalise_newlines(
            &self
                .dialog_stream(index, 2)
                .unwrap_or_else(|| merged.clone()),
        ))
    }

    /// For a dialog step with a whole trace: everything its processes wrote to `fd`, in the
    /// order the tracer saw the writes. `None` for other steps, untraced, or when the trace
    /// dropped events or cut texts (then the transcript is all there is).
    fn dialog_stream(&self, index: usize, fd: i32) -> Option<String> {
        let Some(Input::Dialog { .. }) = self.scenario.steps.get(index).map(|step| &step.input)
        else {
            return None;
        };
        let trace = self.observation.steps.get(index)?.trace.as_ref()?;
        let mut text = String::new();
        let mut kept = 0;
        for event in &trace.events {
            if let Call::Write {
                fd: written_to,
                text: written,
                result,
            } = &event.call
            {
                // One write keeps at most Call::WRITE_BYTES of its text.
                if result
                    .as_ref()
                    .is_ok_and(|&bytes| bytes > Call::WRITE_BYTES as u64)
                {
                    return None;
                }
                kept += written.len();
                if *written_to == fd {
                    text.push_str(written);
                }
            }
        }
        (trace.dropped == 0 && kept < Trace::MAX_TEXT_BYTES).then_some(text)
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
            let on_stdout = self
                .stdout_text(index)
                .is_ok_and(|stdout| needles.iter().all(|needle| stdout.contains(needle)));
            Failure::new(if on_stdout {
                format!(
                    "{}: its error message went to stdout; print it on stderr (eprintln!, not println!)",
                    self.describe_step(index)
                )
            } else {
                format!(
                    "{}: its error message does not mention {}",
                    self.describe_step(index),
                    quoted_list(&missing)
                )
            })
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
        self.no_process_in(
            |step| &step.not_waited_for,
            "child process(es) ended without being waited for",
            "every child reaped with waitpid",
        )
    }

    /// No process of any step was still running once its program exited.
    pub fn nothing_left_running(&self) -> Verdict {
        self.no_process_in(
            |step| &step.left_running,
            "process(es) still running after it exited (killed by the grader)",
            "no process left running",
        )
    }

    /// Each step's list of processes chosen by `list` is empty; else the first step's fails,
    /// saying how many `problem` and naming them.
    fn no_process_in(
        &self,
        list: impl Fn(&StepOutcome) -> &[crate::scenario::ProcessInfo],
        problem: &str,
        expected: &str,
    ) -> Verdict {
        for (index, step) in self.observation.steps.iter().enumerate() {
            let processes = list(step);
            ensure(processes.is_empty(), || {
                Failure::new(format!(
                    "{}: {} {problem}: {}",
                    self.describe_step(index),
                    processes.len(),
                    describe_processes(processes)
                ))
                .expected(expected)
                .step(index)
            })?;
        }
        Ok(())
    }
}
