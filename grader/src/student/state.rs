//! The student's progress: `.shmlab-state.json` at the root of the checkout.
//!
//! It remembers which exercises passed (and when) and whether the welcome text was shown, so
//! that `cargo grade watch` resumes at the first exercise not yet done and `cargo grade list`
//! shows the way travelled. It is git-ignored: progress belongs to one checkout, not to the
//! course.
//!
//! The file is a convenience, never a source of truth that can block a student: grading always
//! re-checks the code. Hence the two rules here:
//!
//! - Reading never fails. A missing file is a fresh start; an unreadable or corrupt one (a
//!   half-written file, a hand edit, another version's format) is a fresh start *with a warning*
//!   for the caller to print, and the next save overwrites it.
//! - Writing is atomic: the new contents go to a temporary file in the progress file's own
//!   folder (which may be on another file system than the checkout, with `SHMLAB_STATE`), which
//!   is then renamed over the old one, so a crash or a full disk leaves the old file or the new
//!   one, never half of each ([`crate::atomic_write`]).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;

use crate::atomic_write::write_atomically;
use serde::{Deserialize, Serialize};

/// The progress file's name, at the checkout root.
pub const STATE_FILE: &str = ".shmlab-state.json";

/// An environment variable naming another progress file: for a checkout the student cannot
/// write to, and for tests, which must not leave a file in the checkout they grade.
pub const STATE_FILE_ENV: &str = "SHMLAB_STATE";

/// Bumped when the format changes incompatibly; a file with another version starts afresh.
const FORMAT_VERSION: u32 = 1;

/// The student's progress, as stored in [`STATE_FILE`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Format version: a file of another version is ignored (see [`State::load`]).
    pub version: u32,
    /// Whether the first-run welcome was shown (see [`crate::student::welcome`]).
    pub welcome_shown: bool,
    /// The exercises that passed when last graded, by name.
    pub passed: BTreeMap<String, Passed>,
}

/// When an exercise passed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passed {
    /// Seconds since the Unix epoch (UTC).
    pub at_unix_seconds: u64,
}

/// What [`State::load`] found.
#[derive(Debug)]
pub struct Loaded {
    pub state: State,
    /// Whether a progress file was there (absent: a fresh clone, or progress was deleted).
    pub existed: bool,
    /// Set when the file was there but unusable: say so, since progress was lost. One sentence
    /// without a `warning:` prefix; the caller adds it.
    pub warning: Option<String>,
}

impl State {
    /// An empty progress: nothing passed, welcome not shown.
    pub fn fresh() -> State {
        State {
            version: FORMAT_VERSION,
            welcome_shown: false,
            passed: BTreeMap::new(),
        }
    }

    /// The progress file of the checkout at `root`: [`STATE_FILE`] there, unless
    /// [`STATE_FILE_ENV`] names another file.
    pub fn path(root: &Path) -> PathBuf {
        match std::env::var_os(STATE_FILE_ENV) {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => root.join(STATE_FILE),
        }
    }

    /// Reads the progress of the checkout at `root`. Never fails: see the module docs.
    pub fn load(root: &Path) -> Loaded {
        let path = State::path(root);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Loaded {
                    state: State::fresh(),
                    existed: false,
                    warning: None,
                };
            }
            Err(err) => return Loaded::unusable(&path, &format!("it cannot be read ({err})")),
        };
        match serde_json::from_str::<State>(&text) {
            Ok(state) if state.version == FORMAT_VERSION => Loaded {
                state,
                existed: true,
                warning: None,
            },
            Ok(state) => Loaded::unusable(
                &path,
                &format!(
                    "it has format version {}, this grader knows version {FORMAT_VERSION}",
                    state.version
                ),
            ),
            Err(err) => Loaded::unusable(&path, &format!("it is not valid progress data ({err})")),
        }
    }

    /// Writes the progress of the checkout at `root`, atomically (see the module docs).
    pub fn save(&self, root: &Path) -> anyhow::Result<()> {
        let path = State::path(root);
        let mut json =
            serde_json::to_string_pretty(self).context("Failed to serialise the progress")?;
        json.push('\n');
        write_atomically(&path, &json)
            .with_context(|| format!("Failed to save the progress to {}", path.display()))
    }

    /// Whether `name` passed when last graded.
    pub fn has_passed(&self, name: &str) -> bool {
        self.passed.contains_key(name)
    }

    /// Records a grading result: a pass is stamped with the current time (the first pass's time
    /// is kept on re-grades), a failure forgets an earlier pass, so that progress always reflects
    /// the code as it was last graded.
    pub fn record(&mut self, name: &str, passed: bool) {
        if passed {
            self.passed
                .entry(name.to_owned())
                .or_insert_with(|| Passed {
                    at_unix_seconds: now_unix_seconds(),
                });
        } else {
            self.passed.remove(name);
        }
    }
}

impl Loaded {
    fn unusable(path: &Path, why: &str) -> Loaded {
        Loaded {
            state: State::fresh(),
            existed: true,
            warning: Some(format!(
                "ignoring the progress file {}: {why}. Starting afresh; \
                 it is rewritten at the next save (the exercises themselves are untouched).",
                path.display()
            )),
        }
    }
}

fn now_unix_seconds() -> u64 {
    // A clock before 1970 is not worth failing for: the time is informative only.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
