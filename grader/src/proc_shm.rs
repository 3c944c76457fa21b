//! The kernel's table of shared-memory segments, `/proc/sysvipc/shm`, as typed rows.
//!
//! The file is what `ipcs -m` reads: one header line naming the columns, then one line per
//! segment of the *reader's* IPC namespace. Reading it (rather than probing keys with `shmget`)
//! shows every segment, including those already removed but still attached (key 0, `SHM_DEST`
//! set in `perms`), without changing any of them.
//!
//! The format has grown over the years (`rss` and `swap` came in Linux 2.6.x), so columns are
//! found by their header names, and the ones a kernel does not print read as 0. Two columns need
//! care: `perms` is printed in octal (`1666` is `SHM_DEST | 0o666`), and `key` is a signed
//! `key_t` that some kernels print as its unsigned 32-bit pattern (`4294967295` for `-1`).

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// Where the kernel publishes the table.
pub const PATH: &str = "/proc/sysvipc/shm";

/// One segment, one line of `/proc/sysvipc/shm`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShmEntry {
    /// The key; 0 (`IPC_PRIVATE`) once the segment is marked for destruction.
    pub key: i32,
    pub shmid: i32,
    /// Permission bits plus status bits such as `SHM_DEST` (`0o1000`), as the `perms` column
    /// shows them (in octal).
    pub perms: u32,
    pub size: u64,
    /// Creator and last attach/detach pids, in the reader's PID namespace.
    pub cpid: i32,
    pub lpid: i32,
    pub nattch: u64,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    /// Last attach, detach and change times, in seconds since the epoch (0: never).
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    /// Resident and swapped bytes (0 on kernels that do not print these columns).
    pub rss: u64,
    pub swap: u64,
}

impl ShmEntry {
    /// The permission bits alone (`0o666`), without `SHM_DEST` or other status bits.
    pub fn permissions(&self) -> u32 {
        self.perms & 0o777
    }

    /// True once `IPC_RMID` was done while the segment was still attached.
    pub fn marked_for_destruction(&self) -> bool {
        self.perms & sysv::SHM_DEST != 0
    }
}

/// Reads the table of the calling thread's IPC namespace.
pub fn read() -> Result<Vec<ShmEntry>> {
    let text = std::fs::read_to_string(PATH).with_context(|| {
        format!(
            "Failed to read {PATH} (is /proc mounted, and System V IPC enabled in this kernel?)"
        )
    })?;
    parse(&text).with_context(|| format!("Failed to parse {PATH}"))
}

/// The columns every kernel since 2.6 prints, in no particular order.
const REQUIRED: [&str; 14] = [
    "key", "shmid", "perms", "size", "cpid", "lpid", "nattch", "uid", "gid", "cuid", "cgid",
    "atime", "dtime", "ctime",
];

/// Parses the text of `/proc/sysvipc/shm` (header line first).
pub fn parse(text: &str) -> Result<Vec<ShmEntry>> {
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let Some(header) = lines.next() else {
        bail!("the table is empty: no header line");
    };
    let names: Vec<&str> = header.split_whitespace().collect();
    if let Some(missing) = REQUIRED.iter().find(|name| !names.contains(name)) {
        bail!("the header {header:?} has no {missing:?} column");
    }
    lines
        .enumerate()
        .map(|(index, line)| {
            parse_row(&names, line).with_context(|| format!("line {}: {line:?}", index + 2))
        })
        .collect()
}

fn parse_row(names: &[&str], line: &str) -> Result<ShmEntry> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < REQUIRED.len() || fields.len() > names.len() {
        bail!(
            "{} fields, but the header names {}",
            fields.len(),
            names.len()
        );
    }
    // A column the row is too short for (or the header lacks) reads as "0": older kernels.
    let field = |name: &str| -> &str {
        names
            .iter()
            .position(|n| *n == name)
            .and_then(|at| fields.get(at))
            .copied()
            .unwrap_or("0")
    };
    Ok(ShmEntry {
        key: parse_key(field("key"))?,
        shmid: number(field("shmid"), "shmid")?,
        perms: u32::from_str_radix(field("perms"), 8)
            .with_context(|| format!("perms {:?} is not an octal number", field("perms")))?,
        size: number(field("size"), "size")?,
        cpid: number(field("cpid"), "cpid")?,
        lpid: number(field("lpid"), "lpid")?,
        nattch: number(field("nattch"), "nattch")?,
        uid: number(field("uid"), "uid")?,
        gid: number(field("gid"), "gid")?,
        cuid: number(field("cuid"), "cuid")?,
        cgid: number(field("cgid"), "cgid")?,
        atime: number(field("atime"), "atime")?,
        dtime: number(field("dtime"), "dtime")?,
        ctime: number(field("ctime"), "ctime")?,
        rss: number(field("rss"), "rss")?,
        swap: number(field("swap"), "swap")?,
    })
}

/// A `key_t` printed either signed (`-1`) or as its unsigned bit pattern (`4294967295`).
fn parse_key(text: &str) -> Result<i32> {
    let wide: i64 = number(text, "key")?;
    i32::try_from(wide)
        .or_else(|_| u32::try_from(wide).map(|bits| bits as i32))
        .with_context(|| format!("key {text} does not fit in 32 bits"))
}

fn number<T: std::str::FromStr>(text: &str, column: &str) -> Result<T> {
    text.parse()
        .ok()
        .with_context(|| format!("{column} {text:?} is not a number of the expected range"))
}

#[cfg(test)]
mod tests;
