//! The class folder: one submission per entry, named after the student.
//!
//! Every entry that is not hidden is a submission in any shape intake reads (a checkout, a
//! wrapped folder, a folder of loose files, a zip or a tarball). The student's name is the
//! entry's name less an archive extension (`alice.tar.gz` is `alice`); two entries with the
//! same student are refused rather than one silently replacing the other.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};

/// One student's submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    pub student: String,
    /// Its name in the class folder.
    pub name: String,
    pub path: PathBuf,
}

/// The archive extensions taken off a name to get the student's.
const ARCHIVE_EXTENSIONS: &[&str] = &[".tar.gz", ".tgz", ".tar", ".zip"];

/// The submissions in `folder`, sorted by student.
pub fn submissions(folder: &Path) -> Result<Vec<Submission>> {
    let entries = std::fs::read_dir(folder).with_context(|| {
        format!(
            "Failed to list the submissions in {} (give the folder that holds one entry per student)",
            folder.display()
        )
    })?;
    let mut found: Vec<Submission> = Vec::new();
    for entry in entries {
        let entry = entry
            .with_context(|| format!("Failed to list the submissions in {}", folder.display()))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            bail!(
                "the submission {:?} in {} has a name that is not UTF-8; rename it after the student",
                entry.file_name(),
                folder.display()
            );
        };
        if name.starts_with('.') {
            continue;
        }
        let student = student_of(&name);
        if student.is_empty() || student.chars().any(char::is_control) {
            bail!(
                "the submission {name:?} in {} does not name a student; rename it",
                folder.display()
            );
        }
        found.push(Submission {
            student: student.to_string(),
            path: entry.path(),
            name,
        });
    }
    found.sort_by(|a, b| a.student.cmp(&b.student).then(a.name.cmp(&b.name)));
    if let Some(pair) = found
        .windows(2)
        .find(|pair| pair[0].student == pair[1].student)
    {
        bail!(
            "{} and {} in {} are both submissions of {}; keep one",
            pair[0].name,
            pair[1].name,
            folder.display(),
            pair[0].student
        );
    }
    if found.is_empty() {
        bail!(
            "{} holds no submission: put one folder or archive per student in it",
            folder.display()
        );
    }
    Ok(found)
}

/// `alice.tar.gz` → `alice`; `bob` → `bob`.
pub fn student_of(name: &str) -> &str {
    ARCHIVE_EXTENSIONS
        .iter()
        .find_map(|extension| name.strip_suffix(extension))
        .unwrap_or(name)
}

/// `--shard I/N`: the I-th of N machines (I from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Whether the submission at `position` in the sorted class list is this shard's.
    pub fn takes(self, position: usize) -> bool {
        position % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        let usage = || format!("expected I/N with 0 <= I < N (e.g. 0/4), not {text:?}");
        let (index, count) = text.split_once('/').ok_or_else(usage)?;
        let index: usize = index.trim().parse().map_err(|_| usage())?;
        let count: usize = count.trim().parse().map_err(|_| usage())?;
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn students_are_named_without_the_archive_extension() {
        assert_eq!(student_of("alice.tar.gz"), "alice");
        assert_eq!(student_of("bob.zip"), "bob");
        assert_eq!(student_of("carol"), "carol");
        assert_eq!(student_of("dave.v2"), "dave.v2");
    }

    #[test]
    fn shards_split_the_class_without_overlap() {
        let shards: Vec<Shard> = (0..3)
            .map(|index| format!("{index}/3").parse().expect("a shard"))
            .collect();
        for position in 0..10 {
            let takers = shards.iter().filter(|shard| shard.takes(position)).count();
            assert_eq!(takers, 1, "position {position}");
        }
        for bad in ["3/3", "1/0", "1", "a/2", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn two_submissions_of_one_student_are_refused() {
        let folder = tempfile::tempdir().expect("a folder");
        std::fs::create_dir(folder.path().join("alice")).expect("a folder");
        std::fs::write(folder.path().join("alice.zip"), b"").expect("a file");
        std::fs::write(folder.path().join(".DS_Store"), b"").expect("a file");
        let error = submissions(folder.path()).expect_err("two of alice");
        assert!(
            format!("{error}").contains("both submissions of alice"),
            "{error}"
        );
        std::fs::remove_file(folder.path().join("alice.zip")).expect("remove");
        let found = submissions(folder.path()).expect("one");
        assert_eq!(found.len(), 1, "hidden files are not submissions");
    }
}
