//! The command line, declared with clap: doc comments are the help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::report::Format;

/// Grades the shmlab exercises.
///
/// Builds each exercise's program with cargo, runs it in a private IPC and PID namespace (your
/// machine's own shared-memory segments are never touched), and checks what it prints and what
/// it leaves in the kernel: keys, sizes, modes, contents, removal, processes. Each check is worth
/// points; an exercise passes when all of its checks do.
///
/// Without arguments it grades every exercise of exercises/. Name exercises to grade only
/// those: `cargo grade create attach`.
#[derive(Debug, Parser)]
#[command(
    name = "cargo grade",
    bin_name = "cargo grade",
    version,
    after_help = "Exit status: 0 full marks; 1 some check failed (or did not compile, or not started); \
                  2 the grader could not run (bad usage, cargo not found, no sandbox).\n\n\
                  Start with exercises/01-create/README.md, then `cargo grade create`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Exercises to grade, by name (default: all of them).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Grade the reference solutions (solutions/) instead of your exercises/.
    #[arg(long, global = true, conflicts_with = "submission")]
    pub solutions: bool,

    /// Grade a student's submission with this grader's checks: a checkout, a zip, .tar or
    /// .tar.gz of one (also wrapped in a folder), or loose files named by exercise (create.rs,
    /// 01-create.rs, create/main.rs). Only each exercise's src/**/*.rs is taken, built in a
    /// sandbox inside a copy of this lab; the rest (manifests, build.rs, .cargo/, target/,
    /// sysv/) is ignored and listed in the report.
    #[arg(long, global = true, value_name = "PATH")]
    pub submission: Option<PathBuf>,

    /// With --submission: grade even where the kernel allows no namespace ("host mode"), where
    /// the submission's programs run with your rights on this machine. Only for code you trust.
    #[arg(long, global = true)]
    pub unsafe_host: bool,

    /// How to write the report.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human, value_name = "FORMAT")]
    pub format: Format,

    /// Write the report to FILE (rewritten after each exercise, so it survives a crash);
    /// the human summary still goes to stdout.
    #[arg(long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Runs of each race test (parent-child, ping-pong) besides the grader's schedules, the
    /// first as the kernel schedules it, the others pinned to one CPU; all must pass.
    #[arg(long, global = true, value_name = "N", default_value_t = crate::grade::DEFAULT_REPEAT, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,

    /// Seconds a program may run before it is killed and its check fails.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 5.0)]
    pub timeout: f64,

    /// Tests to run at the same time (default: the number of CPUs).
    #[arg(long, global = true, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the exercises with their state (graded now) and points.
    List,
    /// Show a hint for an exercise, in levels: the first time the concept and the question
    /// to ask yourself; asked again, the calls involved; then the shape of the code, with blanks.
    Hint {
        /// The exercise, e.g. `create`.
        name: String,
        /// Show this level (1, 2 or 3) instead of the next one.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=3))]
        level: Option<u8>,
    },
    /// Grade the first exercise you have not passed, and again each time you save
    /// (keys: h hint, l list, n next, r re-run, q quit).
    Watch,
    /// Put an exercise's src/main.rs back as it was shipped (asks first).
    Reset {
        /// The exercise, e.g. `create`.
        name: String,
        /// Reset without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Grade a whole class: every submission in a folder (one checkout, folder or archive per
    /// student, as --submission takes them), with a gradebook (grades.csv), one JSON report per
    /// student and a class report (report.html). A rerun skips unchanged submissions.
    Batch {
        /// The class folder: one checkout, folder or archive per student, named after the
        /// student (`alice.zip`, `bob/`).
        #[arg(value_name = "SUBMISSIONS")]
        submissions: PathBuf,
        /// Submissions built and graded at the same time (default: the number of CPUs).
        #[arg(short = 'j', value_name = "N")]
        workers: Option<usize>,
        /// Where to write the gradebook, the reports and the class report.
        #[arg(long, value_name = "DIR", default_value = "gradebook")]
        out: PathBuf,
        /// Grade only every N-th submission from the I-th (I from 0), for one of N machines;
        /// join the shards' folders with `cargo grade merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<crate::batch::class::Shard>,
    },
    /// Join the output folders of `batch --shard` runs into one gradebook and class report.
    Merge {
        /// The shards' output folders.
        #[arg(value_name = "DIR", required = true)]
        shards: Vec<PathBuf>,
        /// Where to write the merged gradebook, reports and class report.
        #[arg(long, value_name = "DIR", default_value = "gradebook")]
        out: PathBuf,
    },
    /// Write the students' repository into DIR (for instructors): exercises, grader, sysv, the
    /// book, README and CI; no solutions, fixtures, instructor-only checks or instructor guide.
    Handout {
        /// A new (or empty) folder.
        dir: PathBuf,
    },
    /// Write what a grading platform runs (for instructors).
    Autograder {
        #[command(subcommand)]
        platform: Platform,
    },
    /// Write the outline of a new exercise NAME, last in the lab, in every place that shows
    /// it (for lab authors; then `cargo grade dev check` says what is left to write).
    #[command(hide = true)]
    New {
        /// The exercise's name: lowercase letters, digits and dashes, e.g. `semaphore`.
        name: String,
        /// What passing all of its checks is worth.
        #[arg(long, value_name = "N", default_value_t = 10)]
        points: u32,
    },
    /// Tools for lab authors (hidden from students' help: see the instructor guide).
    #[command(hide = true)]
    Dev {
        #[command(subcommand)]
        command: Dev,
    },
}

/// `cargo grade dev …`: for whoever writes the lab's exercises.
#[derive(Debug, Subcommand)]
pub enum Dev {
    /// Check that every exercise of info.toml is complete everywhere it shows (crates, grader
    /// checks, book, tables), that every stub is "not started" and every solution gets full
    /// marks; say what is missing and what to do.
    Check {
        /// Check the files only; do not build and grade the stubs and the solutions.
        #[arg(long)]
        static_only: bool,
    },
}

/// The platforms `cargo grade autograder` writes for.
#[derive(Debug, Subcommand)]
pub enum Platform {
    /// Gradescope's autograder zip: setup.sh, run_autograder and the lab
    /// (--output FILE, default autograder.zip).
    Gradescope,
    /// GitHub Classroom's workflow, grading with this checkout's commit of the instructor's
    /// repository (--output FILE, default .github/workflows/classroom.yml).
    Classroom {
        /// The instructor's GitHub repository holding this checkout, as OWNER/NAME.
        #[arg(long, value_name = "OWNER/NAME")]
        repository: String,
    },
}
