//! A submission folder, walked into [`Entry`]s without following links.
//!
//! `target/` and hidden folders (`.git/`, `.cargo/`) are not walked: they are never sources,
//! and a checkout's `target/` alone can hold thousands of files. The walk holds each folder
//! open and opens what is in it relative to that handle (`openat` with `O_NOFOLLOW`), so a
//! student who swaps a folder or a file for a link while the grader reads cannot make it read
//! outside the submission. A `.rs` file must be a regular file with no other hard link;
//! anything else is marked refused, which is an error only if the file would be taken.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::Mode;

use super::{Budget, Entry, Kind, Limits, is_source_name};

pub fn entries(root: &Path, limits: &Limits) -> Result<Vec<Entry>> {
    let mut budget = Budget {
        limits,
        sources: 0,
        entries: 0,
        origin: root,
    };
    let mut entries = Vec::new();
    let dir = nix::fcntl::open(
        root,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("Failed to open {}", root.display()))?;
    walk(root, &dir, PathBuf::new(), &mut budget, &mut entries)?;
    Ok(entries)
}

/// Opens `name` in the folder `dir`, never through a link; `None` if it is (now) a link.
fn open_in(dir: &OwnedFd, name: &std::ffi::OsStr, flags: OFlag) -> Result<Option<OwnedFd>> {
    match openat(
        dir,
        name,
        flags | OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::ELOOP | Errno::ENOTDIR) => Ok(None),
        Err(errno) => {
            Err(errno).with_context(|| format!("Failed to open {}", Path::new(name).display()))
        }
    }
}

fn walk(
    root: &Path,
    dir: &OwnedFd,
    relative: PathBuf,
    budget: &mut Budget,
    entries: &mut Vec<Entry>,
) -> Result<()> {
    let shown = root.join(&relative);
    // The open folder's listing, through its handle.
    let mut children: Vec<_> = std::fs::read_dir(format!("/proc/self/fd/{}", dir.as_raw_fd()))
        .with_context(|| format!("Failed to list {}", shown.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("Failed to list {}", shown.display()))?;
    children.sort_by_key(std::fs::DirEntry::file_name);
    for child in children {
        budget.entry()?;
        let name = child.file_name();
        let path = relative.join(&name);
        let file_type = child
            .file_type()
            .with_context(|| format!("Failed to inspect {}", shown.join(&name).display()))?;
        let kind = if file_type.is_symlink() {
            Kind::Refused("a symbolic link".into())
        } else if file_type.is_dir() {
            if name == "target" || name.to_string_lossy().starts_with('.') {
                Kind::Skipped
            } else if let Some(child) = open_in(dir, &name, OFlag::O_DIRECTORY)? {
                entries.push(Entry {
                    path: path.clone(),
                    kind: Kind::Dir,
                });
                walk(root, &child, path, budget, entries)?;
                continue;
            } else {
                Kind::Refused("a symbolic link".into())
            }
        } else if !file_type.is_file() {
            Kind::Refused("not a regular file".into())
        } else if is_source_name(&path) {
            read_source(dir, &name, &path, budget)?
        } else {
            Kind::File(None)
        };
        entries.push(Entry { path, kind });
    }
    Ok(())
}

fn read_source(
    dir: &OwnedFd,
    name: &std::ffi::OsStr,
    relative: &Path,
    budget: &mut Budget,
) -> Result<Kind> {
    // O_NONBLOCK: a FIFO put there does not hang the grader (and is refused below).
    let Some(fd) = open_in(dir, name, OFlag::O_NONBLOCK)? else {
        return Ok(Kind::Refused("a symbolic link".into()));
    };
    let file = std::fs::File::from(fd);
    let metadata = file
        .metadata()
        .with_context(|| format!("Failed to inspect {}", relative.display()))?;
    if !metadata.is_file() {
        return Ok(Kind::Refused("not a regular file".into()));
    }
    if metadata.nlink() > 1 {
        return Ok(Kind::Refused(format!(
            "a hard link ({} names for one file)",
            metadata.nlink()
        )));
    }
    Ok(Kind::File(Some(
        budget.read_source(&relative.display().to_string(), file)?,
    )))
}
