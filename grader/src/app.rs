//! The commands: what `cargo grade` does with its parsed command line.
//!
//! Grading is three steps, each a reusable function: [`build_programs`] (cargo), then
//! [`crate::grade::grade_exercises`] (the sandbox and the checks), then
//! [`crate::report::render`]. [`run`] strings them together for the command line, adding
//! the progress line and the incremental `--output` file.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::build::{BuildRequest, Built, build, lab_root};
use crate::cli::{Cli, Command};
use crate::exercises::{self, Exercise};
use crate::grade::{Options, Program, Progress, grade_exercises};
use crate::report::{
    ExerciseResult, ExerciseStatus, Format, Report, Source, human, render, write_atomically,
};

/// Exit status: every graded exercise passed.
pub const EXIT_FULL_MARKS: u8 = 0;
/// Exit status: some check failed (or an exercise did not compile, or is not started).
pub const EXIT_CHECKS_FAILED: u8 = 1;
/// Exit status: the grader could not do its job (usage, cargo, sandbox).
pub const EXIT_GRADER_ERROR: u8 = 2;

/// Runs the command line.
pub fn run(cli: &Cli) -> Result<ExitCode> {
    let exercises = exercises::all()?;
    if shows_welcome(cli) {
        welcome();
    }
    match &cli.command {
        Some(Command::Hint { name }) => {
            let exercise = exercises::select(&exercises, std::slice::from_ref(name))?.remove(0);
            out(&format!(
                "Hint for {} (exercises/{}/README.md has the whole task):\n\n{}\n",
                exercise.name(),
                exercise.info.dir,
                exercise.info.hint.trim()
            ))?;
            Ok(ExitCode::from(EXIT_FULL_MARKS))
        }
        Some(Command::List) => {
            let selected = exercises::select(&exercises, &[])?;
            let report = grade_command(cli, &selected, false)?;
            record_progress(&report);
            out(&render_list(&report))?;
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
            crate::student::watch_command(Target::from_cli(cli)?, options_from_cli(cli)?)?;
            Ok(ExitCode::from(EXIT_FULL_MARKS))
        }
        Some(Command::Reset { name, yes }) => {
            let exercises = crate::student::builtin_exercises()?;
            crate::student::reset::reset_command(&lab_root(), &exercises, name, *yes)?;
            Ok(ExitCode::from(EXIT_FULL_MARKS))
        }
        None => {
            let selected = exercises::select(&exercises, &cli.names)?;
            let report = grade_command(cli, &selected, true)?;
            record_progress(&report);
            let text = render(&report, cli.format, color_stdout());
            let human_on_stdout = match &cli.output {
                Some(path) => {
                    write_atomically(path, &text)?;
                    out(&human::render(&report, color_stdout()))?;
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
            Some(Command::Watch | Command::Reset { .. } | Command::Hint { .. })
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
    Ok(options)
}

/// Writes to stdout. A reader that went away (`cargo grade | head`) is not an error: what it
/// wanted was written.
fn out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("Failed to write the report to stdout")
        }
        _ => Ok(()),
    }
}

/// 0, 1 or 2, as documented in `--help`.
pub fn exit_status(report: &Report) -> u8 {
    if report.grader_error() {
        EXIT_GRADER_ERROR
    } else if report.full_marks() {
        EXIT_FULL_MARKS
    } else {
        EXIT_CHECKS_FAILED
    }
}

/// What to grade: whose checkout, which folder, and where cargo builds it.
#[derive(Clone, Debug)]
pub struct Target {
    pub source: Source,
    /// The workspace root holding `exercises/` (or `solutions/`).
    pub root: PathBuf,
    pub target_dir: Option<PathBuf>,
}

impl Target {
    /// For `--submission PATH`, `root` is PATH (a folder or an archive): it is read by
    /// [`build_submission`], never built where it is.
    pub fn from_cli(cli: &Cli) -> Result<Target> {
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

    /// The package holding `exercise` here.
    pub fn package(&self, exercise: &Exercise) -> String {
        exercise.info.package(self.source == Source::Solutions)
    }
}

/// Builds the programs of `exercises` in `target`, in one cargo run. Not for a submission,
/// which is built from its sources alone by [`build_submission`].
pub fn build_programs(
    target: &Target,
    exercises: &[&Exercise],
) -> Result<(Vec<Program>, std::time::Duration)> {
    if target.source == Source::Submission {
        bail!("a submission is built from its sources by app::build_submission, not in place");
    }
    let packages: Vec<String> = exercises
        .iter()
        .map(|exercise| target.package(exercise))
        .collect();
    let request = BuildRequest {
        workspace: target.root.clone(),
        target_dir: target.target_dir.clone(),
        packages,
        jail: None,
    };
    programs_of(&request)
}

/// A submission, built: its programs, and the intake's summary. The programs live in a
/// scratch folder of the grader's that goes away with this value.
pub struct SubmissionBuild {
    pub programs: Vec<Program>,
    pub build_time: std::time::Duration,
    pub intake: crate::report::Intake,
    /// Keeps the build's folder (the programs) until grading is done.
    pub cargo: crate::build::jailed::JailedCargo,
}

/// Reads the submission at `path` ([`crate::intake`]: its sources only), and builds the
/// programs of `exercises` from them in the build jail, on the shared dependency cache
/// (built first if needed). `helper_exe` is the grader binary, which runs the jail.
pub fn build_submission(
    path: &std::path::Path,
    exercises: &[&Exercise],
    helper_exe: &std::path::Path,
) -> Result<SubmissionBuild> {
    let submission = crate::intake::read(path)?;
    let started = Instant::now();
    let cache = crate::build::cache::DependencyCache::prepare(&lab_root(), helper_exe)?;
    let mut built = build_submission_on(&cache, submission, exercises, helper_exe)?;
    // The first submission's build time includes building the cache.
    built.build_time = started.elapsed();
    Ok(built)
}

/// [`build_submission`] of a submission already read, on a cache already prepared: for
/// grading many submissions (prepare the cache once, build them side by side).
pub fn build_submission_on(
    cache: &crate::build::cache::DependencyCache,
    submission: crate::intake::Submission,
    exercises: &[&Exercise],
    helper_exe: &std::path::Path,
) -> Result<SubmissionBuild> {
    let started = Instant::now();
    let cargo =
        crate::build::jailed::JailedCargo::new(helper_exe, cache.clone(), &submission.sources)?;
    let request = BuildRequest {
        workspace: crate::build::jailed::JailedCargo::workspace(),
        target_dir: None,
        packages: exercises
            .iter()
            .map(|exercise| exercise.info.package(false))
            .collect(),
        jail: Some(cargo.clone()),
    };
    let (mut programs, _) = programs_of(&request)?;
    for program in &mut programs {
        if let Program::DidNotCompile(messages) = program {
            crate::build::jailed::explain_missing_files(messages);
        }
    }
    Ok(SubmissionBuild {
        programs,
        build_time: started.elapsed(),
        intake: crate::report::Intake {
            ignored: submission.ignored,
            // Only those graded now.
            missing: submission
                .missing
                .into_iter()
                .filter(|name| exercises.iter().any(|exercise| exercise.name() == name))
                .collect(),
        },
        cargo,
    })
}

fn programs_of(request: &BuildRequest) -> Result<(Vec<Program>, std::time::Duration)> {
    let builds = build(request)?;
    let programs = request
        .packages
        .iter()
        .map(|package| match builds.packages.get(package) {
            Some(Built::Binary(path)) => Program::Binary(path.clone()),
            Some(Built::DidNotCompile(messages)) => Program::DidNotCompile(messages.clone()),
            None => Program::DidNotCompile(format!("cargo said nothing about package {package}")),
        })
        .collect();
    Ok((programs, builds.duration))
}

/// Builds and grades `exercises` as the command line says, with progress on stderr and the
/// `--output` file rewritten after each exercise when `write_output`.
pub fn grade_command(cli: &Cli, exercises: &[&Exercise], write_output: bool) -> Result<Report> {
    let target = Target::from_cli(cli)?;
    let options = options_from_cli(cli)?;
    let show_progress = std::io::stderr().is_terminal();
    if show_progress {
        eprint!("building {} program(s)…\r", exercises.len());
    }
    let (programs, build_time, submission, _keep_built) = match target.source {
        Source::Submission => {
            let built = build_submission(&target.root, exercises, &options.sandbox_exe)?;
            (
                built.programs,
                built.build_time,
                Some(built.intake),
                Some(built.cargo),
            )
        }
        _ => {
            let (programs, build_time) = build_programs(&target, exercises)?;
            (programs, build_time, None, None)
        }
    };

    let mut report = Report {
        source: target.source,
        root: target.root.display().to_string(),
        exercises: Vec::new(),
        build_time,
        grade_time: std::time::Duration::ZERO,
        isolation: "none".to_string(),
        submission,
    };
    let work: Vec<(&Exercise, Program)> = exercises.iter().copied().zip(programs).collect();
    let started = Instant::now();
    let mut finished: Vec<Option<ExerciseResult>> = vec![None; work.len()];
    let mut output_error = None;
    let results = grade_exercises(&options, &work, |progress| match progress {
        Progress::Started { index, total, name } => {
            if show_progress {
                eprint!("\x1b[2Kgrading {index}/{total} {name}…\r");
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
        eprint!("\x1b[2K");
    }
    if let Some(error) = output_error {
        return Err(error);
    }
    report.grade_time = started.elapsed();
    report.isolation = isolation_of(&results);
    report.exercises = results;
    Ok(report)
}

fn isolation_of(results: &[ExerciseResult]) -> String {
    let mut kinds: Vec<&str> = results
        .iter()
        .filter_map(|result| result.isolation.as_deref())
        .collect();
    kinds.sort();
    kinds.dedup();
    match kinds.as_slice() {
        [] => "none".to_string(),
        [one] => one.to_string(),
        _ if kinds.iter().any(|kind| kind.starts_with("host")) => "host".to_string(),
        _ => kinds.join(", "),
    }
}

/// `cargo grade list`: number, name, state, points.
pub fn render_list(report: &Report) -> String {
    let width = report
        .exercises
        .iter()
        .map(|exercise| exercise.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut text = format!("   #  {:<width$}  {:<15}  points\n", "exercise", "state");
    for (index, exercise) in report.exercises.iter().enumerate() {
        let state = match exercise.status {
            ExerciseStatus::Passed => "done",
            ExerciseStatus::Failed => "in progress",
            other => other.label(),
        };
        text.push_str(&format!(
            "  {:>2}  {:<width$}  {state:<15}  {:>3}/{}\n",
            index + 1,
            exercise.name,
            human::number(exercise.points),
            human::number(exercise.max)
        ));
    }
    text.push_str(&format!(
        "\nScore: {}/{}\n",
        human::number(report.score()),
        human::number(report.max_score())
    ));
    text
}

/// Colour on stdout: a terminal, and `NO_COLOR` unset or empty (no-color.org).
pub fn color_stdout() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
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
            isolation: "namespaces".to_string(),
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
