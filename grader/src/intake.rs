//! Intake: a submission, in whatever shape it came, reduced to its sources.
//!
//! `cargo grade --submission PATH` never builds the submission's own workspace: whatever
//! else it holds (manifests, `build.rs`, `.cargo/` configuration, a `target/` of prebuilt
//! binaries, its own `sysv/` or grader) could run code during the build or stand in for the
//! student's program. Intake takes only what a student edits, each exercise's
//! `src/**/*.rs` for the exercise folders `info.toml` lists (compiled into the grader), and
//! lists the rest as ignored, with the reason, for the report. The sources are then built in
//! a copy of the grader's own lab ([`crate::build::cache`], [`crate::build::jailed`]).
//!
//! # Accepted shapes
//!
//! - a **checkout** (a folder holding `exercises/`), or a zip, `.tar` or `.tar.gz` of one;
//! - the same **wrapped** in one folder (`alice/exercises/…`, as zipping a folder gives);
//! - **loose files** named by exercise: `create.rs`, `attach.rs`, … or `01-create.rs`, or
//!   folders named so (`create/`, `01-create/`) holding `main.rs` (or a `src/`) — in a folder
//!   or an archive. An exercise the submission lacks is graded as its original stub (not
//!   started) and listed as missing.
//!
//! The shape is read from the bytes (a zip, gzip or tar header), not from the file's name. A
//! folder holding a single archive and nothing else is read as that archive (an upload kept
//! as it came).
//!
//! # Limits, and what is refused
//!
//! Each refusal is an error naming the entry and the limit ([`Limits`]): an archive over
//! 32 MiB; one that would unpack to more than 256 MiB, or a source over 1 MiB, or more than
//! 8 MiB of sources (a zip bomb: sizes are checked as declared and again while unpacking, so a
//! lying header gains nothing); more than 10,000 entries; an entry whose path is absolute or
//! climbs out with `..`; a symbolic link, hard link or device in an archive. In a folder, only
//! what would be taken is inspected: a symbolic link or a file with other hard links there is
//! refused (following it could read a file outside the submission); `target/` and hidden
//! folders are not even walked. Files are opened with `O_NOFOLLOW` and must be regular files.
//!
//! # Why these crates
//!
//! `zip` (zip-rs/zip2, the maintained continuation of the original crate) and `tar` with
//! `flate2` (both rust-lang owned) are the ecosystem's standard readers; only their
//! parsers are used — nothing is ever extracted to disk by them, so their extraction code's
//! path handling is not relied on. `zip` is built with deflate only (what every zip tool
//! writes), keeping the dependency tree small.

mod archive;
mod folder;
mod layout;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use crate::build::jailed::Sources;

/// The limits of intake; [`Limits::default`] is what `--submission` uses.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Size of an archive file.
    pub archive_bytes: u64,
    /// Everything an archive unpacks to (declared, and as actually unpacked).
    pub unpacked_bytes: u64,
    /// Entries (files and folders) in an archive or a walked folder.
    pub entries: usize,
    /// One source file.
    pub source_bytes: u64,
    /// All `.rs` files read, together.
    pub sources_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            archive_bytes: 32 << 20,
            unpacked_bytes: 256 << 20,
            entries: 10_000,
            source_bytes: 1 << 20,
            sources_bytes: 8 << 20,
        }
    }
}

/// What a submission was found to hold.
#[derive(Clone, Debug, Default)]
pub struct Submission {
    /// The sources taken, by exercise folder.
    pub sources: Sources,
    /// What was left out, one line each: `target/ (prebuilt binaries)`.
    pub ignored: Vec<String>,
    /// Exercises the submission has no sources for (graded as the original stub).
    pub missing: Vec<String>,
}

/// One file or folder of the submission, by its path relative to the submission's root.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub path: PathBuf,
    pub kind: Kind,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// A regular file; the bytes of `.rs` files are read (within the limits).
    File(Option<Vec<u8>>),
    Dir,
    /// A folder that was not walked (`target/`, hidden folders).
    Skipped,
    /// A symbolic link, a file with other hard links, or something else that is not a plain
    /// file: refused if it would be taken.
    Refused(String),
}

/// Reads the submission at `path` with the default limits.
pub fn read(path: &Path) -> Result<Submission> {
    read_with(path, Limits::default())
}

/// Reads the submission at `path`: a folder, an archive, or one `.rs` file named by exercise.
pub fn read_with(path: &Path, limits: Limits) -> Result<Submission> {
    let metadata = std::fs::metadata(path)
        .with_context(|| format!("Failed to find the submission {}", path.display()))?;
    let entries = if metadata.is_dir() {
        let entries = folder::entries(path, &limits)?;
        // A folder holding one archive and nothing else (an upload kept as it came): the
        // archive is the submission.
        if let [
            Entry {
                path: name,
                kind: Kind::File(None),
            },
        ] = &entries[..]
            && has_archive_bytes(&path.join(name))
        {
            return read_with(&path.join(name), limits);
        }
        entries
    } else {
        if metadata.len() > limits.archive_bytes {
            bail!(
                "{} is {}, over the {} limit for a submission; leave target/ and .git/ out of it",
                path.display(),
                size(metadata.len()),
                size(limits.archive_bytes)
            );
        }
        let bytes =
            std::fs::read(path).with_context(|| format!("Failed to read {}", path.display()))?;
        match archive::Format::detect(&bytes) {
            Some(format) => archive::entries(path, format, bytes, &limits)?,
            None if path.extension().is_some_and(|extension| extension == "rs") => {
                let name = path.file_name().context("a file has a name")?;
                vec![Entry {
                    path: name.into(),
                    kind: Kind::File(Some(bytes)),
                }]
            }
            None => bail!(
                "{} is neither a folder, a zip, a .tar nor a .tar.gz; pass the checkout's folder or an archive of it",
                path.display()
            ),
        }
    };
    layout::classify(path, entries)
}

/// Whether the file starts like a zip, gzip or tar archive.
fn has_archive_bytes(path: &Path) -> bool {
    use std::io::Read as _;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(512).read_to_end(&mut head))
        .is_ok_and(|_| archive::Format::detect(&head).is_some())
}

/// Checks an archive entry's path: relative, with no `..`; the clean path.
pub(crate) fn safe_path(archive: &Path, name: &str) -> Result<PathBuf> {
    // Some Windows tools write `\` between folders, which zip does not allow; read it as `/`.
    let slashes = name.replace('\\', "/");
    let path = Path::new(&slashes);
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::Normal(part) => clean.push(part),
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => bail!(
                "{}: the entry {name:?} climbs out of the archive with `..`; refused: a submission's files stay inside it",
                archive.display()
            ),
            std::path::Component::RootDir | std::path::Component::Prefix(_) => bail!(
                "{}: the entry {name:?} is an absolute path; refused: a submission's files stay inside it",
                archive.display()
            ),
        }
    }
    Ok(clean)
}

/// Sizes for people: `1.5 MiB`.
pub(crate) fn size(bytes: u64) -> String {
    const MIB: f64 = (1 << 20) as f64;
    if bytes >= 1 << 20 {
        format!("{:.0} MiB", bytes as f64 / MIB)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// Counts what is read against the limits on all `.rs` files together.
pub(crate) struct Budget<'a> {
    pub limits: &'a Limits,
    pub sources: u64,
    pub entries: usize,
    pub origin: &'a Path,
}

impl Budget<'_> {
    pub fn entry(&mut self) -> Result<()> {
        self.entries += 1;
        if self.entries > self.limits.entries {
            bail!(
                "{} holds more than {} files and folders; refused (a checkout has a few dozen: leave target/ and .git/ out)",
                self.origin.display(),
                self.limits.entries
            );
        }
        Ok(())
    }

    /// Reads at most the per-file limit from `reader` for the source `name`.
    pub fn read_source(&mut self, name: &str, reader: impl std::io::Read) -> Result<Vec<u8>> {
        use std::io::Read as _;
        let mut bytes = Vec::new();
        reader
            .take(self.limits.source_bytes + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("Failed to read {name} in {}", self.origin.display()))?;
        if bytes.len() as u64 > self.limits.source_bytes {
            bail!(
                "{}: {name} is over the {} limit for one source file; refused",
                self.origin.display(),
                size(self.limits.source_bytes)
            );
        }
        self.sources += bytes.len() as u64;
        if self.sources > self.limits.sources_bytes {
            bail!(
                "{}: its .rs files come to more than {} (at {name}); refused",
                self.origin.display(),
                size(self.limits.sources_bytes)
            );
        }
        Ok(bytes)
    }
}

/// Whether the file at `path` is read at all: only `.rs` files can be sources.
pub(crate) fn is_source_name(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "rs")
}

/// Used by [`layout`]: the sources of one exercise, by path under its `src/`.
pub(crate) type ExerciseSources = BTreeMap<PathBuf, Vec<u8>>;
