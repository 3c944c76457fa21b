//! Old dependency caches are collected: each change of `sysv`, of the toolchain or of the
//! grader makes a new cache (a new key), and the old ones, 30-odd MB each, would pile up in
//! `shmlab-build/`.
//!
//! **Never one in use.** A grader holds a shared `flock` on its cache's folder for as long as
//! it builds on it ([`InUse`]): a batch for the whole class, `--submission` for its run. The
//! collector removes a cache only if it can lock it exclusively, and only after renaming it out
//! of the way while it holds that lock; a grader that locks a cache checks afterwards that the
//! folder is still the one at the cache's path, so it never builds on a cache being removed
//! (it builds the cache again instead).
//!
//! **Which ones.** The current cache stays, and so does any cache newer than it (another
//! checkout or toolchain sharing the target folder, built since: it is somebody's current one).
//! Older caches go. Unfinished builds (`KEY.partial`) and the collector's own leftovers
//! (`KEY.old-PID`) go too, but only while the collector holds the build lock (`.lock`), under
//! which every cache is built: none of them can be in the making then. A collector that does
//! not get the build lock at once leaves them for the next one.

use std::fs::File;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use nix::fcntl::{Flock, FlockArg};

/// A shared lock on a cache's folder: while it is held, no collector removes the cache.
#[derive(Debug)]
pub struct InUse {
    _lock: Flock<File>,
}

impl InUse {
    /// Locks the cache folder `dir` (waiting while a collector holds it); `None` when there is
    /// no folder there, or no longer the one locked (a collector took it meanwhile).
    pub fn lock(dir: &Path) -> Result<Option<InUse>> {
        let Ok(folder) = File::open(dir) else {
            return Ok(None);
        };
        let locked = folder
            .metadata()
            .with_context(|| format!("Failed to read {}", dir.display()))?;
        let lock = Flock::lock(folder, FlockArg::LockShared)
            .map_err(|(_, errno)| errno)
            .with_context(|| format!("Failed to lock {}", dir.display()))?;
        let still_there = std::fs::metadata(dir)
            .is_ok_and(|now| now.dev() == locked.dev() && now.ino() == locked.ino());
        Ok(still_there.then_some(InUse { _lock: lock }))
    }
}

/// Whether a folder name is a cache's key (16 hexadecimal digits).
fn is_key(name: &str) -> bool {
    name.len() == 16 && name.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// Removes, from the caches' folder `base`, the caches older than `current` that nobody uses;
/// with `build_lock_held`, also unfinished builds and earlier collectors' leftovers. Best
/// effort: a cache that cannot be removed now is left for the next time. Returns the names
/// removed.
pub fn collect_old(base: &Path, current: &str, build_lock_held: bool) -> Vec<String> {
    let Ok(current_time) = std::fs::metadata(base.join(current)).and_then(|m| m.modified()) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(base) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let gone = if is_key(&name) {
            let older = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|time| time < current_time);
            name != current
                && older
                && remove_unused(&path, &format!("{name}.old-{}", std::process::id()))
        } else {
            let leftover = name.split_once('.').is_some_and(|(key, rest)| {
                is_key(key) && (rest == "partial" || rest.starts_with("old-"))
            });
            build_lock_held && leftover && std::fs::remove_dir_all(&path).is_ok()
        };
        if gone {
            removed.push(name);
        }
    }
    removed
}

/// Removes the cache `dir` if nobody holds it: locked exclusively (at once, or not at all),
/// renamed to `trash` beside it, then removed.
fn remove_unused(dir: &Path, trash: &str) -> bool {
    let Ok(folder) = File::open(dir) else {
        return false;
    };
    let Ok(lock) = Flock::lock(folder, FlockArg::LockExclusiveNonblock) else {
        return false; // in use
    };
    let trash = dir.with_file_name(trash);
    let renamed = std::fs::rename(dir, &trash).is_ok();
    drop(lock);
    renamed && std::fs::remove_dir_all(&trash).is_ok()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    /// A cache folder named `key` whose time is `age` before now.
    fn cache(base: &Path, key: &str, age: Duration) {
        let dir = base.join(key);
        std::fs::create_dir_all(dir.join("target/debug")).expect("create a cache");
        std::fs::write(dir.join("target/debug/libsysv.rlib"), "built").expect("a file");
        File::open(&dir)
            .expect("open the folder")
            .set_modified(SystemTime::now() - age)
            .expect("set its time");
    }

    fn names(base: &Path) -> Vec<String> {
        let entries = std::fs::read_dir(base).expect("list").flatten();
        let mut names: Vec<String> = entries
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    const CURRENT: &str = "0000000000000c0e";
    const OLDER: &str = "00000000000001d0";
    const NEWER: &str = "000000000000ae00";
    const IN_USE: &str = "0000000000000b5e";

    #[test]
    fn older_unused_caches_go_the_current_newer_and_used_ones_stay() {
        let base = tempfile::tempdir().expect("a folder");
        let base = base.path();
        let hour = Duration::from_secs(3600);
        cache(base, CURRENT, hour);
        cache(base, OLDER, 3 * hour);
        cache(base, NEWER, Duration::ZERO);
        cache(base, IN_USE, 2 * hour);
        cache(base, &format!("{OLDER}.partial"), 5 * hour);
        std::fs::create_dir(base.join("runs")).expect("the builds' folder");
        std::fs::write(base.join(".lock"), "").expect("the build lock");
        let user = InUse::lock(&base.join(IN_USE))
            .expect("lock")
            .expect("the cache is there");

        let removed = collect_old(base, CURRENT, false);
        assert_eq!(removed, [OLDER]);
        assert_eq!(
            names(base),
            [
                ".lock",
                &format!("{OLDER}.partial"),
                IN_USE,
                CURRENT,
                NEWER,
                "runs"
            ],
            "without the build lock, an unfinished build may be in the making"
        );

        drop(user);
        let mut removed = collect_old(base, CURRENT, true);
        removed.sort();
        assert_eq!(removed, [format!("{OLDER}.partial"), IN_USE.to_string()]);
        assert_eq!(names(base), [".lock", CURRENT, NEWER, "runs"]);
        assert!(
            base.join(CURRENT)
                .join("target/debug/libsysv.rlib")
                .is_file()
        );
    }

    #[test]
    fn a_cache_taken_by_a_collector_is_not_used() {
        let base = tempfile::tempdir().expect("a folder");
        let dir = base.path().join(OLDER);
        cache(base.path(), OLDER, Duration::ZERO);
        let folder = File::open(&dir).expect("open");
        let collector = Flock::lock(folder, FlockArg::LockExclusiveNonblock).expect("lock");
        std::fs::rename(&dir, base.path().join("elsewhere")).expect("take it away");
        drop(collector);
        assert!(InUse::lock(&dir).expect("lock").is_none(), "gone");
        cache(base.path(), OLDER, Duration::ZERO);
        assert!(InUse::lock(&dir).expect("lock").is_some(), "built again");
    }

    #[test]
    fn without_the_current_cache_nothing_is_collected() {
        let base = tempfile::tempdir().expect("a folder");
        cache(base.path(), OLDER, Duration::from_secs(3600));
        assert!(collect_old(base.path(), CURRENT, true).is_empty());
        assert_eq!(names(base.path()), [OLDER]);
    }
}
