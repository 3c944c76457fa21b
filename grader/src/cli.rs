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
    /// Show the hint for an exercise.
    Hint {
        /// The exercise, e.g. `create`.
        name: String,
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
}
