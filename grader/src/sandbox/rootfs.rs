//! The filesystem a graded program sees: a read-only root with the system's programs and
//! libraries, the program's own binary, a few devices, a fresh `/proc` of the run's PID
//! namespace and a writable scratch directory; nothing of `/home`, `/root`, the machine's
//! `/tmp`, the checkout, `/sys` (so no cgroup tree) or `/proc` of the machine.
//!
//! Built in two halves, in the order bubblewrap uses (new mount namespace, mounts made
//! private, a tmpfs as the new root, bind mounts into it, `pivot_root`, the old root
//! detached), because the kernel mounts a `proc` in a user namespace only while a fully visible
//! one is in the mount namespace:
//!
//! 1. [`build`], once per sandbox process, in its new mount namespace: the tmpfs root (on the
//!    machine's `/tmp`, hidden in this namespace only), the bind mounts, each remounted
//!    read-only, `nosuid` and `nodev` (but the devices), a private `devpts`, then `pivot_root`
//!    with the old root kept at [`OLD_ROOT`], and the new root made read-only.
//! 2. [`enter_run`], in each repeat's init, in the repeat's own copy of that mount namespace:
//!    `proc` on `/proc` (the run's PID namespace: no machine pid, no `ns/` link of anything
//!    outside), the old root detached for good, and a fresh tmpfs on [`SCRATCH`], owned by the
//!    program's uid, as its working directory and `HOME`.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::mount::{MntFlags, MsFlags, mount, umount2};

use super::namespaces::{self, Access, Shown, bind, create_dir};

/// Where [`build`] assembles the new root, in the sandbox's own mount namespace.
const ASSEMBLY: &str = "/tmp";
/// Where the old root waits, inside the new one, until each run's init detaches it.
const OLD_ROOT: &str = "/oldroot";
/// The program's writable scratch directory: its working directory and `HOME`. Not `/tmp`
/// (which stays read-only and empty): a checkout may well live there (CI), and its programs
/// are bound at their own paths. A program under this path is refused.
pub const SCRATCH: &str = "/run/scratch";
/// The scratch tmpfs: 16 MiB, 1024 files, only the program's.
const SCRATCH_SIZE: &str = "size=16m,nr_inodes=1024,mode=0700";

/// What a dynamically linked program needs from the system: programs and libraries (or the
/// symbolic links that point into `/usr`, as they are on the machine).
/// (`/nix/store` holds them all on NixOS.)
pub(crate) const SYSTEM_DIRS: [&str; 9] = [
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/alternatives",
    "/nix/store",
];
/// The dynamic linker's cache (it finds libraries without it, more slowly).
const SYSTEM_FILES: [&str; 1] = ["/etc/ld.so.cache"];
/// Parts of `/proc` that configure the kernel, covered read-only.
const PROC_KNOBS: [&str; 4] = ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"];
/// Devices every program may use.
const DEVICES: [&str; 5] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// The program's binary, opened (`O_PATH`) while the sandbox still had the grader's access to
/// its folders, and where it is to appear.
pub struct Program {
    shown: Shown,
    path: PathBuf,
    /// One of the system's programs (under [`SYSTEM_DIRS`]), visible anyway.
    system: bool,
}

impl Program {
    pub fn open(path: &Path) -> Result<Program> {
        let fd = nix::fcntl::open(
            path,
            nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .with_context(|| format!("Failed to open the program {}", path.display()))?;
        let real = std::fs::canonicalize(path)
            .with_context(|| format!("Failed to resolve {}", path.display()))?;
        if !path.is_absolute() || path.starts_with(SCRATCH) {
            bail!(
                "the sandbox runs programs by absolute path outside {SCRATCH}, not {}",
                path.display()
            );
        }
        Ok(Program {
            shown: Shown::Handle { fd, is_dir: false },
            path: path.to_path_buf(),
            system: SYSTEM_DIRS.iter().any(|dir| real.starts_with(dir)),
        })
    }
}

/// Part 1: call in a fresh mount namespace of a fresh user namespace, with `/proc` still the
/// machine's. Afterwards `/` is the new root.
pub fn build(program: &Program) -> Result<()> {
    namespaces::make_mounts_private()?;
    let root = Path::new(ASSEMBLY);
    namespaces::mount_tmpfs(
        root,
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        "size=1m,nr_inodes=4096,mode=0755",
    )?;
    let inside = |path: &str| root.join(path.trim_start_matches('/'));
    for dir in [
        "/etc", "/dev", "/dev/pts", "/proc", "/tmp", SCRATCH, OLD_ROOT,
    ] {
        create_dir(&inside(dir))?;
    }
    // The system's symbolic links (`/bin -> usr/bin`) as links; its folders and files bound.
    for dir in SYSTEM_DIRS {
        Shown::open(Path::new(dir), true)?.show(&inside(dir), Access::READ_ONLY)?;
    }
    for file in SYSTEM_FILES {
        Shown::open(Path::new(file), false)?.show(&inside(file), Access::READ_ONLY)?;
    }
    let devices = Access {
        writable: false,
        devices: true,
    };
    for device in DEVICES {
        Shown::open(Path::new(device), false)?.show(&inside(device), devices)?;
    }
    // A private instance: the machine's terminals stay out of reach. Only the dialog steps use
    // a terminal, so a kernel that refuses it fails those steps, not the sandbox.
    let pts = inside("/dev/pts");
    if mount(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )
    .is_ok()
    {
        symlink("pts/ptmx", inside("/dev/ptmx")).context("Failed to link /dev/ptmx")?;
    }
    bind_program(program, root)?;
    namespaces::pivot(root, &inside(OLD_ROOT))?;
    namespaces::make_root_read_only()
}

/// Part 2: call in a run's init (pid 1 of its PID namespace) in its own copy of the mount
/// namespace [`build`] made; `ids` owns the scratch directory.
pub fn enter_run(ids: (u32, u32)) -> Result<()> {
    namespaces::mount_proc(Path::new("/proc"))?;
    cap_ipc_memory()?;
    // As bubblewrap does: the kernel's knobs under /proc read-only. Most only the machine's
    // root may write; the run's IPC caps (just set) their owner's uid may, which in the
    // self-mapped tier is also the program's.
    for knobs in PROC_KNOBS {
        let path = Path::new(knobs);
        if path.exists() {
            bind(path, path, Access::READ_ONLY)?;
        }
    }
    umount2(OLD_ROOT, MntFlags::MNT_DETACH).context("Failed to detach the machine's root")?;
    let (uid, gid) = ids;
    namespaces::mount_tmpfs(
        Path::new(SCRATCH),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        &format!("{SCRATCH_SIZE},uid={uid},gid={gid}"),
    )
}

/// The most memory all the segments of a run may hold together (the kernel's `shmall`).
pub const SEGMENT_MEMORY: u64 = 256 << 20;
/// The most message queues a run may make (`msgmni`; each holds at most `msgmnb`, 16 KiB).
pub const MESSAGE_QUEUES: u32 = 16;
/// The most semaphores a run may make, in at most as many sets (`sem`'s `semmns` and
/// `semmni`); at most 32 per set (`semmsl`) and 32 operations per `semop` (`semopm`).
pub const SEMAPHORES: u32 = 256;

/// Caps what the run's System V objects may hold, in the run's IPC namespace (the knobs of
/// `/proc/sys/kernel/{shmall,msgmni,sem}` belong to the IPC namespace of the process that
/// writes them). No address space counts them: a segment made and detached, a full message
/// queue, a set of 32000 semaphores (2 MB of the kernel's memory) all live until the
/// namespace ends, and a fresh namespace allows 16 EiB of segments, 500 MiB of messages and
/// 64 GB of semaphores. Past a cap the call fails with `ENOSPC`, as on a machine whose
/// objects are used up. The lab uses segments only; the others are allowed a little.
///
/// The kernel lets only the namespace's root (the machine's uid that uid 0 of the user
/// namespace owning it maps to) write them: init is that root in both tiers (as root the range's
/// 0; self-mapped, the caller's uid mapped to 0, the program's own namespace nested inside:
/// see `userns.rs`). The program cannot raise them again: `/proc/sys` is read-only to it (see
/// [`PROC_KNOBS`]), which matters in the self-mapped tier, where its uid on the machine is
/// that root's.
fn cap_ipc_memory() -> Result<()> {
    // SAFETY: sysconf only reads a value of the system; no memory is passed.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = u64::try_from(page)
        .ok()
        .filter(|&page| page > 0)
        .unwrap_or(4096);
    let sets = SEMAPHORES / 32;
    for (knob, value) in [
        ("shmall", (SEGMENT_MEMORY / page).to_string()),
        ("msgmni", MESSAGE_QUEUES.to_string()),
        ("sem", format!("32 {SEMAPHORES} 32 {sets}")),
    ] {
        let path = format!("/proc/sys/kernel/{knob}");
        std::fs::write(&path, value)
            .with_context(|| format!("Failed to cap the run's System V objects ({path})"))?;
    }
    Ok(())
}

/// Makes `program` appear at its own path in the new root (its folders empty but for it),
/// unless it is one of the system's programs, already there.
fn bind_program(program: &Program, root: &Path) -> Result<()> {
    if program.system {
        return Ok(());
    }
    let target = root.join(program.path.strip_prefix("/").unwrap_or(&program.path));
    program.shown.show(&target, Access::READ_ONLY)
}
