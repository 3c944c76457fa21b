//! Knowing that the lab's programs are up to date without asking cargo again.
//!
//! `cargo grade` is `cargo run`, which has just made sure the grader is up to date; the grader
//! then asks cargo about the exercises, and cargo spends about 80 ms (100 ms of CPU) loading
//! the workspace, its lock file and the index entries of its 240 packages, only to find, in
//! almost every run, nothing to build. So after a build, a stamp records per program the
//! executable, the compiler's warnings (shown on every run, as cargo replays them) and the
//! moment *before* cargo started, so that a file saved during the build counts as newer. A
//! later build skips cargo only when, for every program asked for:
//!
//! - every file of cargo's dep-info for the executable (`target/debug/NAME.d`: the package's
//!   sources and those of the crates it uses, as cargo lists them for other build systems), and
//!   every `Cargo.toml`, `build.rs`, `.cargo/config.toml` and `rust-toolchain(.toml)` in the
//!   folders from those files up to the workspace root, and `Cargo.lock`, is older than that
//!   moment by more than [`MARGIN`] (file systems with coarse timestamps), and they are the
//!   same files as then (none added, none gone);
//! - the grader's own executable is older too: what makes cargo rebuild everything (a new
//!   compiler, `RUSTFLAGS`, a changed profile, a `.cargo/config.toml` anywhere) makes
//!   `cargo run` rebuild the grader first;
//! - the environment variables that change a build (`RUSTFLAGS`, `CARGO_*`...) are the same;
//! - the executable is still there, and the package built (a compiler error is always asked
//!   of cargo again).
//!
//! For the lab's own crates cargo decides freshness the same way (a source's modification
//! time against the start of the build that read it), so the stamp trusts nothing cargo
//! would not. In any doubt (no stamp, a file that cannot be read, a dep-info line it cannot
//! parse) cargo runs as before. Only the lab's own build uses it: a submission is built in the
//! build jail, every time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{BuildRequest, Builds, Built};

/// How much older than the build's start a file must be to count as read by it.
pub const MARGIN: Duration = Duration::from_secs(2);

/// The stamp's file name, next to the grader's executable (in cargo's target folder).
const STAMP_NAME: &str = ".shmlab-build-stamp.json";

/// Files in a package's folder (or any folder up to the workspace root) that change a build.
const MANIFESTS: [&str; 5] = [
    "Cargo.toml",
    "build.rs",
    ".cargo/config.toml",
    "rust-toolchain",
    "rust-toolchain.toml",
];

#[derive(Serialize, Deserialize, Default)]
struct Stamp {
    workspace: PathBuf,
    environment: Vec<(String, String)>,
    packages: BTreeMap<String, Entry>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Entry {
    executable: PathBuf,
    /// What the build read ([`inputs`]): a file added (a `build.rs`) or gone changes the list.
    inputs: Vec<PathBuf>,
    warnings: Vec<String>,
    /// The moment before the cargo run that built (or found fresh) the executable.
    started: SystemTime,
}

/// The builds of `request`, when the stamp shows that cargo would have nothing to do.
pub fn up_to_date(request: &BuildRequest) -> Option<Builds> {
    let timer = Instant::now();
    if request.jail.is_some() || request.target_dir.is_some() {
        return None;
    }
    let stamp = read_stamp(&stamp_path()?)?;
    if stamp.workspace != request.workspace || stamp.environment != environment() {
        return None;
    }
    let grader = modified(&std::env::current_exe().ok()?)?;
    let mut builds = Builds {
        packages: BTreeMap::new(),
        duration: Duration::ZERO,
        warnings: BTreeMap::new(),
    };
    for package in &request.packages {
        let entry = stamp.packages.get(package)?;
        let before = |time: SystemTime| time + MARGIN < entry.started;
        if !before(grader) || !entry.executable.is_file() {
            return None;
        }
        let inputs = inputs(&entry.executable, &request.workspace)?;
        if inputs != entry.inputs {
            return None;
        }
        for file in &inputs {
            if !before(modified(file)?) {
                return None;
            }
        }
        builds
            .packages
            .insert(package.clone(), Built::Binary(entry.executable.clone()));
        if !entry.warnings.is_empty() {
            builds
                .warnings
                .insert(package.clone(), entry.warnings.clone());
        }
    }
    builds.duration = timer.elapsed();
    Some(builds)
}

/// Records what a cargo run that began at `started` built, for [`up_to_date`]; packages that
/// did not compile are forgotten. Best effort: without a stamp, cargo simply runs next time.
pub fn record(request: &BuildRequest, started: SystemTime, builds: &Builds) -> Result<()> {
    if request.jail.is_some() || request.target_dir.is_some() {
        return Ok(());
    }
    let Some(path) = stamp_path() else {
        return Ok(());
    };
    let environment = environment();
    let mut stamp = read_stamp(&path)
        .filter(|stamp| stamp.workspace == request.workspace && stamp.environment == environment)
        .unwrap_or_else(|| Stamp {
            workspace: request.workspace.clone(),
            environment,
            packages: BTreeMap::new(),
        });
    for (package, built) in &builds.packages {
        match built {
            Built::Binary(executable) => {
                let Some(inputs) = inputs(executable, &request.workspace) else {
                    stamp.packages.remove(package);
                    continue;
                };
                let entry = Entry {
                    executable: executable.clone(),
                    inputs,
                    warnings: builds.warnings.get(package).cloned().unwrap_or_default(),
                    started,
                };
                stamp.packages.insert(package.clone(), entry);
            }
            Built::DidNotCompile(_) => {
                stamp.packages.remove(package);
            }
        }
    }
    let json = serde_json::to_string(&stamp).context("Failed to encode the build stamp")?;
    crate::atomic_write::write_atomically(&path, &json)
}

fn stamp_path() -> Option<PathBuf> {
    Some(std::env::current_exe().ok()?.with_file_name(STAMP_NAME))
}

fn read_stamp(path: &Path) -> Option<Stamp> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Variables that `cargo run` (and rustup's proxy) set for the program it runs: the same in
/// every `cargo grade`, absent when the grader is run directly, and no part of a build.
fn set_for_the_program(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || [
            "CARGO",
            "CARGO_HOME",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
        ]
        .contains(&name)
}

/// The variables that change how cargo builds (`RUSTFLAGS`, `RUSTC_WRAPPER`, `CARGO_PROFILE_*`,
/// `CARGO_BUILD_*`...: every `CARGO_*`, `RUSTC*` and `*FLAGS` but those
/// [`set_for_the_program`]), sorted.
fn environment() -> Vec<(String, String)> {
    let mut variables: Vec<(String, String)> = std::env::vars_os()
        .map(|(name, value)| {
            (
                name.to_string_lossy().into_owned(),
                value.to_string_lossy().into_owned(),
            )
        })
        .filter(|(name, _)| {
            (name.starts_with("CARGO") || name.starts_with("RUSTC") || name.ends_with("FLAGS"))
                && !set_for_the_program(name)
        })
        .collect();
    variables.sort();
    variables
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).ok()?.modified().ok()
}

/// Everything whose change would make cargo rebuild `executable` (see the module docs):
/// `None` when its dep-info is missing or not understood.
fn inputs(executable: &Path, workspace: &Path) -> Option<Vec<PathBuf>> {
    let dep_info = std::fs::read_to_string(executable.with_extension("d")).ok()?;
    let mut files = vec![workspace.join("Cargo.lock")];
    let mut folders = Vec::new();
    for line in dep_info.lines().filter(|line| !line.trim().is_empty()) {
        let (_target, sources) = line.split_once(": ")?;
        for source in split_escaped(sources) {
            let source = PathBuf::from(source);
            if !source.is_absolute() {
                return None;
            }
            for folder in source.ancestors().skip(1) {
                if !folder.starts_with(workspace) {
                    break;
                }
                if !folders.iter().any(|known| known == folder) {
                    folders.push(folder.to_path_buf());
                }
            }
            files.push(source);
        }
    }
    for folder in folders {
        for name in MANIFESTS {
            let file = folder.join(name);
            if file.exists() {
                files.push(file);
            }
        }
    }
    Some(files)
}

/// The paths of a dep-info line, where a space inside a path is written `\ `.
fn split_escaped(line: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => current.push(next),
                None => current.push('\\'),
            },
            ' ' => {
                if !current.is_empty() {
                    paths.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        paths.push(current);
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_info_paths_keep_their_escaped_spaces() {
        assert_eq!(
            split_escaped("/a/b.rs /c\\ d/e.rs  /f.rs"),
            vec!["/a/b.rs", "/c d/e.rs", "/f.rs"]
        );
    }
}
