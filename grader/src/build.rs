//! Building the programs to grade, with cargo.
//!
//! One `cargo build --keep-going --message-format=json` builds every chosen package; the JSON
//! messages say where each executable is (`compiler-artifact`) and which package each compiler
//! error belongs to (`compiler-message`), so one broken exercise does not stop the others from
//! being graded. Only when cargo fails before compiling anything it can attribute (a package
//! missing from a submission, a broken manifest) are the remaining packages built one by one,
//! each failure then reported against its own package. When the last build's stamp shows that
//! nothing changed since, cargo is not asked at all ([`fresh`]).
//!
//! The exercises whose checks read the compiled code (the ring's orderings) are also compiled to
//! LLVM IR, by a second cargo invocation: see [`compiled`].

pub mod cache;
pub mod compiled;
pub mod fresh;
pub mod jail;
pub mod jailed;
pub mod programs;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

pub use programs::{
    BuiltPrograms, SubmissionBuild, Target, build_programs, build_programs_with_warnings,
    build_submission, build_submission_on,
};

/// What building one package gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Built {
    /// The executable to run.
    Binary(PathBuf),
    /// The compiler's (or cargo's) messages, as cargo renders them.
    DidNotCompile(String),
}

/// Every package asked for, by name, and how long cargo took.
#[derive(Clone, Debug)]
pub struct Builds {
    pub packages: BTreeMap<String, Built>,
    pub duration: Duration,
    /// The compiler's warnings in each package's own code, one short line each
    /// (`src/main.rs:12: unused variable: `x``): shown to the student, never graded. Cargo
    /// replays a fresh package's cached warnings, so they show on every run, not only the
    /// first after an edit.
    pub warnings: BTreeMap<String, Vec<String>>,
}

/// Where and what to build.
#[derive(Clone, Debug)]
pub struct BuildRequest {
    /// The workspace root (the folder with the `Cargo.toml` listing the packages).
    pub workspace: PathBuf,
    /// `--target-dir`, or cargo's default for the workspace.
    pub target_dir: Option<PathBuf>,
    /// Package names; each has a binary of the same name.
    pub packages: Vec<String>,
    /// Build in the jail (a submission: `workspace` and `target_dir` are then unused), or
    /// `None` to run cargo directly (the grader's own lab).
    pub jail: Option<jailed::JailedCargo>,
}

/// Builds the packages. Errs when cargo cannot be started, or when a dependency of the
/// exercises (not an exercise) does not compile.
pub fn build(request: &BuildRequest) -> Result<Builds> {
    let started = Instant::now();
    let mut packages = BTreeMap::new();
    if request.packages.is_empty() {
        return Ok(Builds {
            packages,
            duration: started.elapsed(),
            warnings: BTreeMap::new(),
        });
    }
    // Nothing to build, as far as the last build's stamp shows: cargo is not asked again. The
    // IR of the inspected exercises is made if missing (a build from before it was needed);
    // otherwise it is current and this costs two `stat`s.
    if let Some(builds) = fresh::up_to_date(request) {
        compiled::emit_for(request, &builds.packages)?;
        return Ok(builds);
    }
    let cargo_started = std::time::SystemTime::now();
    // The exercises whose checks read their compiled code (the ring) are compiled by
    // `cargo rustc`, which writes the LLVM IR in the same compile as the executable; the others
    // together, by one `cargo build` ([`compiled`]).
    let (inspected, plain): (Vec<String>, Vec<String>) = request
        .packages
        .iter()
        .cloned()
        .partition(|package| compiled::inspected(package));
    let mut together = run_cargo(request, &plain)?;
    for package in &inspected {
        let alone = cargo_run(request, compiled::build_args(package))?;
        together.absorb(alone);
    }
    // A crate the exercises depend on (the lab's `sysv`) that does not compile is not an
    // exercise's failure: nothing can be graded, and the student's code is not to blame.
    if let Some((dependency, messages)) = together
        .errors
        .iter()
        .find(|(name, _)| !request.packages.contains(name))
    {
        bail!(
            "{dependency}, which the exercises depend on, does not compile, so nothing can be \
             graded (in {}):\n{}",
            request.workspace.display(),
            messages.trim_end()
        );
    }
    let mut unexplained = Vec::new();
    for package in &request.packages {
        match together.outcome(package) {
            Some(built) => {
                packages.insert(package.clone(), built);
            }
            None => unexplained.push(package.clone()),
        }
    }
    // Cargo stopped before it could say anything about these: build each alone, so that the
    // error (often "no such package") lands on the package that caused it.
    for package in unexplained {
        let alone = run_cargo(request, std::slice::from_ref(&package))?;
        let built = alone
            .outcome(&package)
            .unwrap_or_else(|| Built::DidNotCompile(alone.cargo_stderr.trim().to_string()));
        packages.insert(package, built);
    }
    for (package, built) in &packages {
        if let Built::Binary(executable) = built
            && inspected.contains(package)
        {
            compiled::adopt_ir(executable)?;
        }
    }
    // Those that cargo built some other way (one by one, above) get their IR now.
    compiled::emit_for(request, &packages)?;
    let warnings = together
        .warnings
        .into_iter()
        .filter(|(package, _)| request.packages.contains(package))
        .collect();
    let builds = Builds {
        packages,
        duration: started.elapsed(),
        warnings,
    };
    // Best effort: without a stamp, the next build asks cargo.
    let _ = fresh::record(request, cargo_started, &builds);
    Ok(builds)
}

/// What one cargo invocation reported (or several, [`CargoRun::absorb`]ed).
struct CargoRun {
    executables: BTreeMap<String, PathBuf>,
    errors: BTreeMap<String, String>,
    warnings: BTreeMap<String, Vec<String>>,
    success: bool,
    cargo_stderr: String,
}

impl Default for CargoRun {
    /// No invocation: nothing built, nothing failed.
    fn default() -> CargoRun {
        CargoRun {
            executables: BTreeMap::new(),
            errors: BTreeMap::new(),
            warnings: BTreeMap::new(),
            success: true,
            cargo_stderr: String::new(),
        }
    }
}

impl CargoRun {
    /// Adds what another invocation, of other packages, reported.
    fn absorb(&mut self, other: CargoRun) {
        self.executables.extend(other.executables);
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.success &= other.success;
        self.cargo_stderr.push_str(&other.cargo_stderr);
    }

    fn outcome(&self, package: &str) -> Option<Built> {
        if let Some(path) = self.executables.get(package) {
            return Some(Built::Binary(path.clone()));
        }
        if let Some(errors) = self.errors.get(package) {
            return Some(Built::DidNotCompile(errors.trim_end().to_string()));
        }
        if self.success {
            return Some(Built::DidNotCompile(format!(
                "cargo built package {package} but reported no executable named {package}"
            )));
        }
        None
    }
}

/// Trims the Cargo.lock of the lab in `lab` to the packages it has: `cargo metadata
/// --offline` drops the others and keeps every remaining version as locked, so that the lab's
/// first build (a student's, or one in the build jail) leaves the file as written. `cargo` is
/// the command to run (with its environment).
pub fn trim_lockfile(mut cargo: Command, lab: &Path) -> Result<()> {
    let output = cargo
        .args([
            "metadata",
            "--offline",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(lab.join("Cargo.toml"))
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "Failed to run `cargo metadata` on the lab in {} (is cargo on PATH?)",
                lab.display()
            )
        })?;
    if !output.status.success() {
        bail!(
            "cargo cannot read the lab written in {}: {}",
            lab.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The cargo to run: the one that runs us under `cargo run` (hence `cargo grade`), else PATH's.
pub fn cargo_command() -> Command {
    Command::new(cargo())
}

fn cargo() -> OsString {
    // Under `cargo run` (hence `cargo grade`) CARGO names the cargo that runs us.
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// `cargo build` of `packages` (nothing to do for none: cargo would build the default members).
fn run_cargo(request: &BuildRequest, packages: &[String]) -> Result<CargoRun> {
    if packages.is_empty() {
        return Ok(CargoRun::default());
    }
    let mut args: Vec<String> = ["build", "--message-format=json", "--keep-going"]
        .map(String::from)
        .to_vec();
    for package in packages {
        args.extend(["--package".to_string(), package.clone()]);
    }
    cargo_run(request, args)
}

/// Runs cargo with `args` (which ask for `--message-format=json`) and reads what it built,
/// and the errors and warnings of each package.
fn cargo_run(request: &BuildRequest, args: Vec<String>) -> Result<CargoRun> {
    let output = cargo_output(request, args)?;
    let mut run = CargoRun {
        executables: BTreeMap::new(),
        errors: BTreeMap::new(),
        warnings: BTreeMap::new(),
        success: output.status.success(),
        cargo_stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        // Lines that are not cargo's JSON (a build script's output) are not ours to read.
        let Ok(message) = serde_json::from_str::<Message>(line) else {
            continue;
        };
        let Some(target) = message.target else {
            continue;
        };
        match message.reason.as_str() {
            "compiler-artifact" if target.kind.iter().any(|kind| kind == "bin") => {
                if let Some(executable) = message.executable {
                    let executable = match &request.jail {
                        Some(jailed) => jailed.outside(&executable),
                        None => executable,
                    };
                    run.executables.insert(target.name, executable);
                }
            }
            "compiler-message" => {
                let Some(diagnostic) = message.message else {
                    continue;
                };
                if diagnostic.level == "error" || diagnostic.level.starts_with("error:") {
                    let errors = run.errors.entry(target.name).or_default();
                    errors.push_str(
                        diagnostic
                            .rendered
                            .as_deref()
                            .unwrap_or(&diagnostic.message),
                    );
                    if !errors.ends_with('\n') {
                        errors.push('\n');
                    }
                } else if diagnostic.level == "warning"
                    && let Some(warning) = diagnostic.short()
                {
                    run.warnings.entry(target.name).or_default().push(warning);
                }
            }
            _ => {}
        }
    }
    Ok(run)
}

/// Runs cargo with `args` on the request's workspace: in the jail for a submission.
fn cargo_output(request: &BuildRequest, args: Vec<String>) -> Result<std::process::Output> {
    match &request.jail {
        Some(jailed) => jailed.cargo(args),
        None => {
            // Cargo's own options go before a `--` (after it, they would be the compiler's).
            let end = args
                .iter()
                .position(|arg| arg == "--")
                .unwrap_or(args.len());
            let mut command = Command::new(cargo());
            command
                .args(&args[..end])
                .arg("--manifest-path")
                .arg(request.workspace.join("Cargo.toml"))
                .current_dir(&request.workspace)
                .stdin(Stdio::null());
            if let Some(target_dir) = &request.target_dir {
                command.arg("--target-dir").arg(target_dir);
            }
            command.args(&args[end..]);
            command.output().with_context(|| {
                format!(
                    "Failed to run `{}` (is cargo installed?)",
                    cargo().to_string_lossy()
                )
            })
        }
    }
}

/// The parts of cargo's JSON messages used here (`cargo help build`, "JSON messages").
#[derive(Deserialize)]
struct Message {
    reason: String,
    target: Option<MessageTarget>,
    executable: Option<PathBuf>,
    message: Option<Diagnostic>,
}

#[derive(Deserialize)]
struct MessageTarget {
    name: String,
    kind: Vec<String>,
}

#[derive(Deserialize)]
struct Diagnostic {
    level: String,
    message: String,
    rendered: Option<String>,
    #[serde(default)]
    spans: Vec<Span>,
}

#[derive(Deserialize)]
struct Span {
    file_name: String,
    line_start: u64,
    is_primary: bool,
}

impl Diagnostic {
    /// `src/main.rs:12: unused variable: `x``, or `None` for a summary without a place ("1
    /// warning emitted").
    fn short(&self) -> Option<String> {
        let span = self.spans.iter().find(|span| span.is_primary)?;
        // Paths are relative to the workspace (`exercises/01-create/src/main.rs`): keep the
        // part the student knows from the package folder.
        let file = span
            .file_name
            .find("src/")
            .map_or(span.file_name.as_str(), |start| &span.file_name[start..]);
        Some(format!("{file}:{}: {}", span.line_start, self.message))
    }
}

/// The root of the checkout this grader was built in (the folder with info.toml, exercises/
/// and solutions/): what `cargo grade` grades unless given `--submission`.
pub fn lab_root() -> PathBuf {
    // The grader belongs to the checkout it was built in: its manifest's parent is the root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
