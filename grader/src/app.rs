//! The commands: what `cargo grade` does with its parsed command line.
//!
//! Grading is three steps, each a reusable function: [`crate::build::build_programs`] (cargo),
//! then
//! [`crate::grade::grade_exercises`] (the sandbox and the checks), then
//! [`crate::report::render`]. [`run`] strings them together for the command line, adding
//! the progress line and the incremental `--output` file.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::build::{
    BuiltPrograms, Target, build_programs_with_warnings, build_submission, lab_root,
};
use crate::cli::{Cli, Command, Platform};
use crate::exercises::{self, Exercise};
use crate::grade::{Options, Program, Progress, grade_exercises};
use crate::report::{
    EXIT_FULL_MARKS, EXIT_GRADER_ERROR, ExerciseResult, ExerciseStatus, Format, Report, Source,
    exit_status, human, isolation_of, out, render, write_atomically,
};

/// Runs the command line.
pub fn run(cli: &Cli) -> Result<ExitCode> {
    // The lab author's commands: they work on a lab the grader's table may not match yet.
    if let Some(code) = crate::dev::author_command(cli)? {
        return Ok(code);
    }
    let exercises = exercises::all()?;
    if shows_welcome(cli) {
        welcome();
    }
    match &cli.command {
        Some(Command::Hint { name, level }) => {
            let exercises = crate::student::builtin_exercises()?;
            let (hint, warnings) =
                crate::student::hint::hint_command(&lab_root(), &exercises, name, *level)?;
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
            out(&hint)?;
            Ok(ExitCode::from(EXIT_FULL_MARKS))
        }
        Some(Command::List) => {
            let selected = exercises::select(&exercises, &[])?;
            let report = grade_command(cli, &selected, false)?;
            record_progress(&report);
            out(&crate::student::list::render_graded(&report))?;
            Ok(ExitCode::from(if report.grader_error() {
                EXIT_GRADER_ERROR
            } else {
                EXIT_FULL_MARKS
            }))
        }
        Some(Command::Watch) => {
            if cli.solutions || cli.submission.is_some() {
                bail!(
                    "`cargo grade watch` works on your own exercises/; drop --solutions and --submission"
                );
            }
            watch_command(target_from_cli(cli)?, options_from_cli(cli)?)?;
            Ok(ExitCode::from(EXIT_FULL_MARKS))
        }
        Some(Command::Reset { name, yes }) => {
            let exercises = crate::student::builtin_exercises()?;
            crate::student::reset::reset_command(&lab_root(), &exercises, name, *yes)?;
            Ok(ExitCode::from(EXIT_FULL_MARKS))
        }
        Some(Command::Batch {
            submissions,
            workers,
            out,
            shard,
        }) => crate::batch::batch_command(
            cli,
            options_from_cli(cli)?,
            &crate::batch::BatchArgs {
                submissions: submissions.clone(),
                workers: *workers,
                out: out.clone(),
                shard: *shard,
            },
        ),
        Some(Command::Merge { shards, out }) => crate::batch::merge_command(shards, out),
        Some(Command::Handout { dir }) => {
            let files =
                crate::handout::write_lab(&lab_root(), dir, crate::handout::Audience::Students)?;
            out(&format!(
                "Wrote the handout to {} ({} files): no solutions/, no fixtures, no instructor-only checks.\n\
                 Next: `cd {}`, then `cargo grade` (all not started) and `cargo test --workspace`; push it as the students' template.\n",
                dir.display(),
                files.len(),
                dir.display()
            ))?;
            Ok(ExitCode::from(EXIT_FULL_MARKS))
        }
        Some(Command::New { .. } | Command::Dev { .. }) => unreachable!("handled above"),
        Some(Command::Autograder { platform }) => {
            autograder_command(cli, platform)?;
            Ok(ExitCode::from(EXIT_FULL_MARKS))
        }
        None => {
            let selected = exercises::select(&exercises, &cli.names)?;
            let report = grade_command(cli, &selected, true)?;
            record_progress(&report);
            let text = render(&report, cli.format, human::color_stdout());
            let human_on_stdout = match &cli.output {
                Some(path) => {
                    write_atomically(path, &text)?;
                    out(&human::render(&report, human::color_stdout()))?;
                    true
                }
                None => {
                    out(&text)?;
                    cli.format == Format::Human
                }
            };
            if human_on_stdout && let Some(next) = next_exercise(&exercises, &report) {
                out(&format!(
                    "Next up: read exercises/{}/README.md, then run `cargo grade {}`.\n",
                    next.info.dir,
                    next.name()
                ))?;
            }
            Ok(ExitCode::from(exit_status(&report)))
        }
    }
}

/// `cargo grade autograder PLATFORM`: writes the platform's files to `--output`.
fn autograder_command(cli: &Cli, platform: &Platform) -> Result<()> {
    match platform {
        Platform::Gradescope => {
            let output = cli
                .output
                .clone()
                .unwrap_or_else(|| "autograder.zip".into());
            let files = crate::autograder::write_gradescope_bundle(&lab_root(), &output)?;
            out(&format!(
                "Wrote {} ({files} files: setup.sh, run_autograder, shmlab/).\n\
                 Next: upload it as the autograder of a Gradescope programming assignment.\n",
                output.display()
            ))
        }
        Platform::Classroom { repository } => {
            let output = cli
                .output
                .clone()
                .unwrap_or_else(|| PathBuf::from(".github/workflows/classroom.yml"));
            let workflow = crate::autograder::classroom_workflow(&lab_root(), repository)?;
            if let Some(parent) = output
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("Failed to create {}", parent.display()))?;
            }
            write_atomically(&output, &workflow)?;
            out(&format!(
                "Wrote {}.\n\
                 Next: commit it in the handout's repository, and add a read-only token for {repository} as its secret SHMLAB_GRADER_TOKEN.\n",
                output.display()
            ))
        }
    }
}

/// When everything graded passed, the first exercise of the lab that this run did not grade
/// and that comes after the graded ones: where a student goes once `cargo grade NAME` passes.
fn next_exercise<'a>(exercises: &'a [Exercise], report: &Report) -> Option<&'a Exercise> {
    if !report.full_marks() || report.source != Source::Exercises {
        return None;
    }
    let graded = |exercise: &Exercise| {
        report
            .exercises
            .iter()
            .any(|result| result.name == exercise.name())
    };
    let last_graded = exercises.iter().rposition(&graded)?;
    exercises[last_graded + 1..]
        .iter()
        .find(|exercise| !graded(exercise))
}

/// The first-run welcome goes to a student looking at their own checkout in a terminal; never
/// into a report file, a pipe, or runs on solutions or someone else's submission. `watch`
/// shows it itself.
fn shows_welcome(cli: &Cli) -> bool {
    !cli.solutions
        && cli.submission.is_none()
        && cli.format == Format::Human
        && !matches!(
            cli.command,
            Some(
                Command::Watch
                    | Command::Reset { .. }
                    | Command::Hint { .. }
                    | Command::Batch { .. }
                    | Command::Merge { .. }
                    | Command::Handout { .. }
                    | Command::Autograder { .. }
            )
        )
        && std::io::stdout().is_terminal()
}

fn welcome() {
    let shown = crate::student::builtin_exercises().and_then(|exercises| {
        crate::student::welcome::welcome_if_first_run(&lab_root(), &exercises)
    });
    match shown {
        Ok((welcome, warning)) => {
            if let Some(warning) = warning {
                eprintln!("warning: {warning}");
            }
            if let Some(welcome) = welcome {
                // Best effort, like the rest of the welcome.
                let _ = out(&format!("{welcome}\n"));
            }
        }
        // The welcome is a courtesy: grading goes on without it.
        Err(error) => eprintln!("warning: {error:#}"),
    }
}

/// Records what passed in the student's progress file (their own exercises/ only), so that
/// `watch` and the progress bar agree with one-off grading. A failure is only a warning.
fn record_progress(report: &Report) {
    if report.source != Source::Exercises {
        return;
    }
    let results = report
        .exercises
        .iter()
        .filter(|exercise| exercise.status != ExerciseStatus::Error)
        .map(|exercise| {
            (
                exercise.name.as_str(),
                exercise.status == ExerciseStatus::Passed,
            )
        });
    match crate::student::record_results(&lab_root(), results) {
        Ok(None) => {}
        Ok(Some(warning)) => eprintln!("warning: {warning}"),
        Err(error) => eprintln!("warning: could not save your progress: {error:#}"),
    }
}

/// The grading options the command line asks for.
pub fn options_from_cli(cli: &Cli) -> Result<Options> {
    let exe = std::env::current_exe().context("Failed to find the grader's own executable")?;
    let mut options = Options::new(exe);
    options.repeat = cli.repeat;
    if !(cli.timeout > 0.0 && cli.timeout.is_finite()) {
        bail!(
            "--timeout must be a positive number of seconds, not {}",
            cli.timeout
        );
    }
    options.timeout = std::time::Duration::from_secs_f64(cli.timeout);
    if let Some(jobs) = cli.jobs {
        options.jobs = jobs.max(1);
    }
    if cli.submission.is_some() && !cli.unsafe_host {
        // Someone else's code: a sandbox tier or nothing.
        options.tier = crate::sandbox::Tier::Sandboxed;
    }
    Ok(options)
}

/// Builds and grades `exercises` as the command line says, with progress on stderr and the
/// `--output` file rewritten after each exercise when `write_output`.
pub fn grade_command(cli: &Cli, exercises: &[&Exercise], write_output: bool) -> Result<Report> {
    let target = target_from_cli(cli)?;
    let options = options_from_cli(cli)?;
    if options.tier == crate::sandbox::Tier::Sandboxed {
        crate::sandbox::require_sandbox(&options.sandbox_exe)?;
    }
    let show_progress = std::io::stderr().is_terminal();
    if show_progress {
        human::progress_line(&format!("building {} program(s)…", exercises.len()));
    }
    let (built, submission, _keep_built) = match target.source {
        Source::Submission => {
            let built = build_submission(&target.root, exercises, &options.sandbox_exe)?;
            let programs = BuiltPrograms {
                programs: built.programs,
                build_time: built.build_time,
                warnings: built.warnings,
            };
            (programs, Some(built.intake), Some(built.cargo))
        }
        _ => (
            build_programs_with_warnings(&target, exercises)?,
            None,
            None,
        ),
    };
    let BuiltPrograms {
        programs,
        build_time,
        warnings,
    } = built;

    let mut report = Report {
        source: target.source,
        root: target.root.display().to_string(),
        exercises: Vec::new(),
        build_time,
        grade_time: std::time::Duration::ZERO,
        isolation: None,
        submission,
    };
    let work: Vec<(&Exercise, Program)> = exercises.iter().copied().zip(programs).collect();
    let started = Instant::now();
    let mut finished: Vec<Option<ExerciseResult>> = vec![None; work.len()];
    let mut output_error = None;
    let results = grade_exercises(&options, &work, |progress| match progress {
        Progress::Started { index, total, name } => {
            if show_progress {
                human::progress_line(&format!("grading {index}/{total} {name}…"));
            }
        }
        Progress::Finished { result, .. } => {
            if let Some(slot) = work
                .iter()
                .position(|(exercise, _)| exercise.name() == result.name)
            {
                finished[slot] = Some(result.clone());
            }
            if let (true, Some(path)) = (write_output, &cli.output) {
                let mut partial = report.clone();
                partial.exercises = finished.iter().flatten().cloned().collect();
                partial.grade_time = started.elapsed();
                partial.isolation = isolation_of(&partial.exercises);
                if let Err(error) = write_atomically(path, &render(&partial, cli.format, false)) {
                    output_error.get_or_insert(error);
                }
            }
        }
    });
    if show_progress {
        human::progress_line("");
    }
    if let Some(error) = output_error {
        return Err(error);
    }
    report.grade_time = started.elapsed();
    report.isolation = isolation_of(&results);
    report.exercises = results;
    crate::student::progress::annotate_for_student(&target, &mut report.exercises, &warnings);
    Ok(report)
}

/// `cargo grade watch`, wired to the real grader: grades the student's `exercises/` in the
/// checkout of `target` (the caller rejects `--solutions` and `--submission`, which make no
/// sense in a loop over the student's own files).
fn watch_command(target: Target, options: Options) -> Result<()> {
    let exercises = crate::student::builtin_exercises()?;
    let root = target.root.clone();
    let mut lab = crate::student::lab::GraderLab::new(target, options, human::color_stdout())?;
    crate::student::watch::run_watch(&mut lab, &exercises, &root)
}

/// What the command line grades: for `--submission PATH`, `root` is PATH (a folder or an
/// archive): it is read by [`build_submission`], never built where it is.
pub fn target_from_cli(cli: &Cli) -> Result<Target> {
    if let Some(path) = &cli.submission {
        let root = path
            .canonicalize()
            .with_context(|| format!("Failed to find the submission {}", path.display()))?;
        return Ok(Target {
            source: Source::Submission,
            root,
            target_dir: None,
        });
    }
    let source = if cli.solutions {
        Source::Solutions
    } else {
        Source::Exercises
    };
    Ok(Target {
        source,
        root: lab_root(),
        target_dir: None,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn report_of(names: &[&str], status: ExerciseStatus) -> Report {
        let exercises = names
            .iter()
            .map(|name| ExerciseResult {
                name: name.to_string(),
                dir: String::new(),
                status,
                points: 1.0,
                max: 1.0,
                message: String::new(),
                compiler_output: None,
                checks: Vec::new(),
                isolation: None,
                time: Duration::ZERO,
            })
            .collect();
        Report {
            source: Source::Exercises,
            root: String::new(),
            exercises,
            build_time: Duration::ZERO,
            grade_time: Duration::ZERO,
            isolation: None,
            submission: None,
        }
    }

    #[test]
    fn after_a_pass_the_next_exercise_is_suggested() {
        let lab = exercises::all().expect("the table");
        let next = |report: &Report| next_exercise(&lab, report).map(Exercise::name);
        assert_eq!(
            next(&report_of(&["create"], ExerciseStatus::Passed)),
            Some("attach")
        );
        assert_eq!(
            next(&report_of(&["create", "attach"], ExerciseStatus::Passed)),
            Some("parent-child")
        );
        let last = lab.last().expect("some exercise").name();
        assert_eq!(
            next(&report_of(&[last], ExerciseStatus::Passed)),
            None,
            "the last one"
        );
        assert_eq!(
            next(&report_of(&["create"], ExerciseStatus::Failed)),
            None,
            "fix this one first"
        );
        let mut solutions = report_of(&["create"], ExerciseStatus::Passed);
        solutions.source = Source::Solutions;
        assert_eq!(
            next(&solutions),
            None,
            "only for the student's own exercises"
        );
    }
}
