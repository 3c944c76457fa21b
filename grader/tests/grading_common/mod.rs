//! Shared by the grading tests: building the fixtures, grading through the library, and
//! checking that grading left the machine as it found it.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use grader::exercises::{self, Exercise};
use grader::grade::Options;
use grader::report::{CheckResult, CheckStatus, ExerciseResult};

/// The grader executable (the sandbox re-runs it as `grader __sandbox`).
pub fn grader_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_grader"))
}

/// The checkout's root.
pub fn root() -> PathBuf {
    grader::build::lab_root()
}

/// Options for tests: few repeats (the race tests have their own), a short timeout.
pub fn options() -> Options {
    let mut options = Options::new(grader_exe());
    options.repeat = 3;
    options.timeout = Duration::from_secs(2);
    options
}

pub fn exercise(name: &str) -> Exercise {
    exercises::all()
        .expect("the exercise table")
        .into_iter()
        .find(|exercise| exercise.name() == name)
        .expect("a known exercise")
}

/// A fixture program, under a path of its own: a hard link in a temporary folder, so that the
/// processes of this test (and no other test, nor another run of the suite grading the same
/// fixture) are the ones running this path.
pub struct Fixture {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Builds the fixtures (once per test binary) and links fixture `name` to a path of its own.
pub fn fixture(name: &str) -> Fixture {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "--package",
                "grader-fixtures",
                "--manifest-path",
            ])
            .arg(root().join("Cargo.toml"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the fixtures build");
    });
    // The fixtures are built into the same target directory as this grader.
    let built_dir = grader_exe().parent().expect("target/debug").to_path_buf();
    let built = built_dir.join(name);
    assert!(built.is_file(), "fixture {} exists", built.display());
    // A hard link, not a copy: no file open for writing that a concurrent fork could inherit
    // (exec would then fail with ETXTBSY).
    let dir = tempfile::Builder::new()
        .prefix("fixture-")
        .tempdir_in(&built_dir)
        .expect("a folder in target/debug");
    let path = dir.path().join(name);
    std::fs::hard_link(&built, &path).expect("link the fixture");
    Fixture { path, _dir: dir }
}

/// The names of the checks that did not pass, in report order.
pub fn failed_checks(result: &ExerciseResult) -> Vec<&str> {
    result
        .checks
        .iter()
        .filter(|check| check.status != CheckStatus::Passed)
        .map(|check| check.name.as_str())
        .collect()
}

/// The named check of an exercise's result.
pub fn check_named<'a>(result: &'a ExerciseResult, check: &str) -> &'a CheckResult {
    result
        .checks
        .iter()
        .find(|found| found.name == check)
        .unwrap_or_else(|| panic!("no check {check:?}"))
}

/// The message of the named check.
pub fn message_of<'a>(result: &'a ExerciseResult, check: &str) -> &'a str {
    &check_named(result, check).message
}

/// The machine's state that grading must not change: its segments, and the processes
/// running one of the given programs.
#[derive(Debug, PartialEq, Eq)]
pub struct HostState {
    pub segments: BTreeSet<(i32, i32, u64)>,
}

/// The host's segments (key, id, size), as this process's IPC namespace shows them.
pub fn host_segments() -> BTreeSet<(i32, i32, u64)> {
    grader::proc_shm::read()
        .expect("/proc/sysvipc/shm")
        .into_iter()
        .map(|entry| (entry.key, entry.shmid, entry.size))
        .collect()
}

/// Asserts that no segment appeared on the host since `before`. Other tests (of this suite run
/// in parallel with another, or of other suites) may hold segments of their own for a moment,
/// e.g. grading_host_safety's key 9990 while it grades, so a new one is given a bounded time
/// (10 s) to go away.
pub fn assert_no_new_segment(before: &BTreeSet<(i32, i32, u64)>) {
    let mut new = Vec::new();
    for _ in 0..400 {
        new = host_segments()
            .difference(before)
            .copied()
            .collect::<Vec<_>>();
        if new.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("grading left segments on the host: {new:?}");
}

/// Processes on the host running `program` (by their executable's path).
pub fn processes_running(program: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == program)
        })
        .collect()
}

/// Grades fixture `program` as `exercise` and checks the host before and after.
pub fn grade_fixture(exercise_name: &str, program: &str) -> ExerciseResult {
    let fixture = fixture(program);
    let before = host_segments();
    let result = grader::grade::grade_program(&options(), &exercise(exercise_name), &fixture.path);
    assert_no_new_segment(&before);
    assert_eq!(
        processes_running(&fixture.path),
        Vec::<i32>::new(),
        "{program} left processes on the host"
    );
    assert_eq!(
        result.status,
        grader::report::ExerciseStatus::Failed,
        "{program}: {result:#?}"
    );
    result
}
