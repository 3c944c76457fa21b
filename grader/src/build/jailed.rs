//! Cargo for a submission: its sources over the pristine lab, built in the jail.
//!
//! The jail shows cargo the pristine lab at `/lab` (read-only), with each exercise's `src/`
//! replaced by the submission's (or by the original stub where the submission has none), and
//! `/target`: an overlay of the shared dependency cache (read-only) under this build's own
//! upper folder, which the grader owns and removes after grading. Nothing of the submission
//! but those sources is seen by the build: not its manifests, build scripts, `.cargo/`
//! configuration or `target/`. Cargo runs `--frozen` (offline, the lock file as it is).
//!
//! Where the kernel cannot mount an overlay inside a user namespace (before Linux 5.11), or
//! when `SHMLAB_BUILD_NO_OVERLAY` is set, the cache is copied into the build's own folder
//! instead (30–80 ms here): slower, and the same isolation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::cache::{self, DependencyCache, LAB, TARGET};
use super::jail::{self, Mount, OVERLAY_FAILED};
use crate::info::Info;

/// Set (to anything) to copy the dependency cache instead of mounting it as an overlay.
pub const NO_OVERLAY_ENV: &str = "SHMLAB_BUILD_NO_OVERLAY";

/// How long one submission's build may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(300);

/// A submission's files: for each exercise folder (`01-create`), its sources by path relative
/// to the exercise's `src/` (`main.rs`, `parse/mod.rs`).
pub type Sources = BTreeMap<String, BTreeMap<PathBuf, Vec<u8>>>;

/// Cargo in the jail for one submission, and the folder its build lives in.
#[derive(Clone, Debug)]
pub struct JailedCargo {
    helper_exe: PathBuf,
    cache: DependencyCache,
    scratch: Arc<Scratch>,
}

impl JailedCargo {
    /// Stages `sources` for a build on `cache`; `helper_exe` is the grader binary (it runs the
    /// jail as `grader __build-jail`).
    pub fn new(helper_exe: &Path, cache: DependencyCache, sources: &Sources) -> Result<Self> {
        remove_abandoned(&cache.scratch);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{SCRATCH_PREFIX}{}-", std::process::id()))
            .tempdir_in(&cache.scratch)
            .context("Failed to create a folder for the submission's build")?;
        let scratch = Scratch {
            dir,
            copied: false.into(),
        };
        for exercise in Info::builtin()?.exercises {
            let src = scratch.src(&exercise.dir);
            cache::make_dir(&src, 0o755)?;
            match sources.get(&exercise.dir) {
                Some(files) => {
                    for (path, bytes) in files {
                        cache::write_file(&src.join(path), bytes)?;
                    }
                }
                None => cache::write_file(
                    &src.join("main.rs"),
                    crate::student::reset::original_main_rs(&exercise.dir)?.as_bytes(),
                )?,
            }
        }
        let layers = scratch.layers();
        for dir in [&layers, &layers.join("upper"), &layers.join("work")] {
            cache::make_dir(dir, 0o755)?;
            cache::give_to_build_uid(dir)?;
        }
        let cargo = JailedCargo {
            helper_exe: helper_exe.to_path_buf(),
            cache,
            scratch: Arc::new(scratch),
        };
        if std::env::var_os(NO_OVERLAY_ENV).is_some() {
            cargo.copy_cache()?;
        }
        Ok(cargo)
    }

    /// Gives this build a copy of the dependency cache as its target folder (no overlay).
    fn copy_cache(&self) -> Result<()> {
        copy_tree(&self.cache.target, &self.scratch.layers().join("upper"))?;
        self.scratch
            .copied
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// The lab as cargo sees it (for messages).
    pub fn workspace() -> PathBuf {
        LAB.into()
    }

    /// Runs cargo with `args` (the manifest and target are the jail's) in the jail.
    pub fn cargo(&self, args: Vec<String>) -> Result<Output> {
        let mut mounts = self.cache.common_mounts();
        for exercise in Info::builtin()?.exercises {
            mounts.push(Mount::Bind {
                source: self.scratch.src(&exercise.dir),
                target: Path::new(LAB)
                    .join("exercises")
                    .join(&exercise.dir)
                    .join("src"),
                writable: false,
            });
        }
        let copied = self
            .scratch
            .copied
            .load(std::sync::atomic::Ordering::Relaxed);
        mounts.push(if copied {
            Mount::Bind {
                source: self.scratch.layers().join("upper"),
                target: TARGET.into(),
                writable: true,
            }
        } else {
            Mount::Overlay {
                lower: self.cache.target.clone(),
                layers: self.scratch.layers(),
                upper: "upper".into(),
                work: "work".into(),
                target: TARGET.into(),
            }
        });
        let mut all = vec!["--frozen".to_string()];
        all.extend(args.iter().cloned());
        match jail::run(
            &self.helper_exe,
            &self.cache.jail(mounts, all, BUILD_TIMEOUT),
        ) {
            // An older kernel: no overlay in a user namespace. Copy, and build again.
            Err(error) if !copied && format!("{error:#}").contains(OVERLAY_FAILED) => {
                self.copy_cache()?;
                self.cargo(args)
            }
            other => other,
        }
    }

    /// Where a path cargo reported inside the jail (`/target/debug/create`) is on the machine.
    pub fn outside(&self, inside: &Path) -> PathBuf {
        match inside.strip_prefix(TARGET) {
            Ok(relative) => self.scratch.layers().join("upper").join(relative),
            Err(_) => inside.to_path_buf(),
        }
    }
}

/// Adds to the compiler's messages, when a file it was told to read is not there
/// (`include_str!`, `include_bytes!`, a `#[path]` module), why: the build sees the lab alone.
pub fn explain_missing_files(messages: &mut String) {
    if messages.contains("couldn't read `") || messages.contains("file not found for module") {
        if !messages.ends_with('\n') {
            messages.push('\n');
        }
        messages.push_str(
            "note: the grader builds a submission from its sources alone, in a sandbox that shows \
             only the lab: include_str!, include_bytes! and #[path] can read the .rs files of \
             your exercise's src/ folder and nothing else (not other files of the submission, \
             not files of the machine such as /etc)\n",
        );
    }
}

/// The build's folder: `src/DIR/` (the staged sources) and `layers/{upper,work}` (the
/// overlay's writable half). Removed when the last handle goes.
#[derive(Debug)]
struct Scratch {
    dir: tempfile::TempDir,
    /// The cache was copied into `layers/upper`, which is then the target folder itself.
    copied: std::sync::atomic::AtomicBool,
}

impl Scratch {
    fn src(&self, exercise_dir: &str) -> PathBuf {
        self.dir.path().join("src").join(exercise_dir)
    }

    fn layers(&self) -> PathBuf {
        self.dir.path().join("layers")
    }
}

/// How a build's scratch folder is named: `build-<pid of the grader>-<random>`.
const SCRATCH_PREFIX: &str = "build-";

/// Removes the scratch folders of graders that are gone (killed with Ctrl-C mid-build, say).
/// Best effort: what cannot be removed now is tried again next time.
fn remove_abandoned(scratch: &Path) {
    let Ok(entries) = std::fs::read_dir(scratch) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(SCRATCH_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        open_overlay_work(&entry.path());
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// Overlay leaves a mode-000 folder in its work dir; opens it so that it can be removed (root
/// need not, an ordinary user must).
fn open_overlay_work(scratch: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let work = scratch.join("layers/work/work");
    if work.is_dir() {
        let _ = std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o700));
    }
}

/// Copies the folder `from` into `to` (which exists), every copy the build uid's and as old as
/// its original.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in
        std::fs::read_dir(from).with_context(|| format!("Failed to list {}", from.display()))?
    {
        let entry = entry.with_context(|| format!("Failed to list {}", from.display()))?;
        let (source, copy) = (entry.path(), to.join(entry.file_name()));
        let kind = entry
            .file_type()
            .with_context(|| format!("Failed to inspect {}", source.display()))?;
        if kind.is_dir() {
            cache::make_dir(&copy, 0o755)?;
            copy_tree(&source, &copy)?;
        } else if kind.is_file() {
            std::fs::copy(&source, &copy).with_context(|| {
                format!("Failed to copy {} to {}", source.display(), copy.display())
            })?;
            // Cargo compares outputs' times: a copy newer than what it was built on is stale.
            let modified = entry
                .metadata()
                .and_then(|metadata| metadata.modified())
                .with_context(|| format!("Failed to inspect {}", source.display()))?;
            std::fs::File::options()
                .write(true)
                .open(&copy)
                .and_then(|file| file.set_modified(modified))
                .with_context(|| format!("Failed to date {}", copy.display()))?;
        } else {
            continue;
        }
        cache::give_to_build_uid(&copy)?;
    }
    Ok(())
}

impl Drop for Scratch {
    fn drop(&mut self) {
        open_overlay_work(self.dir.path());
    }
}
