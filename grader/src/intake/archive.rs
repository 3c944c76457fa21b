//! Zip and tar (plain or gzip) archives, read in memory into [`Entry`]s: every path checked,
//! links refused, sizes bounded as declared and as unpacked.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::{Budget, Entry, Kind, Limits, is_source_name, safe_path, size};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Zip,
    Tar,
    TarGz,
}

impl Format {
    /// From the first bytes: `PK` (zip), `1f 8b` (gzip), `ustar` at 257 (tar).
    pub fn detect(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
            Some(Format::Zip)
        } else if bytes.starts_with(&[0x1f, 0x8b]) {
            Some(Format::TarGz)
        } else if bytes.get(257..262) == Some(b"ustar") {
            Some(Format::Tar)
        } else {
            None
        }
    }
}

pub fn entries(
    origin: &Path,
    format: Format,
    bytes: Vec<u8>,
    limits: &Limits,
) -> Result<Vec<Entry>> {
    let mut budget = Budget {
        limits,
        sources: 0,
        entries: 0,
        origin,
    };
    match format {
        Format::Zip => zip_entries(origin, bytes, &mut budget),
        Format::Tar => tar_entries(origin, &bytes[..], &mut budget),
        Format::TarGz => {
            let unpacked = Bounded {
                inner: flate2::read::GzDecoder::new(&bytes[..]),
                left: limits.unpacked_bytes,
            };
            tar_entries(origin, unpacked, &mut budget)
        }
    }
}

fn zip_entries(origin: &Path, bytes: Vec<u8>, budget: &mut Budget) -> Result<Vec<Entry>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .with_context(|| format!("{} is not a readable zip", origin.display()))?;
    // The declared sizes first: a bomb is refused before anything is unpacked.
    let mut declared: u64 = 0;
    for index in 0..archive.len() {
        budget.entry()?;
        let file = archive
            .by_index_raw(index)
            .with_context(|| format!("Failed to read entry {index} of {}", origin.display()))?;
        declared = declared.saturating_add(file.size());
        if declared > budget.limits.unpacked_bytes {
            bail!(
                "{}: unpacks to more than {} (the entry {:?} alone declares {}): refused as a zip bomb; a checkout's sources are a few KiB (leave target/ out)",
                origin.display(),
                size(budget.limits.unpacked_bytes),
                file.name(),
                size(file.size())
            );
        }
    }
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        // The header only: an entry that is not a source is never unpacked (nor needs to be
        // compressed in a way this grader can unpack).
        let (name, mode, is_dir) = {
            let file = archive
                .by_index_raw(index)
                .with_context(|| format!("Failed to read entry {index} of {}", origin.display()))?;
            (
                file.name().to_string(),
                file.unix_mode().unwrap_or(0),
                file.is_dir(),
            )
        };
        let path = safe_path(origin, &name)?;
        let kind = if mode & 0o170000 == 0o120000 {
            bail!(
                "{}: the entry {name:?} is a symbolic link; refused: an archive's files must be plain files",
                origin.display()
            );
        } else if is_dir {
            Kind::Dir
        } else if is_source_name(&path) {
            let file = archive
                .by_index(index)
                .with_context(|| format!("Failed to unpack {name:?} in {}", origin.display()))?;
            // `take` inside read_source bounds what is unpacked, whatever the header says.
            Kind::File(Some(budget.read_source(&name, file)?))
        } else {
            Kind::File(None)
        };
        entries.push(Entry { path, kind });
    }
    Ok(entries)
}

fn tar_entries(origin: &Path, reader: impl Read, budget: &mut Budget) -> Result<Vec<Entry>> {
    let mut archive = tar::Archive::new(reader);
    let mut entries = Vec::new();
    let list = archive
        .entries()
        .with_context(|| format!("{} is not a readable tar archive", origin.display()))?;
    for entry in list {
        let entry = entry.map_err(|error| unpack_error(origin, budget.limits, error))?;
        budget.entry()?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = safe_path(origin, &name)?;
        let kind = match entry.header().entry_type() {
            tar::EntryType::Directory => Kind::Dir,
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if is_source_name(&path) {
                    Kind::File(Some(budget.read_source(&name, entry)?))
                } else {
                    Kind::File(None)
                }
            }
            tar::EntryType::Symlink => bail!(
                "{}: the entry {name:?} is a symbolic link; refused: an archive's files must be plain files",
                origin.display()
            ),
            tar::EntryType::Link => bail!(
                "{}: the entry {name:?} is a hard link; refused: an archive's files must be plain files",
                origin.display()
            ),
            // pax and GNU headers are read by the tar crate itself.
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => continue,
            other => bail!(
                "{}: the entry {name:?} is not a file or a folder ({other:?}); refused",
                origin.display()
            ),
        };
        entries.push(Entry { path, kind });
    }
    Ok(entries)
}

/// An error of the gzip stream: the unpacking limit, said as such, or a broken archive.
fn unpack_error(origin: &Path, limits: &Limits, error: std::io::Error) -> anyhow::Error {
    if error.kind() == std::io::ErrorKind::FileTooLarge {
        anyhow::anyhow!(
            "{}: unpacks to more than {}: refused as an archive bomb; a checkout's sources are a few KiB (leave target/ out)",
            origin.display(),
            size(limits.unpacked_bytes)
        )
    } else {
        anyhow::Error::new(error).context(format!("{} is not a readable archive", origin.display()))
    }
}

/// A reader that fails (`FileTooLarge`) past `left` bytes: the gzip stream is unpacked only
/// as far as the limit.
struct Bounded<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One byte more than allowed means the stream goes on: refuse it.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::ErrorKind::FileTooLarge.into()),
            };
        }
        let wanted = buffer
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buffer[..wanted])?;
        self.left -= read as u64;
        Ok(read)
    }
}
