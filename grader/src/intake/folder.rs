//! A submission folder, walked into [`Entry`]s without following links.
//!
//! `target/` and hidden folders (`.git/`, `.cargo/`) are not walked: they are never sources,
//! and a checkout's `target/` alone can hold thousands of files. A `.rs` file is opened with
//! `O_NOFOLLOW | O_NONBLOCK` and must then be a regular file with no other hard link; anything
//! else is marked refused, which is an error only if the file would be taken.

use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{Budget, Entry, Kind, Limits, is_source_name};

pub fn entries(root: &Path, limits: &Limits) -> Result<Vec<Entry>> {
    let mut budget = Budget {
        limits,
        sources: 0,
        entries: 0,
        origin: root,
    };
    let mut entries = Vec::new();
    walk(root, PathBuf::new(), &mut budget, &mut entries)?;
    Ok(entries)
}

fn walk(
    root: &Path,
    relative: PathBuf,
    budget: &mut Budget,
    entries: &mut Vec<Entry>,
) -> Result<()> {
    let dir = root.join(&relative);
    let mut children: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("Failed to list {}", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("Failed to list {}", dir.display()))?;
    children.sort_by_key(std::fs::DirEntry::file_name);
    for child in children {
        budget.entry()?;
        let name = child.file_name();
        let path = relative.join(&name);
        let file_type = child
            .file_type()
            .with_context(|| format!("Failed to inspect {}", child.path().display()))?;
        let kind = if file_type.is_symlink() {
            Kind::Refused("a symbolic link".into())
        } else if file_type.is_dir() {
            if name == "target" || name.to_string_lossy().starts_with('.') {
                Kind::Skipped
            } else {
                entries.push(Entry {
                    path: path.clone(),
                    kind: Kind::Dir,
                });
                walk(root, path, budget, entries)?;
                continue;
            }
        } else if !file_type.is_file() {
            Kind::Refused("not a regular file".into())
        } else if is_source_name(&path) {
            read_source(&child.path(), &path, budget)?
        } else {
            Kind::File(None)
        };
        entries.push(Entry { path, kind });
    }
    Ok(())
}

fn read_source(full: &Path, relative: &Path, budget: &mut Budget) -> Result<Kind> {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(full)
    {
        Ok(file) => file,
        // Swapped for a link since it was listed.
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
            return Ok(Kind::Refused("a symbolic link".into()));
        }
        Err(error) => {
            return Err(error).with_context(|| format!("Failed to open {}", full.display()));
        }
    };
    let metadata = file
        .metadata()
        .with_context(|| format!("Failed to inspect {}", full.display()))?;
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
