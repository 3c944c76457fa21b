//! Batch grading: a whole class at once (`cargo grade batch`), and shards joined
//! (`cargo grade merge`).
//!
//! # Why a command of its own
//!
//! A shell loop of `cargo grade --submission` builds every dependency (sysv, nix, libc) once
//! per student: about 7 s of the 8 s each submission takes. `batch` prepares the dependency
//! cache once ([`crate::build::cache`]), then builds and grades the students' own crates on
//! it, several at a time ([`run`]). Each submission goes through exactly what `--submission`
//! does: [`crate::intake`] takes its sources, [`crate::build::build_submission_on`] builds them
//! in the build jail, [`crate::grade::grade_exercises`] grades them in the sandbox. Nothing in
//! those modules knows about classes.
//!
//! # What it writes (`--out DIR`)
//!
//! - `students/NAME.json`: the student's report in the `--format json` schema;
//! - `records/NAME.json`: the batch's own record of the student ([`record::Record`]): status,
//!   points per exercise and per check with the wrong outputs seen, and the fingerprint of
//!   what was graded. The gradebook and the class report are made from the records alone, so
//!   that shards graded on other machines join by copying records ([`merge`]);
//! - `grades.csv` and `report.html` ([`gradebook`], [`html`]), rewritten at the end of each
//!   run from every record in DIR.
//!
//! A student's files are written (atomically) as soon as the student is graded, so an
//! interrupted run (Ctrl-C) keeps every finished student. A rerun skips the students whose
//! fingerprint did not change: the SHA-256 of the sources intake took (not of the archive, so
//! a re-zipped upload is not graded again) and of the grading settings and the grader's
//! executable. Students whose grading failed on the grader's side are always graded again.
//!
//! # Past one machine
//!
//! `--shard I/N` grades the students whose place in the sorted list is I modulo N (I from 0),
//! so N machines given the same folder split the class without talking to each other;
//! `cargo grade merge DIR…` joins their output folders into one gradebook and report, the same
//! as one unsharded run ([`class::Shard`]).

pub mod class;
pub mod gradebook;
pub mod html;
pub mod merge;
pub mod record;
pub mod run;
pub mod sample;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::cli::Cli;
use crate::grade::Options;
use crate::report::{EXIT_FULL_MARKS, EXIT_GRADER_ERROR, out, write_atomically};
use record::{Record, Status};

/// Exit status of a run stopped by Ctrl-C (128 + SIGINT, as a shell reports it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// `cargo grade batch`'s own arguments (see [`crate::cli::Command::Batch`]; `--repeat`,
/// `--timeout` and `--jobs`, tests at a time per submission, are the global ones).
#[derive(Clone, Debug)]
pub struct BatchArgs {
    pub submissions: PathBuf,
    pub workers: Option<usize>,
    pub out: PathBuf,
    pub shard: Option<class::Shard>,
}

/// Runs `cargo grade batch`: exit 0 when every student was graded (whatever their marks), 2
/// when the grader failed for some student, 130 when interrupted.
pub fn batch_command(cli: &Cli, options: Options, args: &BatchArgs) -> Result<ExitCode> {
    if cli.solutions || cli.submission.is_some() || cli.output.is_some() {
        bail!(
            "`cargo grade batch` grades the folder it is given and writes into --out; drop --solutions, --submission and --output"
        );
    }
    let cpus = std::thread::available_parallelism().map_or(2, usize::from);
    let settings = run::Settings {
        class: args.submissions.clone(),
        out: args.out.clone(),
        workers: args.workers.unwrap_or(cpus).max(1),
        shard: args.shard,
    };
    let summary = run::batch(&settings, &options)?;
    let count = |status| {
        summary
            .records
            .iter()
            .filter(|record| record.status == status)
            .count()
    };
    let mut text = format!(
        "{} {} submission(s) in {:.1} s ({} graded now, {} unchanged): {} graded, {} did not compile, {} grader error(s), {} refused.\n",
        if summary.interrupted {
            "Interrupted after"
        } else {
            "Graded"
        },
        summary.records.len(),
        summary.elapsed.as_secs_f64(),
        summary.graded_now,
        summary.unchanged,
        count(Status::Graded),
        count(Status::DidNotCompile),
        count(Status::GraderError),
        count(Status::Refused),
    );
    if let Some((csv, html)) = &summary.gradebook {
        text.push_str(&format!(
            "Gradebook: {}\nClass report: {}\nReports: {}\n",
            csv.display(),
            html.display(),
            args.out.join(STUDENTS).display()
        ));
    }
    if summary.interrupted {
        text.push_str(
            "Run the same command again to grade the rest: finished students are kept.\n",
        );
    }
    out(&text)?;
    Ok(ExitCode::from(if summary.interrupted {
        EXIT_INTERRUPTED
    } else if count(Status::GraderError) > 0 {
        EXIT_GRADER_ERROR
    } else {
        EXIT_FULL_MARKS
    }))
}

/// Runs `cargo grade merge`.
pub fn merge_command(shards: &[PathBuf], out_dir: &Path) -> Result<ExitCode> {
    let (records, (csv, html)) = merge::merge(shards, out_dir)?;
    out(&format!(
        "Merged {} shard(s): {} students.\nGradebook: {}\nClass report: {}\n",
        shards.len(),
        records.len(),
        csv.display(),
        html.display()
    ))?;
    Ok(ExitCode::from(EXIT_FULL_MARKS))
}

/// Folder of the per-student reports in an output folder.
pub const STUDENTS: &str = "students";
/// Folder of the per-student records in an output folder.
pub const RECORDS: &str = "records";
/// The gradebook's file name.
pub const GRADES_CSV: &str = "grades.csv";
/// The class report's file name.
pub const REPORT_HTML: &str = "report.html";

/// Reads every record of the output folder `dir`, sorted by student.
pub fn read_records(dir: &Path) -> Result<Vec<Record>> {
    let folder = dir.join(RECORDS);
    let mut records = Vec::new();
    if !folder.is_dir() {
        return Ok(records);
    }
    let entries = std::fs::read_dir(&folder)
        .with_context(|| format!("Failed to list the records in {}", folder.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("Failed to list the records in {}", folder.display()))?
            .path();
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            records.push(Record::read(&path)?);
        }
    }
    records.sort_by(|a, b| a.student.cmp(&b.student));
    Ok(records)
}

/// Writes `grades.csv` and `report.html` of `records` into `dir`; returns their paths.
pub fn write_gradebook(dir: &Path, records: &[Record]) -> Result<(PathBuf, PathBuf)> {
    let exercises = crate::exercises::all()?;
    let names: Vec<&str> = exercises.iter().map(|exercise| exercise.name()).collect();
    let csv = dir.join(GRADES_CSV);
    write_atomically(&csv, &gradebook::csv(&names, records))?;
    let html = dir.join(REPORT_HTML);
    write_atomically(&html, &html::render(&names, records)?)?;
    Ok((csv, html))
}
