//! The pristine lab and its dependencies, built once and shared read-only by every submission.
//!
//! A submission is built in a copy of the grader's own lab, never in its own workspace: the
//! *pristine lab* is the grader's `sysv/`, the exercises' manifests, a workspace `Cargo.toml`
//! that lists only `sysv` and the exercises (the grader's, with `members` replaced), and the
//! grader's `Cargo.lock`, trimmed to those packages. Its exercises hold the original stubs.
//!
//! The *dependency cache* is that lab built once in the jail (`cargo build -p sysv`: sysv,
//! nix, libc, bitflags, …) into a target directory the grader owns. Each submission's build
//! then sees it as the read-only lower layer of an overlay (`jail::Mount::Overlay`) and only
//! compiles its own exercises into its own upper directory. This is fresh for cargo because
//! the jail shows every build the same paths (`/lab`, `/target`, `/toolchain`), so the
//! dependencies' fingerprints match; the exercises themselves are never in the cache, so a
//! student's file can never be mistaken for an older, already-built one (cargo compares
//! modification times).
//!
//! Why an overlay, measured on this 2-core machine (the cache is 33 MB in 72 files; building
//! it takes about 14 s, once): `unshare -m` + overlay mount + unmount takes about 10 ms in all;
//! copying the cache into each submission's target directory 30–80 ms (warm page cache), and
//! more disk per build; hard links (`cp -al`) take a few milliseconds but share the files
//! themselves: cargo rewrites some in place (`.cargo-lock`, fingerprints), and since they
//! belong to the build uid, a build could change what the next submission links against. The
//! overlay's lower layer is not even visible in the jail, only the merged view.
//!
//! The cache lives in `<grader's target dir>/shmlab-build/<key>`, where the key hashes the
//! pristine lab's files, the toolchain (`rustc -vV` and its path) and the build uid: a new
//! toolchain or a changed `sysv` builds a new cache. It is made under a lock file and renamed into place
//! when complete, so concurrent graders (batch grading) build it once and never see half of
//! it. As root, its target directory belongs to the build uid ([`super::jail::BUILD_UID`]):
//! overlay copies a file up with its owner, which must be one the jail maps. Older caches are
//! removed once nobody uses them (`collect.rs`).

mod collect;

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::fcntl::{Flock, FlockArg};

use super::jail::{self, Jail, Mount};
use crate::info::Info;

/// Where the jail shows things; the same for every build, so that fingerprints match.
pub const LAB: &str = "/lab";
pub const TARGET: &str = "/target";
const TOOLCHAIN: &str = "/toolchain";
const CARGO_HOME: &str = "/cargo-home";

/// How long the one-off dependency build may take.
const CACHE_BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// The toolchain of the machine, as the jail shows it.
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// The sysroot (`rustc --print sysroot`): bin/cargo, bin/rustc, lib/.
    pub sysroot: PathBuf,
    /// Cargo home's `registry/` (the downloaded crates' sources).
    pub registry: PathBuf,
    /// `rustc -vV`, for the cache key.
    version: String,
}

impl Toolchain {
    /// The toolchain cargo grade runs with: `$CARGO`'s when it sits in a sysroot, else what
    /// `rustc --print sysroot` says in the lab (rustup's overrides apply).
    pub fn find(lab_root: &Path) -> Result<Toolchain> {
        let from_cargo = std::env::var_os("CARGO")
            .map(PathBuf::from)
            .and_then(|cargo| Some(cargo.parent()?.parent()?.to_path_buf()))
            // A real sysroot, not rustup's proxies in ~/.cargo/bin (they need ~/.rustup).
            .filter(|sysroot| {
                sysroot.join("bin/rustc").is_file() && sysroot.join("lib/rustlib").is_dir()
            });
        let sysroot = match from_cargo {
            Some(sysroot) => sysroot,
            None => {
                let output = Command::new("rustc")
                    .args(["--print", "sysroot"])
                    .current_dir(lab_root)
                    .output()
                    .context("Failed to run `rustc --print sysroot` (is Rust installed?)")?;
                PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
            }
        };
        if !sysroot.join("bin/cargo").is_file() || !sysroot.join("lib/rustlib").is_dir() {
            bail!(
                "the toolchain at {} has no bin/cargo; install Rust with rustup",
                sysroot.display()
            );
        }
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
            .context("Failed to find cargo's home (set CARGO_HOME)")?;
        let output = Command::new(sysroot.join("bin/rustc"))
            .arg("-vV")
            .output()
            .context("Failed to run `rustc -vV`")?;
        Ok(Toolchain {
            registry: cargo_home.join("registry"),
            version: format!(
                "{}\n{}",
                sysroot.display(),
                String::from_utf8_lossy(&output.stdout)
            ),
            sysroot,
        })
    }
}

/// The pristine lab and its built dependencies, ready to be shared.
#[derive(Clone, Debug)]
pub struct DependencyCache {
    /// `<key>/lab`: the pristine lab (read-only to builds).
    pub lab: PathBuf,
    /// `<key>/target`: the dependencies, built.
    pub target: PathBuf,
    pub toolchain: Toolchain,
    /// Where per-build scratch folders go (same filesystem as the cache).
    pub scratch: PathBuf,
    /// Keeps collectors of old caches off this one while any clone of it lives.
    in_use: Option<Arc<collect::InUse>>,
}

impl DependencyCache {
    /// The cache for the grader's own lab (`lab_root`), built now if it is not already.
    pub fn prepare(lab_root: &Path, helper_exe: &Path) -> Result<DependencyCache> {
        let toolchain = Toolchain::find(lab_root)?;
        let files = pristine_files(lab_root)?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        files.hash(&mut hasher);
        toolchain.version.hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        // Overlay copies a cached file up only for a uid the jail maps: one cache per build uid.
        jail::outside_ids().hash(&mut hasher);
        let key = format!("{:016x}", hasher.finish());
        let base = cache_base(lab_root);
        let dir = base.join(&key);
        let cache = DependencyCache {
            lab: dir.join("lab"),
            target: dir.join("target"),
            toolchain,
            scratch: base.join("runs"),
            in_use: None,
        };
        make_dir(&cache.scratch, 0o711)?;
        if let Some(ready) = cache.clone().held(&dir)? {
            let build_lock = build_lock(&base, FlockArg::LockExclusiveNonblock).ok();
            collect::collect_old(&base, &key, build_lock.is_some());
            return Ok(ready);
        }
        // One grader builds it; the others wait here, then find it done.
        let _build_lock = build_lock(&base, FlockArg::LockExclusive)?;
        if let Some(ready) = cache.clone().held(&dir)? {
            collect::collect_old(&base, &key, true);
            return Ok(ready);
        }
        if dir.exists() {
            // A cache copied without its owners (`cp -r`, a CI cache restored as another
            // user): the jail could not write its lock files, and every submission would
            // seem not to compile. Build it again rather than blame the students.
            std::fs::remove_dir_all(&dir).with_context(|| {
                format!("Failed to remove the unusable cache {}", dir.display())
            })?;
        }
        let building = base.join(format!("{key}.partial"));
        if building.exists() {
            std::fs::remove_dir_all(&building).with_context(|| {
                format!(
                    "Failed to remove an unfinished cache {}",
                    building.display()
                )
            })?;
        }
        let partial = DependencyCache {
            lab: building.join("lab"),
            target: building.join("target"),
            ..cache.clone()
        };
        partial.create(&files, helper_exe)?;
        std::fs::rename(&building, &dir)
            .with_context(|| format!("Failed to move the cache into {}", dir.display()))?;
        let ready = cache.held(&dir)?.with_context(|| {
            format!("The dependency cache {} vanished once built", dir.display())
        })?;
        collect::collect_old(&base, &key, true);
        Ok(ready)
    }

    /// This cache, held against collectors ([`collect::InUse`]), if it is usable at `dir`.
    fn held(mut self, dir: &Path) -> Result<Option<DependencyCache>> {
        if !self.is_usable() {
            return Ok(None);
        }
        let Some(in_use) = collect::InUse::lock(dir)? else {
            return Ok(None);
        };
        self.in_use = Some(Arc::new(in_use));
        Ok(Some(self))
    }

    /// Whether the cache is there and its target still belongs to the build uid.
    fn is_usable(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        let (uid, _) = jail::outside_ids();
        std::fs::metadata(&self.target).is_ok_and(|target| target.is_dir() && target.uid() == uid)
    }

    /// Writes the pristine lab, trims its lock file and builds the dependencies in the jail.
    fn create(&self, files: &BTreeMap<PathBuf, Vec<u8>>, helper_exe: &Path) -> Result<()> {
        for (path, bytes) in files {
            write_file(&self.lab.join(path), bytes)?;
        }
        // Cargo.lock lists the grader's whole workspace; keep the versions, drop the rest.
        let mut cargo = Command::new(self.toolchain.sysroot.join("bin/cargo"));
        cargo.env("RUSTC", self.toolchain.sysroot.join("bin/rustc"));
        super::trim_lockfile(cargo, &self.lab)?;
        make_dir(&self.target, 0o755)?;
        give_to_build_uid(&self.target)?;
        let mut mounts = self.common_mounts();
        mounts.push(Mount::Bind {
            source: self.target.clone(),
            target: TARGET.into(),
            writable: true,
        });
        let jail = self.jail(
            mounts,
            vec![
                "build".into(),
                "--frozen".into(),
                "--package".into(),
                "sysv".into(),
            ],
            CACHE_BUILD_TIMEOUT,
        );
        let output = jail::run(helper_exe, &jail)?;
        if !output.status.success() {
            bail!(
                "the lab's dependencies do not build in the jail ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }

    /// What every build sees besides its target: the toolchain, the registry and the
    /// pristine lab (read-only), a scratch /tmp and a cargo home for cargo's lock files.
    pub fn common_mounts(&self) -> Vec<Mount> {
        vec![
            Mount::Bind {
                source: self.toolchain.sysroot.clone(),
                target: TOOLCHAIN.into(),
                writable: false,
            },
            Mount::Tmpfs {
                target: "/tmp".into(),
                megabytes: 512,
            },
            Mount::Tmpfs {
                target: CARGO_HOME.into(),
                megabytes: 1,
            },
            Mount::Bind {
                source: self.toolchain.registry.clone(),
                target: format!("{CARGO_HOME}/registry").into(),
                writable: false,
            },
            Mount::Bind {
                source: self.lab.clone(),
                target: LAB.into(),
                writable: false,
            },
        ]
    }

    /// Cargo with `args` in the jail, in the lab, with the environment every build shares.
    pub fn jail(&self, mounts: Vec<Mount>, args: Vec<String>, timeout: Duration) -> Jail {
        let env = [
            ("PATH", format!("{TOOLCHAIN}/bin:/usr/bin:/bin")),
            ("HOME", "/tmp".to_string()),
            ("TMPDIR", "/tmp".to_string()),
            ("LANG", "C.UTF-8".to_string()),
            ("CARGO_HOME", CARGO_HOME.to_string()),
            ("CARGO_TARGET_DIR", TARGET.to_string()),
            ("CARGO_NET_OFFLINE", "true".to_string()),
            ("CARGO_INCREMENTAL", "0".to_string()),
            ("CARGO_TERM_COLOR", "never".to_string()),
            ("RUSTC", format!("{TOOLCHAIN}/bin/rustc")),
        ];
        Jail {
            mounts,
            program: format!("{TOOLCHAIN}/bin/cargo").into(),
            args,
            env: env
                .into_iter()
                .map(|(key, value)| (key.to_string(), value))
                .collect(),
            cwd: LAB.into(),
            timeout,
        }
    }
}

/// The lock under which caches are built (and unfinished ones removed), in `base`.
fn build_lock(base: &Path, how: FlockArg) -> Result<Flock<std::fs::File>> {
    let lock = std::fs::File::create(base.join(".lock"))
        .with_context(|| format!("Failed to create the lock file in {}", base.display()))?;
    Flock::lock(lock, how)
        .map_err(|(_, errno)| errno)
        .context("Failed to lock the dependency cache")
}

/// `<the grader's target dir>/shmlab-build`, or `SHMLAB_BUILD_CACHE`.
fn cache_base(lab_root: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("SHMLAB_BUILD_CACHE") {
        return dir.into();
    }
    // The grader runs from <target>/<profile>/grader; its target dir is two levels up.
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .filter(|target| target.join("CACHEDIR.TAG").is_file())
        .unwrap_or_else(|| lab_root.join("target"))
        .join("shmlab-build")
}

/// The pristine lab's files (relative path → bytes), from the grader's own checkout and the
/// stubs compiled into the grader.
fn pristine_files(lab_root: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let info = Info::builtin()?;
    let mut files = BTreeMap::new();
    let read = |path: &Path| {
        std::fs::read(lab_root.join(path))
            .with_context(|| format!("Failed to read {}", lab_root.join(path).display()))
    };
    let mut manifest: toml::Table = String::from_utf8_lossy(&read(Path::new("Cargo.toml"))?)
        .parse()
        .context("Failed to parse the lab's Cargo.toml")?;
    let workspace = manifest
        .get_mut("workspace")
        .and_then(toml::Value::as_table_mut)
        .context("the lab's Cargo.toml has no [workspace]")?;
    let mut members = vec![toml::Value::from("sysv")];
    members.extend(
        info.exercises
            .iter()
            .map(|exercise| toml::Value::from(format!("exercises/{}", exercise.dir))),
    );
    workspace.insert("members".into(), toml::Value::Array(members));
    workspace.remove("default-members");
    workspace.remove("exclude");
    files.insert(
        "Cargo.toml".into(),
        toml::to_string(&manifest)
            .context("Failed to write the pristine lab's Cargo.toml")?
            .into_bytes(),
    );
    files.insert("Cargo.lock".into(), read(Path::new("Cargo.lock"))?);
    collect_tree(lab_root, Path::new("sysv"), &mut files)?;
    for exercise in &info.exercises {
        let dir = Path::new("exercises").join(&exercise.dir);
        files.insert(dir.join("Cargo.toml"), read(&dir.join("Cargo.toml"))?);
        files.insert(
            dir.join("src/main.rs"),
            crate::student::reset::original_main_rs(&exercise.dir)?
                .as_bytes()
                .to_vec(),
        );
    }
    Ok(files)
}

/// Every file under `lab_root/relative`, but hidden ones and `target/`.
fn collect_tree(
    lab_root: &Path,
    relative: &Path,
    files: &mut BTreeMap<PathBuf, Vec<u8>>,
) -> Result<()> {
    let dir = lab_root.join(relative);
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("Failed to list {}", dir.display()))?
    {
        let entry = entry.with_context(|| format!("Failed to list {}", dir.display()))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "target" {
            continue;
        }
        let path = relative.join(&name);
        let kind = entry
            .file_type()
            .with_context(|| format!("Failed to inspect {}", entry.path().display()))?;
        if kind.is_dir() {
            collect_tree(lab_root, &path, files)?;
        } else if kind.is_file() {
            let bytes = std::fs::read(entry.path())
                .with_context(|| format!("Failed to read {}", entry.path().display()))?;
            files.insert(path, bytes);
        }
    }
    Ok(())
}

/// Creates `path` (and its parents) with `mode`, whatever the umask.
pub fn make_dir(path: &Path, mode: u32) -> Result<()> {
    std::fs::create_dir_all(path)
        .with_context(|| format!("Failed to create {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("Failed to set the mode of {}", path.display()))
}

/// Writes a file the build can read (0644, folders 0755), whatever the umask.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        make_dir(parent, 0o755)?;
    }
    std::fs::write(path, bytes).with_context(|| format!("Failed to write {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .with_context(|| format!("Failed to set the mode of {}", path.display()))
}

/// As root: hands `path` to the build uid, the jail's only writer. Otherwise it is ours already.
pub fn give_to_build_uid(path: &Path) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let (uid, gid) = jail::outside_ids();
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .with_context(|| format!("Failed to give {} to the build uid {uid}", path.display()))
}
