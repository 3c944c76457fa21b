//! What the batch keeps of each student: enough for the gradebook, the class report, a
//! resumed run and a merge, and nothing that changes from run to run (no times, no paths of
//! the machine that graded), so that the same class graded twice gives the same files.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::report::{CheckStatus, ExerciseStatus, Report, write_atomically};

/// The record's schema; a record of another schema is graded again.
pub const SCHEMA: &str = "shmlab-batch-record/1";

/// One student.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub schema: String,
    pub student: String,
    /// The submission's name in the class folder (`alice.zip`).
    pub submission: String,
    /// SHA-256 of the sources taken and of the grading ([`fingerprint`]); empty when intake
    /// refused the submission.
    pub fingerprint: String,
    pub status: Status,
    /// For a refused submission or a grader error: why.
    pub message: String,
    pub score: f64,
    pub max: f64,
    /// In the lab's order; empty when nothing was graded.
    pub exercises: Vec<ExerciseRecord>,
}

/// The student's status in the gradebook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every exercise built and was graded.
    Graded,
    /// Some exercise did not compile (the others were graded).
    DidNotCompile,
    /// The grader failed on its side (a sandbox or build jail error): grade again.
    GraderError,
    /// Intake refused the submission (no sources, an unsafe archive…): the student's to fix.
    Refused,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Graded => "graded",
            Status::DidNotCompile => "did not compile",
            Status::GraderError => "grader error",
            Status::Refused => "refused",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExerciseRecord {
    pub name: String,
    pub status: ExerciseStatus,
    pub points: f64,
    pub max: f64,
    /// For `did-not-compile`: the first error line, for the class report.
    pub compiler_error: Option<String>,
    pub checks: Vec<CheckRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
    pub test: String,
    pub name: String,
    pub status: CheckStatus,
    /// When failed: what the program did instead (the check's `actual`, or its message).
    pub wrong: Option<String>,
}

impl Record {
    /// The record of a graded submission.
    pub fn graded(student: &str, submission: &str, fingerprint: String, report: &Report) -> Self {
        let exercises: Vec<ExerciseRecord> = report
            .exercises
            .iter()
            .map(|exercise| ExerciseRecord {
                name: exercise.name.clone(),
                status: exercise.status,
                points: exercise.points,
                max: exercise.max,
                compiler_error: exercise.compiler_output.as_deref().map(first_error),
                checks: exercise
                    .checks
                    .iter()
                    .map(|check| CheckRecord {
                        test: check.test.clone(),
                        name: check.name.clone(),
                        status: check.status,
                        wrong: (check.status == CheckStatus::Failed).then(|| {
                            check
                                .actual
                                .clone()
                                .unwrap_or_else(|| check.message.clone())
                        }),
                    })
                    .collect(),
            })
            .collect();
        let has = |status| exercises.iter().any(|exercise| exercise.status == status);
        let status = if has(ExerciseStatus::Error) {
            Status::GraderError
        } else if has(ExerciseStatus::DidNotCompile) {
            Status::DidNotCompile
        } else {
            Status::Graded
        };
        let message = report
            .exercises
            .iter()
            .filter(|exercise| exercise.status == ExerciseStatus::Error)
            .map(|exercise| format!("{}: {}", exercise.name, exercise.message))
            .collect::<Vec<_>>()
            .join("; ");
        Record {
            score: report.score(),
            max: report.max_score(),
            exercises,
            ..Record::new(student, submission, fingerprint, status, message)
        }
    }

    /// The record of a submission that could not be graded at all.
    pub fn failed(
        student: &str,
        submission: &str,
        fingerprint: String,
        status: Status,
        error: &anyhow::Error,
    ) -> Self {
        Record::new(
            student,
            submission,
            fingerprint,
            status,
            format!("{error:#}"),
        )
    }

    fn new(
        student: &str,
        submission: &str,
        fingerprint: String,
        status: Status,
        message: String,
    ) -> Self {
        Record {
            schema: SCHEMA.to_string(),
            student: student.to_string(),
            submission: submission.to_string(),
            fingerprint,
            status,
            message,
            score: 0.0,
            max: 0.0,
            exercises: Vec::new(),
        }
    }

    pub fn read(path: &Path) -> Result<Record> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Failed to read the record {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| {
            format!(
                "Failed to parse the record {} (written by another version of the grader? \
                 delete it to grade that student again)",
                path.display()
            )
        })
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self)
            .with_context(|| format!("Failed to serialise the record of {}", self.student))?;
        text.push('\n');
        write_atomically(path, &text)
    }

    /// A finished grading that a rerun with the same fingerprint may keep.
    pub fn is_final(&self) -> bool {
        self.schema == SCHEMA && self.status != Status::GraderError && !self.fingerprint.is_empty()
    }
}

/// The first line of cargo's output that says `error`, for a one-line summary.
fn first_error(compiler_output: &str) -> String {
    compiler_output
        .lines()
        .find(|line| line.trim_start().starts_with("error"))
        .unwrap_or("did not compile")
        .trim()
        .to_string()
}

/// SHA-256 over `settings` (the grading options and the grader's identity) and the sources,
/// each exercise folder, path and contents length-prefixed so that no two inputs collide.
pub fn fingerprint(settings: &str, sources: &crate::intake::Sources) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(SCHEMA.as_bytes());
    field(settings.as_bytes());
    for (exercise, files) in sources {
        field(exercise.as_bytes());
        for (path, bytes) in files {
            field(path.as_os_str().as_encoded_bytes());
            field(bytes);
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;

    fn sources(files: &[(&str, &str, &str)]) -> crate::intake::Sources {
        let mut sources: crate::intake::Sources = BTreeMap::new();
        for (exercise, path, text) in files {
            sources
                .entry(exercise.to_string())
                .or_default()
                .insert(PathBuf::from(path), text.as_bytes().to_vec());
        }
        sources
    }

    #[test]
    fn the_fingerprint_follows_the_sources_and_the_settings() {
        let one = sources(&[("01-create", "main.rs", "fn main() {}")]);
        let same = fingerprint("s", &one);
        assert_eq!(same, fingerprint("s", &one.clone()));
        assert_eq!(same.len(), 64);
        assert_ne!(same, fingerprint("t", &one), "other settings");
        let edited = sources(&[("01-create", "main.rs", "fn main() { }")]);
        assert_ne!(same, fingerprint("s", &edited), "one byte more");
        let moved = sources(&[("01-create", "main.r", "sfn main() {}")]);
        assert_ne!(same, fingerprint("s", &moved), "bytes moved across fields");
    }
}
