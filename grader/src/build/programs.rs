//! The lab's programs, built: what to grade ([`Target`]) and its programs, one per exercise.
//!
//! [`build`] runs cargo over packages; this module speaks in exercises. It turns
//! a checkout and a list of exercises into [`Program`]s for [`crate::grade`]: in place for the
//! lab's own `exercises/` or `solutions/` ([`build_programs`]), or from a submission's sources
//! alone in the build jail ([`build_submission`]). It lives here, below the command line, so
//! that every front end (`cargo grade`, the watch loop, batch grading) builds the same way
//! without reaching back up into the command line.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};

use super::{BuildRequest, Built, build, lab_root};
use crate::exercises::Exercise;
use crate::grade::Program;
use crate::report::Source;

/// What to grade: whose checkout, which folder, and where cargo builds it.
#[derive(Clone, Debug)]
pub struct Target {
    pub source: Source,
    /// The workspace root holding `exercises/` (or `solutions/`).
    pub root: PathBuf,
    pub target_dir: Option<PathBuf>,
}

impl Target {
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
    let built = build_programs_with_warnings(target, exercises)?;
    Ok((built.programs, built.build_time))
}

/// What [`build_programs_with_warnings`] built.
pub struct BuiltPrograms {
    /// One per exercise, in order.
    pub programs: Vec<Program>,
    pub build_time: std::time::Duration,
    /// The compiler's warnings, by exercise name (see [`crate::build::Builds::warnings`]).
    pub warnings: std::collections::BTreeMap<String, Vec<String>>,
}

/// [`build_programs`], also keeping the compiler's warnings for the student to see.
pub fn build_programs_with_warnings(
    target: &Target,
    exercises: &[&Exercise],
) -> Result<BuiltPrograms> {
    if target.source == Source::Submission {
        bail!("a submission is built from its sources by build_submission, not in place");
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
    programs_of(&request, exercises)
}

/// A submission, built: its programs, and the intake's summary. The programs live in a
/// scratch folder of the grader's that goes away with this value.
pub struct SubmissionBuild {
    pub programs: Vec<Program>,
    pub build_time: std::time::Duration,
    pub intake: crate::report::Intake,
    /// Keeps the build's folder (the programs) until grading is done.
    pub cargo: crate::build::jailed::JailedCargo,
    /// The compiler's warnings, by exercise name.
    pub warnings: std::collections::BTreeMap<String, Vec<String>>,
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
    let BuiltPrograms {
        mut programs,
        warnings,
        ..
    } = programs_of(&request, exercises)?;
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
        warnings,
    })
}

/// The outcome of one cargo run, one [`Program`] per package of `request` (in order).
fn programs_of(request: &BuildRequest, exercises: &[&Exercise]) -> Result<BuiltPrograms> {
    let mut builds = build(request)?;
    let programs = request
        .packages
        .iter()
        .map(|package| match builds.packages.get(package) {
            Some(Built::Binary(path)) => Program::Binary(path.clone()),
            Some(Built::DidNotCompile(messages)) => Program::DidNotCompile(messages.clone()),
            None => Program::DidNotCompile(format!("cargo said nothing about package {package}")),
        })
        .collect();
    let warnings = exercises
        .iter()
        .zip(&request.packages)
        .filter_map(|(exercise, package)| {
            let found = builds.warnings.remove(package)?;
            Some((exercise.name().to_owned(), found))
        })
        .collect();
    Ok(BuiltPrograms {
        programs,
        build_time: builds.duration,
        warnings,
    })
}
