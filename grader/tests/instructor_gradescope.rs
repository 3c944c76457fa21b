#![cfg(feature = "instructor")]
//! `cargo grade autograder gradescope`: the zip, and its scripts run as Gradescope runs them.
//!
//! The slow test unpacks the zip into a folder that plays `/autograder` (bind-mounted there in a
//! private mount namespace, so the machine's own `/` sees nothing but an empty mount point,
//! removed afterwards), runs `setup.sh` once, then `run_autograder` on each kind of upload, and
//! checks each results.json against the fields of Gradescope's specification; and that a grader
//! that cannot run leaves no results.json (Gradescope then shows the autograder's failure).

mod instructor_common;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

use grader::checks::Visibility;
use serde_json::Value;

use instructor_common::{files_under, write_handout};

/// Writes the autograder zip into `dir` and returns its path.
fn write_bundle(dir: &Path) -> PathBuf {
    let zip = dir.join("autograder.zip");
    assert_cmd::Command::cargo_bin("grader")
        .expect("the grader")
        .args(["autograder", "gradescope", "--output"])
        .arg(&zip)
        .assert()
        .success()
        .stdout(predicates::str::contains("Wrote"));
    zip
}

/// The zip's entries: name, unix mode, contents.
fn entries(zip: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let file = std::fs::File::open(zip).expect("the zip");
    let mut archive = zip::ZipArchive::new(file).expect("a zip archive");
    (0..archive.len())
        .map(|index| {
            let mut entry = archive.by_index(index).expect("an entry");
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("its bytes");
            (
                entry.name().to_string(),
                entry.unix_mode().unwrap_or(0),
                bytes,
            )
        })
        .collect()
}

#[test]
fn the_zip_has_the_scripts_at_its_root_and_the_lab_without_solutions() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let entries = entries(&write_bundle(dir.path()));
    let names: Vec<&str> = entries.iter().map(|(name, _, _)| name.as_str()).collect();
    for (script, first_line) in [
        ("setup.sh", "#!/usr/bin/env bash"),
        ("run_autograder", "#!/usr/bin/env bash"),
    ] {
        let (_, mode, bytes) = entries
            .iter()
            .find(|(name, _, _)| name == script)
            .unwrap_or_else(|| panic!("{script} at the root of {names:?}"));
        assert_eq!(mode & 0o111, 0o111, "{script} is executable");
        let text = String::from_utf8_lossy(bytes);
        assert!(text.starts_with(first_line), "{text}");
        for placeholder in ["@COMMIT@", "@RUST_VERSION@"] {
            assert!(
                !text.contains(placeholder),
                "{placeholder} filled in: {text}"
            );
        }
        let syntax = Command::new("bash")
            .args(["-n", "-c"])
            .arg(text.as_ref())
            .output()
            .expect("bash runs");
        assert!(
            syntax.status.success(),
            "{script} parses: {}",
            String::from_utf8_lossy(&syntax.stderr)
        );
    }
    for needed in [
        "shmlab/Cargo.toml",
        "shmlab/Cargo.lock",
        "shmlab/grader/src/exercises/instructor.rs",
        "shmlab/exercises/01-create/src/main.rs",
        "shmlab/sysv/src/lib.rs",
    ] {
        assert!(names.contains(&needed), "{needed} in {names:?}");
    }
    for name in &names {
        assert!(
            !name.starts_with("shmlab/solutions")
                && !name.starts_with("shmlab/grader/fixtures")
                && !name.starts_with("shmlab/docs")
                && !name.contains("/target/"),
            "{name} is not in the autograder"
        );
    }
}

/// Gradescope's results.json fields (Autograder Specifications, "Output format").
fn assert_gradescope_results(results: &Value) {
    const TOP: &[&str] = &[
        "score",
        "execution_time",
        "output",
        "output_format",
        "test_output_format",
        "test_name_format",
        "visibility",
        "stdout_visibility",
        "extra_data",
        "tests",
        "leaderboard",
    ];
    const TEST: &[&str] = &[
        "score",
        "max_score",
        "status",
        "name",
        "name_format",
        "number",
        "output",
        "output_format",
        "tags",
        "visibility",
        "extra_data",
    ];
    const FORMATS: &[&str] = &["text", "html", "simple_format", "md", "ansi"];
    const VISIBILITIES: &[&str] = &["hidden", "after_due_date", "after_published", "visible"];
    let object = results.as_object().expect("an object");
    for key in object.keys() {
        assert!(TOP.contains(&key.as_str()), "unknown top-level field {key}");
    }
    assert!(results["score"].is_number());
    assert!(results["execution_time"].is_u64());
    assert!(results["output"].is_string());
    assert!(FORMATS.contains(&results["output_format"].as_str().unwrap_or("")));
    assert!(FORMATS.contains(&results["test_output_format"].as_str().unwrap_or("")));
    let tests = results["tests"].as_array().expect("tests");
    assert!(!tests.is_empty());
    for test in tests {
        for key in test.as_object().expect("a test object").keys() {
            assert!(TEST.contains(&key.as_str()), "unknown test field {key}");
        }
        assert!(test["score"].is_number() && test["max_score"].is_number());
        assert!(test["name"].is_string() && test["number"].is_string());
        assert!(test["output"].is_string());
        assert!(["passed", "failed"].contains(&test["status"].as_str().unwrap_or("")));
        assert!(VISIBILITIES.contains(&test["visibility"].as_str().unwrap_or("")));
        assert!(
            test["tags"]
                .as_array()
                .is_some_and(|tags| tags.iter().all(Value::is_string))
        );
    }
}

/// The folder that plays `/autograder` and the mount point: one test at a time.
static ONE_AUTOGRADER: Mutex<()> = Mutex::new(());

/// A folder that plays `/autograder`, kept in target/tmp so that setup.sh's build of the
/// grader is reused by the next run (a Gradescope image is built once, too).
struct AutograderRoot {
    root: PathBuf,
    _only_this_test: MutexGuard<'static, ()>,
}

impl AutograderRoot {
    /// Unpacks a new autograder zip into ROOT/source and runs setup.sh.
    fn set_up() -> AutograderRoot {
        let only_this_test = ONE_AUTOGRADER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("autograder-root");
        let source = root.join("source");
        if source.exists() {
            std::fs::remove_dir_all(&source).expect("remove the old source");
        }
        std::fs::create_dir_all(&source).expect("ROOT/source");
        let staging = tempfile::tempdir().expect("a temporary folder");
        for (name, mode, bytes) in entries(&write_bundle(staging.path())) {
            let path = source.join(&name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, bytes).expect("unpack");
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o777))
                .expect("chmod");
        }
        let autograder = AutograderRoot {
            root,
            _only_this_test: only_this_test,
        };
        let setup = autograder.run("/autograder/source/setup.sh");
        assert!(
            setup.status.success(),
            "setup.sh failed:\n{}\n{}",
            String::from_utf8_lossy(&setup.stdout),
            String::from_utf8_lossy(&setup.stderr)
        );
        // Gradescope copies run_autograder to /autograder itself.
        std::fs::copy(
            source.join("run_autograder"),
            autograder.root.join("run_autograder"),
        )
        .expect("copy run_autograder");
        autograder
    }

    /// Runs `script` with this folder mounted on /autograder, in a private mount namespace.
    fn run(&self, script: &str) -> Output {
        let mount_point = Path::new("/autograder");
        let created = !mount_point.exists();
        if created {
            std::fs::create_dir(mount_point).expect("create /autograder (needs root)");
        }
        let mut command = Command::new("unshare");
        // As on Gradescope: no variable of the cargo that runs this test (CARGO would name the
        // toolchain for the grader).
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("CARGO") {
                command.env_remove(name);
            }
        }
        let output = command
            .args(["--mount", "--propagation", "private", "--"])
            .args([
                "sh",
                "-c",
                r#"mount --bind "$1" /autograder && cd /autograder && exec "$2""#,
            ])
            .args(["sh"])
            .arg(&self.root)
            .arg(script)
            .env("NO_COLOR", "1")
            .output()
            .expect("unshare runs");
        if created {
            std::fs::remove_dir(mount_point).expect("remove /autograder");
        }
        output
    }

    /// Puts `files` (relative path, contents) as the submission, runs run_autograder, and
    /// returns its output and results.json (None when it wrote none).
    fn grade(&self, submission: &Path) -> (Output, Option<Value>) {
        let target = self.root.join("submission");
        if target.exists() {
            std::fs::remove_dir_all(&target).expect("remove the last submission");
        }
        copy_tree(submission, &target);
        let results = self.root.join("results/results.json");
        let output = self.run("/autograder/run_autograder");
        let value = std::fs::read_to_string(&results)
            .ok()
            .map(|text| serde_json::from_str(&text).expect("results.json is JSON"));
        (output, value)
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for file in files_under(from) {
        let relative = file.strip_prefix(from).expect("under from");
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(&file, &target).expect("copy");
    }
    std::fs::create_dir_all(to).expect("the folder itself");
}

/// A handout whose exercises hold the reference solutions: a correct checkout.
fn correct_checkout(dir: &Path) -> PathBuf {
    let checkout = dir.join("correct");
    write_handout(&checkout);
    let lab = grader::build::lab_root();
    for exercise in grader::exercises::all().expect("the exercise table") {
        let dir = &exercise.info.dir;
        std::fs::copy(
            lab.join("solutions").join(dir).join("src/main.rs"),
            checkout.join("exercises").join(dir).join("src/main.rs"),
        )
        .expect("a solution");
    }
    checkout
}

fn tests_of(results: &Value) -> &Vec<Value> {
    results["tests"].as_array().expect("tests")
}

fn show(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Slow: setup.sh builds the grader in release mode, and each graded submission is built.
#[test]
#[ignore = "slow (minutes) and needs root (a private mount namespace on /autograder); `bash .ci/run` runs it"]
fn setup_and_run_autograder_grade_a_correct_and_an_untouched_checkout_and_never_grade_an_error() {
    let autograder = AutograderRoot::set_up();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let exercises = grader::exercises::all().expect("the exercise table");
    let full_marks: f64 = exercises
        .iter()
        .map(|exercise| f64::from(exercise.max_points()))
        .sum();

    // A correct checkout: full marks, the instructor-only checks included.
    let (output, results) = autograder.grade(&correct_checkout(dir.path()));
    assert!(output.status.success(), "{}", show(&output));
    let results = results.expect("results.json");
    assert_gradescope_results(&results);
    assert_eq!(results["score"], full_marks, "{}", show(&output));
    let info_total = grader::info::Info::builtin()
        .expect("info.toml")
        .total_points();
    assert!(
        full_marks > f64::from(info_total),
        "the hidden checks add points"
    );
    assert!(
        tests_of(&results)
            .iter()
            .all(|test| test["status"] == "passed")
    );
    let visibilities: Vec<&str> = tests_of(&results)
        .iter()
        .filter_map(|test| test["visibility"].as_str())
        .collect();
    for visibility in [Visibility::AfterDueDate, Visibility::Hidden] {
        let name = serde_json::to_value(visibility).expect("a name");
        assert!(
            visibilities.contains(&name.as_str().unwrap_or("")),
            "{visibilities:?}"
        );
    }

    // An untouched checkout, but for one exercise that does not compile.
    let untouched = dir.path().join("untouched");
    write_handout(&untouched);
    std::fs::write(
        untouched.join("exercises/01-create/src/main.rs"),
        "fn main() { let size: u32 = \"1024\"; }\n",
    )
    .expect("break create");
    let (output, results) = autograder.grade(&untouched);
    assert!(output.status.success(), "{}", show(&output));
    let results = results.expect("results.json");
    assert_gradescope_results(&results);
    assert_eq!(results["score"], 0.0);
    for test in tests_of(&results) {
        let name = test["name"].as_str().unwrap_or("");
        let expected = if name.starts_with("create:") {
            "did not compile"
        } else {
            "not started"
        };
        assert_eq!(test["status"], "failed", "{name}");
        assert_eq!(test["tags"][1], expected, "{name}");
    }
    let overall = results["output"].as_str().unwrap_or("");
    assert!(overall.contains("did not compile"), "{overall}");
    for test in tests_of(&results) {
        if test["visibility"] != "visible" {
            let name = test["name"].as_str().unwrap_or("");
            let check = name.split(": ").nth(1).unwrap_or(name);
            assert!(!overall.contains(check), "{check} named in {overall}");
        }
    }

    // The grader cannot do its job (here: no cargo to build with). That is no grade: no
    // results.json, and the log says why.
    let toolchain_env = autograder.root.join("shmlab/.toolchain-env");
    let saved = std::fs::read_to_string(&toolchain_env).expect("setup.sh wrote it");
    std::fs::write(&toolchain_env, "export PATH=/usr/bin:/bin\n").expect("hide the toolchain");
    let (output, results) = autograder.grade(&untouched);
    std::fs::write(&toolchain_env, saved).expect("restore the toolchain");
    assert!(!output.status.success(), "{}", show(&output));
    assert!(results.is_none(), "no results.json, so no grade of 0");
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(
        log.contains("no grade was recorded") && log.contains("exit status 2"),
        "{}",
        show(&output)
    );
}

/// run_autograder graded the upload, and every check passed.
fn assert_full_marks((output, results): &(Output, Option<Value>)) {
    assert!(output.status.success(), "{}", show(output));
    let results = results.as_ref().expect("results.json");
    assert_gradescope_results(results);
    assert!(
        tests_of(results)
            .iter()
            .all(|test| test["status"] == "passed"),
        "{}",
        show(output)
    );
}

#[test]
#[ignore = "slow (minutes) and needs root (a private mount namespace on /autograder); `bash .ci/run` runs it"]
fn run_autograder_grades_an_upload_wrapped_in_a_folder() {
    let autograder = AutograderRoot::set_up();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let wrapped = dir.path().join("upload");
    copy_tree(&correct_checkout(dir.path()), &wrapped.join("shmlab-main"));
    assert_full_marks(&autograder.grade(&wrapped));
}

#[test]
#[ignore = "slow (minutes) and needs root (a private mount namespace on /autograder); `bash .ci/run` runs it"]
fn run_autograder_grades_loose_files_named_by_exercise() {
    let autograder = AutograderRoot::set_up();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let loose = dir.path().join("upload");
    std::fs::create_dir_all(&loose).expect("the upload");
    let lab = grader::build::lab_root();
    for exercise in grader::exercises::all().expect("the exercise table") {
        std::fs::copy(
            lab.join("solutions")
                .join(&exercise.info.dir)
                .join("src/main.rs"),
            loose.join(format!("{}.rs", exercise.name())),
        )
        .expect("a solution as NAME.rs");
    }
    assert_full_marks(&autograder.grade(&loose));
}
