//! The shmlab grader: `cargo grade`.
//!
//! It answers one question per exercise, "does this program do what the spec says?", by
//! running the program and looking at two things: what it printed, and what it left in the
//! kernel (`/proc/sysvipc/shm` and the segments' bytes). A program that prints the right
//! sentence without writing it into the segment fails; so does one that leaks its segment,
//! forgets to wait for its child, or wins a race only by luck.
//!
//! # How a grading run flows
//!
//! 1. [`cli`] parses the command line (clap derive; the doc comments are `--help`).
//! 2. [`app`] picks the exercises ([`info`]: `info.toml`, compiled in) and builds their
//!    programs with one cargo invocation ([`build`]): executables and compiler errors are read
//!    from cargo's JSON messages, so a broken exercise is "did not compile" and the others are
//!    still graded. A submission (`--submission`) is first reduced to its sources by
//!    [`intake`] and built from them alone, in a copy of this lab, inside the build jail
//!    ([`build::jail`]) on a dependency cache shared read-only ([`build::cache`]).
//! 3. [`grade`] turns each [`checks::Test`] into a [`scenario::Scenario`] and hands it to
//!    [`sandbox::run`], which runs it in fresh private IPC and PID namespaces (so the machine's
//!    own segments are never seen nor touched) and returns [`scenario::Observation`]s: exit
//!    status, output, the segments left with their contents, processes left behind. Tests run
//!    in parallel, each exercise's main scenario first; race tests also run under the
//!    schedules of the system-call lens ([`checks::lens`]: what each process did, in order).
//! 4. Each [`checks::Check`] of the test scores the observations: all runs must pass.
//! 5. [`report`] renders the [`report::Report`] for people ([`report::human`]), for scripts
//!    ([`report::json`]) or for Gradescope ([`report::gradescope`]).
//!
//! # Where things are
//!
//! - What "correct" means lives in one place, the table of [`exercises`]: per exercise, its
//!   tests (setup segments, runs, inputs) and its checks (points, name, advice, a Rust function
//!   over an observation). The checks are written with the helpers of [`checks::Run`], which
//!   produce failures that say what was expected, what happened, and what to try next.
//! - The modules form layers, and no module reaches up: [`app`] (with [`cli`]) only wires the
//!   stages, and nothing below it imports from it. What several front ends share lives where
//!   they all can reach it: building ([`build::Target`], [`build::build_programs`]), the exit
//!   statuses and stdout ([`report::exit_status`], [`report::out`]), colour and the progress
//!   line ([`report::human`]).
//! - The sandbox ([`sandbox`], with [`proc_shm`] reading the kernel's table) knows nothing of
//!   exercises: it runs scenarios. The two halves share only the plain data of [`scenario`].
//! - Nothing in grading prints. Grading returns data ([`report::ExerciseResult`]) and reports
//!   progress through a callback, so other front ends reuse [`grade::grade_exercises`] and the
//!   renderers as they are: the student loop ([`student`]: `watch`, `reset`, the progress file
//!   and the first-run welcome) is one.
//! - The broken programs that keep the checks honest live in the `grader-fixtures` package
//!   (grader/fixtures): each is a correct program with one flaw, and the tests in
//!   grader/tests/grading_fixtures.rs assert that exactly the checks about that flaw fail.
//!
//! # A whole class
//!
//! [`batch`] (`cargo grade batch`, `cargo grade merge`) grades a folder of submissions with the
//! same intake, build jail and sandbox, the dependency cache built once for the class, and
//! writes a gradebook and a class report from per-student records.
//!
//! # Reports
//!
//! `--format human` (the default; colour only on a terminal, `NO_COLOR` respected), `json`
//! (schema `shmlab-grader/1`: the fields of [`report::Report`], [`report::ExerciseResult`] and
//! [`report::CheckResult`], times in milliseconds), `gradescope` (Gradescope's `results.json`,
//! one Gradescope test per check). With `--output FILE` the file is rewritten after each
//! exercise, so a crash or a hang late in a run keeps the results before it.
//!
//! # Statuses and exit codes
//!
//! An exercise is `passed` (every check), `failed` (some check; partial credit), `not started`
//! (no points, and the program stopped at the stub's `todo!()`: exit 101 with
//! `not yet implemented`), `did not compile`, or `grader error` (the sandbox could not run a
//! test: not the student's fault). For the student, [`student::progress`] tells a stub as
//! shipped ("not started") from one begun that still stops at a later `todo!()` ("in
//! progress: stopped at the TODO in src/main.rs:LINE"), and carries the compiler's warnings,
//! which are shown and never graded. `cargo grade` exits 0 on full marks, 1 when some check
//! failed, 2 when the grader itself could not run ([`report::exit_status`]).

// Grading is Linux through and through (namespaces, ptrace, /proc/sysvipc/shm): on another
// system the library is empty, and the binary says how to get a Linux (see main.rs).
#![cfg(target_os = "linux")]

pub mod app;
pub mod atomic_write;
pub mod autograder;
pub mod batch;
pub mod build;
pub mod checks;
pub mod cli;
pub mod dev;
pub mod diff;
pub mod exercises;
pub mod grade;
pub mod handout;
pub mod info;
pub mod intake;
pub mod proc_shm;
pub mod report;
pub mod sandbox;
pub mod scaffold;
pub mod scenario;
pub mod student;
