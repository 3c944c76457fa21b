//! The steps of building a jail that the run sandbox (`rootfs.rs`, `userns.rs`) and the build
//! jail (`crate::build::jail`) both take, each written once: unsharing namespaces, writing id
//! maps, the mounts of a new root (private propagation, a tmpfs, paths of the machine shown
//! as links or bind mounts made read-only, `/proc`), `pivot_root`, the root made read-only,
//! the hostname. (Dropping every capability is
//! `confine::drop_privileges`.)
//!
//! The order they are called in is each caller's, in the order bubblewrap uses: a new user
//! namespace and its maps, a new mount namespace with every mount private, a tmpfs as the new
//! root, bind mounts into it, `/proc`, `pivot_root`, the old root detached, the root read-only.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::mount::{MsFlags, mount};
use nix::sched::CloneFlags;
use nix::unistd::{Gid, Uid, setresgid, setresuid};

/// `unshare(flags)`, its error naming the flags (`unshare(CLONE_NEWNS | CLONE_NEWNET)`).
pub(crate) fn unshare(flags: CloneFlags) -> Result<()> {
    nix::sched::unshare(flags).with_context(|| {
        let names: Vec<&str> = flags.iter_names().map(|(name, _)| name).collect();
        format!("unshare({})", names.join(" | "))
    })
}

/// A user namespace's uid and gid maps: `count` ids from `inside` (uid, gid) stand for as many
/// from `outside`.
pub(crate) struct IdMap {
    pub inside: (u32, u32),
    pub outside: (u32, u32),
    pub count: u32,
}

/// Writes the maps of `process` (`self`, or the pid of a child that has just unshared its user
/// namespace). With `deny_setgroups`, denies `setgroups` there first, which an unprivileged
/// writer must do before it may write a gid map (absent before Linux 3.19).
pub(crate) fn write_id_maps(process: &str, map: &IdMap, deny_setgroups: bool) -> Result<()> {
    let dir = Path::new("/proc").join(process);
    if deny_setgroups {
        let path = dir.join("setgroups");
        match std::fs::write(&path, "deny") {
            Err(error) if error.kind() != ErrorKind::NotFound => {
                return Err(error)
                    .with_context(|| format!("Failed to write \"deny\" to {}", path.display()));
            }
            _ => {}
        }
    }
    let ((uid, gid), (host_uid, host_gid), count) = (map.inside, map.outside, map.count);
    for (file, line) in [
        ("uid_map", format!("{uid} {host_uid} {count}")),
        ("gid_map", format!("{gid} {host_gid} {count}")),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, &line)
            .with_context(|| format!("Failed to write {line:?} to {}", path.display()))?;
    }
    Ok(())
}

/// Takes uid and gid 0 (real, effective and saved) of the caller's user namespace, whose
/// maps must be written, keeping the capabilities it has there. The change of credentials
/// clears the parent-death signal: asked again (`SIGKILL`).
pub(crate) fn become_root() -> Result<()> {
    let (uid, gid) = (Uid::from_raw(0), Gid::from_raw(0));
    setresgid(gid, gid, gid).context("Failed to become gid 0 of the user namespace")?;
    setresuid(uid, uid, uid).context("Failed to become uid 0 of the user namespace")?;
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .context("Failed to set PDEATHSIG")
}

/// Sets the UTS namespace's hostname.
pub(crate) fn set_hostname(name: &str) -> Result<()> {
    // SAFETY: the pointer and length describe `name`, which the kernel only reads.
    nix::errno::Errno::result(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) })
        .map(drop)
        .with_context(|| format!("Failed to set the hostname to {name}"))
}

/// Makes every mount of the (new) mount namespace private: nothing mounted here reaches the
/// machine's namespace, nor the other way.
pub(crate) fn make_mounts_private() -> Result<()> {
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .context("Failed to make the mounts private")
}

/// Mounts a tmpfs on `at` with `flags` and `options` (`size=16m,mode=0755`).
pub(crate) fn mount_tmpfs(at: &Path, flags: MsFlags, options: &str) -> Result<()> {
    mount(Some("tmpfs"), at, Some("tmpfs"), flags, Some(options))
        .with_context(|| format!("Failed to mount a tmpfs on {}", at.display()))
}

/// Mounts a `proc` of the caller's PID namespace on `at`.
pub(crate) fn mount_proc(at: &Path) -> Result<()> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("proc"), at, Some("proc"), flags, None::<&str>)
        .with_context(|| format!("Failed to mount /proc on {}", at.display()))
}

/// What a bind mount allows.
#[derive(Clone, Copy)]
pub(crate) struct Access {
    /// Left writable (else made read-only, with what is mounted under it).
    pub writable: bool,
    /// Device files work (else `nodev`).
    pub devices: bool,
}

impl Access {
    pub const READ_ONLY: Access = Access {
        writable: false,
        devices: false,
    };
}

/// Bind-mounts `source` (with what is mounted under it) on `target`, which exists, then
/// remounts it `nosuid` (and `nodev` unless `access.devices`); unless `access.writable`, also
/// read-only, with each mount under it. Keeps the flags the kernel locked (e.g. `noexec`
/// inherited from the machine): an unprivileged remount may add restrictions, not lift them.
pub(crate) fn bind(source: &Path, target: &Path, access: Access) -> Result<()> {
    let none: Option<&str> = None;
    mount(
        Some(source),
        target,
        none,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        none,
    )
    .with_context(|| {
        format!(
            "Failed to bind {} at {}",
            source.display(),
            target.display()
        )
    })?;
    let mut mounts = vec![target.to_path_buf()];
    if !access.writable && target.is_dir() {
        // (A file has nothing mounted under it: no need to read the mount table.)
        mounts.extend(submounts(target));
    }
    for mount_point in mounts {
        let current = nix::sys::statvfs::statvfs(&mount_point)
            .with_context(|| format!("Failed to read the flags of {}", mount_point.display()))?;
        let mut flags = MsFlags::MS_REMOUNT
            | MsFlags::MS_BIND
            | MsFlags::MS_NOSUID
            | locked_flags(current.flags());
        if !access.writable {
            flags |= MsFlags::MS_RDONLY;
        }
        if !access.devices {
            flags |= MsFlags::MS_NODEV;
        }
        mount(none, &mount_point, none, flags, none)
            .with_context(|| format!("Failed to remount {}", mount_point.display()))?;
    }
    Ok(())
}

/// A path of the machine to show in a new root, looked up first: opened (`O_PATH`) while the
/// caller still has its rights over the folders on the way (before its ids change, or before
/// the machine's root is out of sight), and shown later from that handle.
pub(crate) enum Shown {
    /// The machine has no such path: nothing to show.
    Missing,
    /// A symbolic link (merged /usr: `/bin -> usr/bin`), shown as the same link.
    Link(PathBuf),
    /// A file or folder, bound from this handle.
    Handle { fd: OwnedFd, is_dir: bool },
}

impl Shown {
    /// Looks `path` up; a symbolic link is shown as a link if `keep_link`, else followed.
    pub fn open(path: &Path, keep_link: bool) -> Result<Shown> {
        let Ok(metadata) = path.symlink_metadata() else {
            return Ok(Shown::Missing);
        };
        if metadata.file_type().is_symlink() && keep_link {
            let link = std::fs::read_link(path)
                .with_context(|| format!("Failed to read the link {}", path.display()))?;
            return Ok(Shown::Link(link));
        }
        Ok(Shown::Handle {
            fd: open_path(path)?,
            is_dir: path.is_dir(),
        })
    }

    /// Makes it appear at `at` (a path under the new root, made here with the folders on its
    /// way: a folder or an empty file, like the source), bound with `access`.
    pub fn show(&self, at: &Path, access: Access) -> Result<()> {
        match self {
            Shown::Missing => Ok(()),
            Shown::Link(link) => {
                if let Some(parent) = at.parent() {
                    create_dir(parent)?;
                }
                std::os::unix::fs::symlink(link, at)
                    .with_context(|| format!("Failed to make the link {}", at.display()))
            }
            Shown::Handle { fd, is_dir } => {
                if *is_dir {
                    create_dir(at)?;
                } else {
                    if let Some(parent) = at.parent() {
                        create_dir(parent)?;
                    }
                    create_file(at)?;
                }
                // The magic link resolves to the file itself, whatever folders lie on its path.
                let source = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
                bind(&source, at, access)
            }
        }
    }
}

/// Opens `path` with `O_PATH` (no right to read it needed, only to reach it).
fn open_path(path: &Path) -> Result<OwnedFd> {
    nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .with_context(|| format!("Failed to open {}", path.display()))
}

/// Makes `root` (a mount point) the root, the old one kept at `old_root` (a folder under
/// `root`, as the caller sees it now), and enters it.
pub(crate) fn pivot(root: &Path, old_root: &Path) -> Result<()> {
    nix::unistd::chdir(root)
        .with_context(|| format!("Failed to enter the new root {}", root.display()))?;
    nix::unistd::pivot_root(".", old_root).context("Failed to pivot_root")?;
    nix::unistd::chdir("/").context("Failed to enter /")
}

/// Makes the root mount read-only, `nosuid` and `nodev` (the mounts under it keep theirs).
pub(crate) fn make_root_read_only() -> Result<()> {
    let none: Option<&str> = None;
    let flags = MsFlags::MS_REMOUNT
        | MsFlags::MS_BIND
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV;
    mount(none, "/", none, flags, none).context("Failed to make the root read-only")
}

/// Creates the folder `path` and those on its way.
pub(crate) fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).with_context(|| format!("Failed to create {}", path.display()))
}

/// Creates an empty file at `path` (a mount point for a file).
fn create_file(path: &Path) -> Result<()> {
    std::fs::File::create(path)
        .map(drop)
        .with_context(|| format!("Failed to create {}", path.display()))
}

/// The flags a remount must keep: an unprivileged remount may add restrictions, not lift them.
fn locked_flags(current: nix::sys::statvfs::FsFlags) -> MsFlags {
    use nix::sys::statvfs::FsFlags;
    let mut flags = MsFlags::empty();
    for (has, keep) in [
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if current.contains(has) {
            flags |= keep;
        }
    }
    flags
}

/// The mount points strictly under `dir`, from `/proc/self/mountinfo`.
fn submounts(dir: &Path) -> Vec<PathBuf> {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    info.lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_mount_point)
        .filter(|point| point != dir && point.starts_with(dir))
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as octal escapes (`\040`).
fn unescape_mount_point(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        // Only a backslash starts an escape (each run reads the table: keep the rest cheap).
        let octal = (bytes[at] == b'\\')
            .then(|| bytes.get(at + 1..at + 4))
            .flatten()
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u8::from_str_radix(digits, 8).ok());
        match (bytes[at], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                at += 4;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    PathBuf::from(OsString::from_vec(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_lose_their_octal_escapes_and_keep_the_rest() {
        assert_eq!(unescape_mount_point("/usr/lib"), PathBuf::from("/usr/lib"));
        assert_eq!(
            unescape_mount_point("/a\\040b\\134c\\011"),
            PathBuf::from("/a b\\c\t")
        );
        // A backslash not followed by three octal digits stays as it is.
        assert_eq!(unescape_mount_point("/a\\9x\\"), PathBuf::from("/a\\9x\\"));
    }
}
