//! `cargo grade autograder PLATFORM`: what a grading platform runs, generated from this checkout.
//!
//! - **Gradescope** ([`write_gradescope_bundle`]): the autograder zip. At its root `setup.sh`
//!   (run once when Gradescope builds the image: the toolchain, the grader and every dependency,
//!   the last use of the network) and `run_autograder` (run per submission, offline: grades
//!   `/autograder/submission` into `/autograder/results/results.json`; a grader error leaves no
//!   results.json, so Gradescope shows the autograder's failure and never a grade of 0). Beside
//!   them `shmlab/`, the lab as an autograder needs it ([`Audience::Autograder`]): the grader
//!   with its instructor-only checks, `sysv` and the stubs; no solutions, no tests, no book.
//! - **GitHub Classroom** ([`classroom_workflow`]): `.github/workflows/classroom.yml` for the
//!   handout's repository. It checks out the instructor's repository at the commit this
//!   checkout is at (pinned: later pushes do not change how submissions are graded), lifts
//!   Ubuntu 24.04's AppArmor restriction on user namespaces, grades the student's repository
//!   with `--format classroom` and passes the result to GitHub's grading reporter.
//!
//! The scripts are templates in `src/autograder/`, compiled in, with the lab's commit and the
//! workspace's `rust-version` filled in.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use zip::write::SimpleFileOptions;

use crate::atomic_write::write_atomically_with;
use crate::handout::{Audience, write_lab};

const SETUP_SH: &str = include_str!("autograder/setup.sh");
const RUN_AUTOGRADER: &str = include_str!("autograder/run_autograder");
const CLASSROOM_YML: &str = include_str!("autograder/classroom.yml");

/// The folder of the zip that holds the lab (setup.sh copies it to /autograder/shmlab).
const LAB_IN_ZIP: &str = "shmlab";

/// Writes Gradescope's autograder zip for the checkout `lab` to `output`; returns the number
/// of files in it.
pub fn write_gradescope_bundle(lab: &Path, output: &Path) -> Result<usize> {
    let commit = commit_of(lab).unwrap_or_else(|| "unknown (not a git checkout)".to_string());
    let staging = Staging::new()?;
    let files = write_lab(lab, &staging.path, Audience::Autograder)?;

    // Nothing is left behind but the error when the zip cannot be written.
    write_atomically_with(output, |file| {
        write_zip(file, lab, &commit, &staging.path, &files)
    })
    .with_context(|| format!("Failed to write {}", output.display()))?;
    Ok(files.len() + 2)
}

/// Writes the zip into `file`: the two scripts, then the lab's `files` (relative to `staging`)
/// under `shmlab/`.
fn write_zip(
    file: &mut fs::File,
    lab: &Path,
    commit: &str,
    staging: &Path,
    files: &[PathBuf],
) -> Result<()> {
    let mut zip = zip::ZipWriter::new(file);
    let executable = SimpleFileOptions::default().unix_permissions(0o755);
    let plain = SimpleFileOptions::default().unix_permissions(0o644);
    for (name, template) in [("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)] {
        zip.start_file(name, executable)
            .with_context(|| format!("Failed to add {name} to the zip"))?;
        zip.write_all(fill(template, lab, commit)?.as_bytes())
            .with_context(|| format!("Failed to write {name} into the zip"))?;
    }
    for relative in files {
        let from = staging.join(relative);
        let bytes =
            fs::read(&from).with_context(|| format!("Failed to read {}", from.display()))?;
        let name = Path::new(LAB_IN_ZIP).join(relative);
        zip.start_file(name.to_string_lossy(), plain)
            .with_context(|| format!("Failed to add {} to the zip", name.display()))?;
        zip.write_all(&bytes)
            .with_context(|| format!("Failed to write {} into the zip", name.display()))?;
    }
    zip.finish().context("Failed to finish the zip")?;
    Ok(())
}

/// The GitHub Classroom workflow: grade with the grader of `repository` (OWNER/NAME) at the
/// commit the checkout `lab` is at, which must have no uncommitted change (the workflow could
/// not check it out).
pub fn classroom_workflow(lab: &Path, repository: &str) -> Result<String> {
    let valid = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match repository.split_once('/') {
        Some((owner, name)) if valid(owner) && valid(name) => {}
        _ => bail!(
            "--repository must be OWNER/NAME, the GitHub repository of this checkout (e.g. my-course/shmlab-instructor), not {repository:?}"
        ),
    }
    let Some(commit) = commit_of(lab) else {
        bail!(
            "{} is not a git checkout: the workflow pins the grader to a commit, so commit and push it first",
            lab.display()
        );
    };
    let status = git(lab, &["status", "--porcelain", "--untracked-files=no"])
        .context("Failed to ask git whether the checkout has uncommitted changes")?;
    if !status.is_empty() {
        bail!(
            "the checkout has uncommitted changes; the workflow grades with commit {commit}, so commit (and push) them first:\n{status}"
        );
    }
    Ok(CLASSROOM_YML
        .replace("@REPOSITORY@", repository)
        .replace("@COMMIT@", &commit))
}

/// `template` with the lab's commit and rust-version in place of `@COMMIT@`, `@RUST_VERSION@`.
fn fill(template: &str, lab: &Path, commit: &str) -> Result<String> {
    let manifest = fs::read_to_string(lab.join("Cargo.toml"))
        .with_context(|| format!("Failed to read {}", lab.join("Cargo.toml").display()))?;
    let rust_version = manifest
        .lines()
        .find_map(|line| line.trim().strip_prefix("rust-version = "))
        .map(|value| value.trim_matches('"').to_string())
        .context("the workspace Cargo.toml has no rust-version")?;
    Ok(template
        .replace("@COMMIT@", commit)
        .replace("@RUST_VERSION@", &rust_version))
}

/// The commit the checkout is at, if it is a git checkout.
fn commit_of(lab: &Path) -> Option<String> {
    git(lab, &["rev-parse", "HEAD"]).ok()
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .context("Failed to run git")?;
    if !output.status.success() {
        bail!("git {} failed", args.join(" "));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// A temporary folder, removed when dropped.
struct Staging {
    path: PathBuf,
}

impl Staging {
    fn new() -> Result<Staging> {
        let path = std::env::temp_dir().join(format!("shmlab-autograder-{}", std::process::id()));
        if path.exists() {
            fs::remove_dir_all(&path)
                .with_context(|| format!("Failed to clear {}", path.display()))?;
        }
        Ok(Staging { path })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Best effort: a leftover folder in the temporary directory harms nothing.
        let _ = fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_in(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(args)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    /// A committed checkout with one file.
    fn repository() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\n").expect("a file");
        git_in(dir.path(), &["init", "-q"]);
        git_in(dir.path(), &["add", "."]);
        git_in(dir.path(), &["commit", "-qm", "lab"]);
        dir
    }

    #[test]
    fn the_classroom_workflow_pins_the_grader_and_reports_through_the_reporter() {
        let lab = repository();
        let commit = commit_of(lab.path()).expect("a commit");
        let workflow = classroom_workflow(lab.path(), "my-course/shmlab").expect("a workflow");
        for expected in [
            "repository: my-course/shmlab\n",
            &format!("ref: {commit}\n"),
            "runs-on: ubuntu-24.04",
            "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
            "cargo grade --submission ../submission --format classroom --output ../classroom.json",
            "uses: classroom-resources/autograding-grading-reporter@v1",
            "SHMLAB_RESULTS: ${{ steps.shmlab.outputs.result }}",
            "runners: shmlab",
        ] {
            assert!(workflow.contains(expected), "{expected} in:\n{workflow}");
        }
        assert!(!workflow.contains("@COMMIT@") && !workflow.contains("@REPOSITORY@"));
    }

    #[test]
    fn the_classroom_workflow_refuses_uncommitted_changes_and_bad_names() {
        let lab = repository();
        let error = classroom_workflow(lab.path(), "not a repository")
            .expect_err("a bad name")
            .to_string();
        assert!(error.contains("--repository must be OWNER/NAME"), "{error}");
        std::fs::write(lab.path().join("Cargo.toml"), "[workspace]\n# edited\n").expect("edit");
        let error = classroom_workflow(lab.path(), "my-course/shmlab")
            .expect_err("uncommitted changes")
            .to_string();
        assert!(error.contains("uncommitted changes"), "{error}");
        assert!(error.contains("Cargo.toml"), "{error}");
    }
}
