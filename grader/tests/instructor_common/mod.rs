//! Shared by the instructor tests (handout, autograders): writing a handout, running cargo in
//! it on a build folder kept between runs, listing files.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `grader handout DIR` and checks it said so.
pub fn write_handout(dir: &Path) {
    assert_cmd::Command::cargo_bin("grader")
        .expect("the grader")
        .arg("handout")
        .arg(dir)
        .assert()
        .success()
        .stdout(predicates::str::contains("Wrote the handout"));
}

/// A build folder for the handouts, kept in target/tmp between runs: each handout is a new
/// workspace, and building it from scratch every time would cost minutes.
pub fn handout_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("handout-target")
}

/// `cargo ARGS` in `dir`, built into [`handout_target_dir`].
pub fn cargo_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", handout_target_dir())
        .env("NO_COLOR", "1")
        .output()
        .expect("cargo runs")
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a readable folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
