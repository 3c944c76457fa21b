//! `cargo grade batch`: the class graded, several submissions at a time.
//!
//! The dependency cache is prepared once, on this thread, before any worker starts (the
//! first build of a class pays for it; later ones find it ready). Then `workers` threads take
//! submissions from a shared counter, each doing what `--submission` does for one student,
//! and send the outcome back here, where the student's files are written and the progress
//! bar moves. Whatever one submission does (an intake refusal, a build jail failure, a
//! sandbox error) becomes that student's record; it never stops the others.
//!
//! Ctrl-C: the terminal sends SIGINT to the whole process group, so the builds and programs
//! under way die with it and their results mean nothing. The grader itself catches it: no
//! new submission is started, outcomes arriving after it are dropped, and the gradebook is
//! written from the students finished before it. A rerun resumes (see [`super`]).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::class::{Shard, Submission, submissions};
use super::record::{Record, Status, fingerprint};
use super::{RECORDS, STUDENTS, write_gradebook};
use crate::build::build_submission_on;
use crate::build::cache::DependencyCache;
use crate::build::lab_root;
use crate::exercises::Exercise;
use crate::grade::{Options, Program, grade_exercises};
use crate::report::{Report, Source, json, write_atomically};

/// What to grade and where the results go.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The class folder: one submission per entry.
    pub class: PathBuf,
    pub out: PathBuf,
    /// Submissions built and graded at the same time.
    pub workers: usize,
    pub shard: Option<Shard>,
}

/// How a batch went.
#[derive(Debug, Default)]
pub struct Summary {
    /// This run's students (this shard's), with their records, sorted by student.
    pub records: Vec<Record>,
    /// Students graded now, and kept from an earlier run (unchanged).
    pub graded_now: usize,
    pub unchanged: usize,
    /// Ctrl-C stopped the run; `records` holds only the finished students.
    pub interrupted: bool,
    pub elapsed: Duration,
    pub gradebook: Option<(PathBuf, PathBuf)>,
}

/// Set by the SIGINT handler.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Grades the class as `settings` say, each submission with `options` (whose `jobs` is split
/// between the workers).
pub fn batch(settings: &Settings, options: &Options) -> Result<Summary> {
    let started = Instant::now();
    let class = submissions(&settings.class)?;
    let class: Vec<Submission> = class
        .into_iter()
        .enumerate()
        .filter(|(position, _)| settings.shard.is_none_or(|shard| shard.takes(*position)))
        .map(|(_, submission)| submission)
        .collect();
    for folder in [STUDENTS, RECORDS] {
        let path = settings.out.join(folder);
        std::fs::create_dir_all(&path)
            .with_context(|| format!("Failed to create the output folder {}", path.display()))?;
    }
    let exercises = crate::exercises::all()?;
    let selected: Vec<&Exercise> = exercises.iter().collect();
    let settings_key = grading_settings(options, &selected)?;

    let terminal = std::io::stderr().is_terminal();
    let bar = if terminal {
        ProgressBar::new(class.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{wide_bar}] {pos}/{len} ETA {eta} {msg}",
        )
        .context("Failed to set up the progress bar")?
        .progress_chars("=> "),
    );
    say(
        &bar,
        terminal,
        "building the lab's dependencies (once for the class)…",
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let cache = DependencyCache::prepare(&lab_root(), &options.sandbox_exe)?;
    bar.set_message("");

    install_interrupt_handler()?;
    let workers = settings.workers.clamp(1, class.len().max(1));
    let mut per_submission = options.clone();
    per_submission.jobs = (options.jobs / workers).max(1);
    let next = AtomicUsize::new(0);
    let mut summary = Summary::default();
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) = mpsc::channel::<Outcome>();
        for _ in 0..workers {
            let sender = sender.clone();
            let (class, cache, next) = (&class, &cache, &next);
            let (selected, options, settings_key) = (&selected, &per_submission, &settings_key);
            let out = &settings.out;
            scope.spawn(move || {
                while !INTERRUPTED.load(Ordering::SeqCst) {
                    let Some(submission) = class.get(next.fetch_add(1, Ordering::SeqCst)) else {
                        break;
                    };
                    let outcome =
                        grade_one(submission, out, cache, selected, options, settings_key);
                    if sender.send(outcome).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for outcome in receiver {
            if INTERRUPTED.load(Ordering::SeqCst) {
                summary.interrupted = true;
                continue;
            }
            keep(&settings.out, &outcome)?;
            say(&bar, terminal, &outcome.line());
            if outcome.unchanged {
                summary.unchanged += 1;
            } else {
                summary.graded_now += 1;
            }
            summary.records.push(outcome.record);
            bar.inc(1);
        }
        Ok(())
    })?;
    summary.interrupted |= INTERRUPTED.load(Ordering::SeqCst);
    bar.finish_and_clear();
    summary.records.sort_by(|a, b| a.student.cmp(&b.student));
    summary.gradebook = Some(write_gradebook(&settings.out, &summary.records)?);
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// One line on stderr: above the bar on a terminal, plain otherwise.
fn say(bar: &ProgressBar, terminal: bool, line: &str) {
    if terminal {
        bar.println(line);
    } else {
        eprintln!("{line}");
    }
}

fn install_interrupt_handler() -> Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    INTERRUPTED.store(false, Ordering::SeqCst);
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe, and no other
    // handler for SIGINT is relied on by this process.
    unsafe { sigaction(Signal::SIGINT, &action) }
        .context("Failed to install the Ctrl-C handler")?;
    Ok(())
}

/// What identifies the grading besides the sources: a change here grades everyone again.
fn grading_settings(options: &Options, exercises: &[&Exercise]) -> Result<String> {
    use std::os::unix::fs::MetadataExt as _;
    let exe = std::fs::metadata(&options.sandbox_exe).with_context(|| {
        format!(
            "Failed to read the grader's executable {}",
            options.sandbox_exe.display()
        )
    })?;
    let names: Vec<&str> = exercises.iter().map(|exercise| exercise.name()).collect();
    Ok(format!(
        "grader {} ({} bytes, modified {}.{}); repeat {}; timeout {:?}; exercises {}",
        env!("CARGO_PKG_VERSION"),
        exe.size(),
        exe.mtime(),
        exe.mtime_nsec(),
        options.repeat,
        options.timeout,
        names.join(",")
    ))
}

/// A finished student.
struct Outcome {
    record: Record,
    /// The student's report, when graded now.
    report: Option<Report>,
    unchanged: bool,
}

impl Outcome {
    fn line(&self) -> String {
        let record = &self.record;
        let score = format!(
            "{}/{}",
            crate::report::human::number(record.score),
            crate::report::human::number(record.max)
        );
        match (record.status, self.unchanged) {
            (_, true) => format!("{}: unchanged since the last run ({score})", record.student),
            (Status::Graded, _) => format!("{}: {score}", record.student),
            (Status::DidNotCompile, _) => {
                let broken: Vec<&str> = record
                    .exercises
                    .iter()
                    .filter(|exercise| exercise.compiler_error.is_some())
                    .map(|exercise| exercise.name.as_str())
                    .collect();
                format!(
                    "{}: {score}, did not compile: {}",
                    record.student,
                    broken.join(", ")
                )
            }
            (status, _) => format!(
                "{}: {} ({})",
                record.student,
                status.label(),
                record.message
            ),
        }
    }
}

/// Grades one submission as `--submission` would, or finds it unchanged since the last run.
fn grade_one(
    submission: &Submission,
    out: &Path,
    cache: &DependencyCache,
    exercises: &[&Exercise],
    options: &Options,
    settings_key: &str,
) -> Outcome {
    let student = &submission.student;
    let failed = |fingerprint: String, status, error: anyhow::Error| Outcome {
        record: Record::failed(student, &submission.name, fingerprint, status, &error),
        report: None,
        unchanged: false,
    };
    let taken = match crate::intake::read(&submission.path) {
        Ok(taken) => taken,
        Err(error) => return failed(String::new(), Status::Refused, error),
    };
    let fingerprint = fingerprint(settings_key, &taken.sources);
    if let Ok(earlier) = Record::read(&record_path(out, student))
        && earlier.is_final()
        && earlier.fingerprint == fingerprint
        && earlier.submission == submission.name
    {
        return Outcome {
            record: earlier,
            report: None,
            unchanged: true,
        };
    }
    let built = match build_submission_on(cache, taken, exercises, &options.sandbox_exe) {
        Ok(built) => built,
        Err(error) => return failed(fingerprint, Status::GraderError, error),
    };
    let started = Instant::now();
    let work: Vec<(&Exercise, Program)> = exercises.iter().copied().zip(built.programs).collect();
    let results = grade_exercises(options, &work, |_| {});
    let report = Report {
        source: Source::Submission,
        root: submission.path.display().to_string(),
        isolation: crate::report::isolation_of(&results),
        exercises: results,
        build_time: built.build_time,
        grade_time: started.elapsed(),
        submission: Some(built.intake),
    };
    // The build's folder (the programs) goes only now.
    drop(built.cargo);
    Outcome {
        record: Record::graded(student, &submission.name, fingerprint, &report),
        report: Some(report),
        unchanged: false,
    }
}

fn record_path(out: &Path, student: &str) -> PathBuf {
    out.join(RECORDS).join(format!("{student}.json"))
}

fn report_path(out: &Path, student: &str) -> PathBuf {
    out.join(STUDENTS).join(format!("{student}.json"))
}

/// Writes a finished student's report (or removes an older one that no longer holds) and
/// then the record, which is what a rerun trusts.
fn keep(out: &Path, outcome: &Outcome) -> Result<()> {
    if outcome.unchanged {
        return Ok(());
    }
    let student = &outcome.record.student;
    let report = report_path(out, student);
    match &outcome.report {
        Some(graded) => write_atomically(&report, &json::render(graded))?,
        None => match std::fs::remove_file(&report) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(error)
                    .with_context(|| format!("Failed to remove {}", report.display()));
            }
            _ => {}
        },
    }
    outcome.record.write(&record_path(out, student))
}
