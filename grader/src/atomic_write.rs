//! Replacing a file all at once: the progress file, the reports written with `--output`, the
//! class's gradebook, the Gradescope bundle. The crate's one way to replace a file.
//!
//! The new contents go to a temporary file in the *target's* folder, are flushed to disk, and
//! the temporary file is renamed over the target. A rename within one file system is atomic,
//! so a reader (or a crash, or a full disk) sees the old file or the new one, never half of
//! each. The folder must be the target's: a rename cannot cross file systems, and the target
//! may well be elsewhere than the checkout (`SHMLAB_STATE` exists for read-only checkouts).
//! On any failure the temporary file is removed (`tempfile` deletes it when dropped); each
//! writer gets a temporary file of its own, so two writers of one target do not mix.

use std::fs::{File, Permissions};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use anyhow::{Context as _, Result};

/// Writes `contents` to `path` atomically (see the module docs). The file gets the mode a
/// plain `File::create` would give it (0666 less the umask).
pub fn write_atomically(path: &Path, contents: &str) -> Result<()> {
    write_atomically_with(path, |file| {
        file.write_all(contents.as_bytes())
            .with_context(|| format!("Failed to write {}", path.display()))
    })
}

/// [`write_atomically`], with the contents written by `write` into the temporary file (for
/// contents made as they are written, such as a zip).
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<()>,
) -> Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".")
        .suffix(".tmp")
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(folder)
        .with_context(|| {
            format!(
                "Failed to create a temporary file in {} to write {}",
                folder.display(),
                path.display()
            )
        })?;
    write(temporary.as_file_mut())?;
    // Flush to disk before the rename, or a crash could leave an empty file under the final name.
    temporary
        .as_file()
        .sync_all()
        .with_context(|| format!("Failed to flush {}", temporary.path().display()))?;
    temporary
        .persist(path)
        .map_err(|failed| failed.error)
        .with_context(|| format!("Failed to replace {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_leaves_the_new_contents_and_no_temporary_file() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("results.json");
        write_atomically(&path, "first").expect("write");
        write_atomically(&path, "second").expect("replace");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "second");
        let names: Vec<_> = std::fs::read_dir(folder.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["results.json"], "no temporary file left");
    }

    #[test]
    fn the_mode_is_the_usual_one() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("report.json");
        write_atomically(&path, "{}").expect("write");
        let plain = folder.path().join("plain");
        std::fs::File::create(&plain).expect("create");
        let mode = |path: &Path| std::fs::metadata(path).expect("stat").permissions().mode();
        assert_eq!(mode(&path), mode(&plain));
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("bundle.zip");
        write_atomically(&path, "old").expect("write");
        let failed = write_atomically_with(&path, |file| {
            file.write_all(b"half").expect("write");
            anyhow::bail!("the writer failed")
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
        assert_eq!(std::fs::read_dir(folder.path()).expect("list").count(), 1);
    }
}
