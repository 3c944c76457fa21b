//! The build jail: runs one command (cargo, for a submission) with no rights over the machine.
//!
//! # What the jailed command gets
//!
//! - **An unprivileged identity.** A new user namespace maps one outside uid and gid to 0
//!   inside: as root, a dedicated [`BUILD_UID`] that owns nothing else on the machine; as an
//!   ordinary user, the user's own uid. Supplementary groups are cleared (as root) before the
//!   namespace is made, so no group of the grader's carries over. Before `exec` every
//!   capability is dropped (effective, permitted, inheritable, ambient and bounding sets),
//!   `SECBIT_NOROOT` is locked so that uid 0 inside gains nothing at `exec`, and
//!   `no_new_privs` is set. Files that the outside uid cannot read (root-only files, a 0700
//!   `/root`) stay unreadable inside.
//! - **No network**: a new network namespace, with no interface but a loopback that is down.
//! - **Its own processes only**: new PID, IPC and UTS namespaces and a fresh `/proc`; the
//!   jail's pid 1 is the command, and when it exits (or the grader dies, or the time runs out)
//!   the kernel kills everything else in the namespace.
//! - **A minimal view of the filesystem** (a new mount namespace whose root is an empty tmpfs):
//!   `/usr` and its merged-usr links (`/bin`, `/lib`, …), `/etc/alternatives` and
//!   `/etc/ld.so.cache` (the C linker needs them), `/dev/null`, `/dev/zero`, `/dev/urandom`,
//!   then only what the caller's [`Jail::mounts`] list adds — for a build: the toolchain, the
//!   registry's sources, the pristine lab (all read-only), a scratch `/tmp` and the target
//!   directory. Everything else, `/etc/shadow`, `/root`, `/home`, the grader's checkout, the
//!   submission as it was uploaded, does not exist in there. The root itself is remounted
//!   read-only, so the only writable places are the tmpfs mounts and writable binds the caller
//!   asked for.
//! - **A shared, read-only cache** ([`Mount::Overlay`]): an overlay whose lower layer (the
//!   dependencies built once) is never written; what the command writes lands in its own upper
//!   directory. The overlay is mounted after the switch to the jail's uid, so that overlay's
//!   copy-up runs with credentials the namespace maps.
//! - **Limits**: `RLIMIT_FSIZE` (no file over 512 MiB, against a crate that compiles into a
//!   disk-filling binary), `RLIMIT_AS` (2 GiB per process, against a source that makes the
//!   compiler allocate without end), no core dumps, and a wall-clock timeout after which the
//!   namespace is killed.
//!
//! # How
//!
//! The same re-exec pattern as the run-time sandbox (`crate::sandbox`): namespaces belong to
//! processes, and a multi-threaded process cannot make a user namespace, so [`run`] starts
//! `grader __build-jail` ([`serve`]), which reads the [`Jail`] as JSON on stdin. It forks a
//! child that clears its groups and unshares the namespaces; the parent (still outside) writes
//! the child's uid and gid maps, which only a process outside the namespace may do for another
//! uid. The child forks the jail's pid 1, which opens every source with the grader's own
//! rights (`O_PATH`: this is how a 0700 `/root/.rustup` can be shown read-only), switches to
//! the mapped ids (a tmpfs made in the namespace takes no file of an unmapped owner), builds
//! the new root on a tmpfs from those handles, mounts the overlay and `/proc`, `pivot_root`s
//! into it, drops everything and `exec`s the command. The command's stdout and stderr are the
//! helper's.
//!
//! Written with nix rather than a sandboxing crate for the same reasons as the run-time
//! sandbox: the needs are small (a dozen mounts, two maps) and the order of the steps matters.
//! Each step both set up (unsharing, the id maps, the tmpfs root, bind mounts made read-only,
//! `/proc`, `pivot_root`, the read-only root, the hostname) is written once, in
//! `crate::sandbox::namespaces`, and the capability drop is the sandbox's
//! (`crate::sandbox::drop_privileges`); this module keeps what only a build needs: the
//! sources opened before the switch of ids, the overlay, the limits, the exec of cargo.

use std::io::{Read, Write as _};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::CloneFlags;
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Gid, Pid, Uid, fork, pipe};
use serde::{Deserialize, Serialize};

use crate::sandbox::SYSTEM_DIRS;
use crate::sandbox::namespaces::{self, Access, IdMap, Shown, create_dir, write_id_maps};

/// The hidden subcommand: `grader __build-jail` runs [`serve`].
pub const SUBCOMMAND: &str = "__build-jail";

/// The outside uid (and gid) a build runs as when the grader is root: dedicated to builds, so
/// that it owns no file on the machine but the build cache and the build's own output, and is
/// not the uid graded programs run as. `SHMLAB_BUILD_UID` overrides it.
pub const BUILD_UID: u32 = 1_592_590_336;

/// Exit status of the helper when the jail itself could not be set up (cargo uses 101).
pub const EXIT_JAIL_FAILED: i32 = 125;

/// How a failed overlay mount starts its error (callers fall back to a copy on it).
pub const OVERLAY_FAILED: &str = "Failed to mount the overlay";

/// Largest file the jailed command may write.
const MAX_FILE_BYTES: u64 = 512 << 20;

/// Address space of each process in the jail: rustc needs well under 1 GiB for the lab (and
/// for its dependencies); a source that makes it allocate more (a 4 GiB constant) fails to
/// compile instead of taking the machine's memory.
const MAX_MEMORY_BYTES: u64 = 2 << 30;

/// Paths of the machine shown read-only in every jail (those that exist): the programs and
/// libraries, as the run sandbox shows them ([`SYSTEM_DIRS`]), and what the C linker and the
/// build scripts read besides.
const JAIL_EXTRA_PATHS: [&str; 4] = ["/etc/ld.so.cache", "/dev/null", "/dev/zero", "/dev/urandom"];

fn system_paths() -> impl Iterator<Item = &'static Path> {
    SYSTEM_DIRS.iter().chain(&JAIL_EXTRA_PATHS).map(Path::new)
}

/// One thing to show inside the jail, in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Mount {
    /// `source` (a file or folder of the machine) at `target`; read-only unless `writable`.
    Bind {
        source: PathBuf,
        target: PathBuf,
        writable: bool,
    },
    /// An empty writable tmpfs of at most `megabytes`, open to everyone (mode 1777).
    Tmpfs { target: PathBuf, megabytes: u32 },
    /// `lower` read-only under `upper`: the command sees `lower`'s files at `target` and
    /// writes into `upper`. `work` is overlay's scratch folder; it and `upper` must be
    /// siblings in `layers` (overlay wants both on one mount).
    Overlay {
        lower: PathBuf,
        layers: PathBuf,
        upper: String,
        work: String,
        target: PathBuf,
    },
}

/// A command and the world it sees.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Jail {
    pub mounts: Vec<Mount>,
    /// Program (a path inside the jail) and its arguments.
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The whole environment of the command.
    pub env: Vec<(String, String)>,
    /// Working directory inside the jail.
    pub cwd: PathBuf,
    pub timeout: Duration,
}

/// The outside uid and gid the jail runs as: [`BUILD_UID`] (or `SHMLAB_BUILD_UID`) for root,
/// the caller's own otherwise.
pub fn outside_ids() -> (u32, u32) {
    if Uid::effective().is_root() {
        let uid = std::env::var("SHMLAB_BUILD_UID")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(BUILD_UID);
        (uid, uid)
    } else {
        (Uid::effective().as_raw(), Gid::effective().as_raw())
    }
}

/// Runs the jail through `helper_exe __build-jail` (the grader binary) and returns what the
/// command printed and its status. Errs when the helper cannot be started, or when the jail
/// could not be set up (exit [`EXIT_JAIL_FAILED`]).
pub fn run(helper_exe: &Path, jail: &Jail) -> Result<Output> {
    let input = serde_json::to_vec(jail).context("Failed to encode the build jail")?;
    let mut command = Command::new(helper_exe);
    // SAFETY: prctl is async-signal-safe; the helper dies with the thread that waits for it.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
        })
    };
    let mut child = command
        .arg(SUBCOMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("Failed to start the build jail {}", helper_exe.display()))?;
    // The helper reads all of its input before the command writes anything: no deadlock.
    child
        .stdin
        .take()
        .context("the build jail's stdin is not a pipe")?
        .write_all(&input)
        .context("Failed to send the build jail its instructions")?;
    let output = child
        .wait_with_output()
        .context("Failed to wait for the build jail")?;
    if output.status.code() == Some(EXIT_JAIL_FAILED) {
        bail!(
            "the build jail could not be set up, and a submission is never built outside it: {}\n\
             It needs user namespaces: in a Docker container, start it with \
             --security-opt seccomp=unconfined or --cap-add SYS_ADMIN; as an ordinary user, \
             kernel.unprivileged_userns_clone=1 and, on Ubuntu 24.04, \
             kernel.apparmor_restrict_unprivileged_userns=0.",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output)
}

/// `grader __build-jail`: reads a [`Jail`] on stdin, runs it, exits with the command's status
/// (128 + signal when killed, [`EXIT_JAIL_FAILED`] when the jail failed).
pub fn serve() -> ExitCode {
    match serve_jail() {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_JAIL_FAILED as u8)
        }
    }
}

fn serve_jail() -> Result<u8> {
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .context("Failed to read the jail's instructions")?;
    let jail: Jail = serde_json::from_slice(&input).context("Failed to decode the jail")?;
    let (uid, gid) = outside_ids();
    let (ready_read, ready_write) = pipe().context("Failed to make a pipe")?;
    let (mapped_read, mapped_write) = pipe().context("Failed to make a pipe")?;
    // SAFETY: this helper is single-threaded (nothing has started a thread), so the child may
    // do anything after fork.
    match unsafe { fork() }.context("Failed to fork the jail")? {
        ForkResult::Child => {
            drop(ready_read);
            drop(mapped_write);
            let code = match enter(&jail, ready_write, mapped_read) {
                Ok(code) => code,
                Err(error) => {
                    eprintln!("error: the build jail: {error:#}");
                    EXIT_JAIL_FAILED
                }
            };
            std::process::exit(code);
        }
        ForkResult::Parent { child } => {
            drop(ready_write);
            drop(mapped_read);
            let mut byte = [0u8; 1];
            let ready = std::fs::File::from(ready_read).read(&mut byte);
            if ready.ok() != Some(1) {
                return wait_code(child);
            }
            let map = IdMap {
                inside: (0, 0),
                outside: (uid, gid),
                count: 1,
            };
            write_id_maps(&child.to_string(), &map, true)?;
            std::fs::File::from(mapped_write)
                .write_all(b"m")
                .context("Failed to tell the jail its ids are mapped")?;
            // The watchdog: a thread may start now that the child exists.
            let timeout = jail.timeout;
            std::thread::spawn(move || {
                std::thread::sleep(timeout);
                let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
            });
            wait_code(child)
        }
    }
}

/// The exit code to pass on for the process `pid`: its own, or 128 + the signal that killed it.
fn wait_code(pid: Pid) -> Result<u8> {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code as u8),
            Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(128 + signal as u8),
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(error) => return Err(error).context("Failed to wait for the jail"),
        }
    }
}

/// In the forked child: new namespaces, then the jail's pid 1.
fn enter(jail: &Jail, ready: std::os::fd::OwnedFd, mapped: std::os::fd::OwnedFd) -> Result<i32> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).context("Failed to set PDEATHSIG")?;
    if Uid::effective().is_root() {
        nix::unistd::setgroups(&[]).context("Failed to clear the groups")?;
    }
    namespaces::unshare(
        CloneFlags::CLONE_NEWUSER
            | CloneFlags::CLONE_NEWNS
            | CloneFlags::CLONE_NEWPID
            | CloneFlags::CLONE_NEWNET
            | CloneFlags::CLONE_NEWIPC
            | CloneFlags::CLONE_NEWUTS,
    )?;
    std::fs::File::from(ready)
        .write_all(b"r")
        .context("Failed to tell the helper the namespaces exist")?;
    let mut byte = [0u8; 1];
    if std::fs::File::from(mapped).read(&mut byte).ok() != Some(1) {
        bail!("the helper did not map the jail's ids");
    }
    // SAFETY: single-threaded (a fork of the single-threaded helper).
    match unsafe { fork() }.context("Failed to fork the jail's pid 1")? {
        ForkResult::Child => {
            let error = match init(jail) {
                Ok(never) => match never {},
                Err(error) => error,
            };
            eprintln!("error: the build jail: {error:#}");
            std::process::exit(EXIT_JAIL_FAILED);
        }
        ForkResult::Parent { child } => Ok(i32::from(wait_code(child)?)),
    }
}

/// The jail's pid 1: mounts, ids, limits, then `exec` of the command.
fn init(jail: &Jail) -> Result<std::convert::Infallible> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).context("Failed to set PDEATHSIG")?;
    namespaces::make_mounts_private()?;
    // Every source is opened now, with the grader's own rights (a 0700 /root/.rustup is
    // reachable to it); the mounts are made after the switch to the jail's ids, from these
    // handles, because a tmpfs made in the namespace takes no file of an unmapped owner.
    let system: Vec<(&Path, Shown)> = system_paths()
        .map(|path| Ok((path, open(path)?)))
        .collect::<Result<_>>()?;
    let mut opened = Vec::new();
    for item in &jail.mounts {
        opened.push(match item {
            Mount::Bind { source, .. } => vec![open(source)?],
            Mount::Tmpfs { .. } => Vec::new(),
            Mount::Overlay { lower, layers, .. } => {
                vec![open(lower)?, open(layers)?]
            }
        });
    }
    // Which asks again for the parent-death signal, which the change of ids cleared: else a
    // killed jail (the timeout) would leave its pid 1, and so the whole namespace, running.
    namespaces::become_root()?;
    // Any folder will do to build the new root on: the mount namespace is private and every
    // source is open already. /tmp exists everywhere and the jail's uid can reach it.
    let root = Path::new("/tmp");
    namespaces::mount_tmpfs(
        root,
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        "mode=0755,size=16m",
    )?;
    for (path, shown) in &system {
        shown.show(&inside(root, path), access(false))?;
    }
    let mut overlays = Vec::new();
    for (index, (item, sources)) in jail.mounts.iter().zip(&opened).enumerate() {
        match (item, sources.as_slice()) {
            (
                Mount::Bind {
                    target, writable, ..
                },
                [source],
            ) => source.show(&inside(root, target), access(*writable))?,
            (Mount::Tmpfs { target, megabytes }, []) => {
                let at = inside(root, target);
                create_dir(&at)?;
                namespaces::mount_tmpfs(
                    &at,
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                    &format!("mode=1777,size={megabytes}m"),
                )?;
            }
            (
                Mount::Overlay {
                    upper,
                    work,
                    target,
                    ..
                },
                [lower, layers],
            ) => {
                let staged = root.join(format!(".layers-{index}"));
                lower.show(&staged.join("lower"), access(false))?;
                layers.show(&staged.join("layers"), access(true))?;
                overlays.push((staged, upper.clone(), work.clone(), target.clone()));
            }
            _ => bail!("a mount and its sources do not match"),
        }
    }
    for (staged, upper, work, target) in overlays {
        let at = inside(root, &target);
        create_dir(&at)?;
        let layers = staged.join("layers");
        let options = format!(
            "lowerdir={},upperdir={},workdir={},userxattr",
            staged.join("lower").display(),
            layers.join(upper).display(),
            layers.join(work).display()
        );
        mount(
            Some("overlay"),
            &at,
            Some("overlay"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(options.as_str()),
        )
        .with_context(|| format!("{OVERLAY_FAILED} on {}", target.display()))?;
        for layer in ["lower", "layers"] {
            umount2(&staged.join(layer), MntFlags::MNT_DETACH)
                .context("Failed to unmount an overlay layer")?;
        }
        std::fs::remove_dir_all(&staged).context("Failed to remove the overlay's staging")?;
    }
    let proc_dir = root.join("proc");
    create_dir(&proc_dir)?;
    namespaces::mount_proc(&proc_dir)?;
    let old_root = root.join(".old-root");
    create_dir(&old_root)?;
    namespaces::pivot(root, &old_root)?;
    umount2("/.old-root", MntFlags::MNT_DETACH).context("Failed to detach the machine's root")?;
    std::fs::remove_dir("/.old-root").context("Failed to remove /.old-root")?;
    namespaces::make_root_read_only()?;
    // The name only tells a curious build where it is, so a failure does not matter.
    let _ = namespaces::set_hostname("shmlab-build");
    std::env::set_current_dir(&jail.cwd)
        .with_context(|| format!("Failed to enter {} in the jail", jail.cwd.display()))?;
    limit(Resource::RLIMIT_FSIZE, MAX_FILE_BYTES)?;
    limit(Resource::RLIMIT_AS, MAX_MEMORY_BYTES)?;
    limit(Resource::RLIMIT_CORE, 0)?;
    crate::sandbox::drop_privileges().context("Failed to drop the capabilities")?;
    let error = Command::new(&jail.program)
        .args(&jail.args)
        .env_clear()
        .envs(jail.env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .exec();
    Err(error).with_context(|| format!("Failed to run {} in the jail", jail.program.display()))
}

/// `path` (absolute, inside the jail) under the jail's root as the machine sees it.
fn inside(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

/// A path of the machine to show in the jail, looked up before the switch of ids; the system's
/// symbolic links (`/bin -> usr/bin`) are shown as links.
fn open(path: &Path) -> Result<Shown> {
    Shown::open(path, system_paths().any(|system| system == path))
}

/// Read-only unless `writable`; device files work (`/dev/null`).
fn access(writable: bool) -> Access {
    Access {
        writable,
        devices: true,
    }
}

fn limit(resource: Resource, value: u64) -> Result<()> {
    setrlimit(resource, value, value)
        .with_context(|| format!("Failed to set {resource:?} to {value}"))
}
