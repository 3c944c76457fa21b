//! A submission that does not compile: that exercise is "did not compile" with the compiler's
//! message, the others are still built and graded, and nothing is built in the submission's
//! own folder (it is built from its sources in the grader's, see tests/submission_hostile.rs).

mod grading_common;

use std::path::Path;

use assert_cmd::Command;
use grader::build::{BuildRequest, Built, build};
use predicates::prelude::*;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// A tiny checkout with one package per `(dir, name, main.rs)` under exercises/.
fn tiny_checkout(programs: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"exercises/*\"]\n",
    );
    for (exercise_dir, name, main) in programs {
        let package = root.join("exercises").join(exercise_dir);
        write(
            &package.join("Cargo.toml"),
            &format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
        );
        write(&package.join("src/main.rs"), main);
    }
    dir
}

/// A tiny checkout: `create` has a type error, `attach` compiles (and fails its checks), and
/// `parent-child` is missing altogether.
fn broken_checkout() -> tempfile::TempDir {
    tiny_checkout(&[
        (
            "01-create",
            "create",
            "fn main() {\n    let count: u32 = \"three\";\n    println!(\"{count}\");\n}\n",
        ),
        (
            "02-attach",
            "attach",
            "fn main() {\n    std::process::exit(1);\n}\n",
        ),
    ])
}

#[test]
fn the_build_attributes_each_error_to_its_package() {
    let checkout = broken_checkout();
    let request = BuildRequest {
        workspace: checkout.path().to_path_buf(),
        target_dir: Some(checkout.path().join("target")),
        packages: vec!["create".into(), "attach".into(), "parent-child".into()],
        jail: None,
    };
    let builds = build(&request).expect("cargo runs");
    match &builds.packages["create"] {
        Built::DidNotCompile(messages) => {
            assert!(
                messages.contains("error[E0308]: mismatched types"),
                "{messages}"
            );
            assert!(
                messages.contains("exercises/01-create/src/main.rs:2"),
                "{messages}"
            );
        }
        other => panic!("create built: {other:?}"),
    }
    match &builds.packages["attach"] {
        Built::Binary(path) => assert!(
            path.starts_with(checkout.path().join("target")),
            "{}",
            path.display()
        ),
        other => panic!("attach did not build: {other:?}"),
    }
    match &builds.packages["parent-child"] {
        Built::DidNotCompile(messages) => assert!(messages.contains("parent-child"), "{messages}"),
        other => panic!("parent-child built: {other:?}"),
    }
}

#[test]
fn submission_with_a_compile_error_is_graded_and_reported() {
    let checkout = broken_checkout();
    let before = grading_common::host_segments();
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .env("NO_COLOR", "1")
        .arg("--submission")
        .arg(checkout.path())
        .args(["create", "attach"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_match(r"✗ create +0/10  did not compile\n").expect("a regex"))
        .stdout(predicate::str::contains("error[E0308]: mismatched types"))
        .stdout(
            predicate::str::is_match(r"✗ attach +\d+/15  \d+ of \d+ checks failed\n")
                .expect("a regex"),
        );
    assert!(
        !checkout.path().join("target").exists(),
        "nothing built in the submission's folder"
    );
    grading_common::assert_no_new_segment(&before);
}

#[test]
fn a_submission_without_sources_is_refused() {
    let empty = tempfile::tempdir().expect("a temporary folder");
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("--submission")
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds no exercise sources"));
}

#[test]
fn output_file_holds_each_exercise_as_soon_as_it_is_graded() {
    // create exits at once (and fails); attach never ends, so it is graded last and slowly.
    let dir = tiny_checkout(&[
        ("01-create", "create", "fn main() {}\n"),
        (
            "02-attach",
            "attach",
            "fn main() {\n    loop {\n        std::thread::park();\n    }\n}\n",
        ),
    ]);
    let root = dir.path();
    let results = root.join("results.json");
    let mut grader = std::process::Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("--submission")
        .arg(root)
        .args([
            "--format",
            "json",
            "--jobs",
            "1",
            "--timeout",
            "2",
            "--output",
        ])
        .arg(&results)
        .args(["create", "attach"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("grader starts");
    // Wait for the file to appear, for as long as the grader runs: it builds both programs
    // first (a cargo build, slow on a loaded machine), so no fixed budget would hold. The
    // grader's own end bounds the wait (attach's runs time out after 2 s each).
    let mut partial = None;
    let mut still_running = true;
    while partial.is_none() && still_running {
        still_running = grader.try_wait().expect("try_wait").is_none();
        partial = std::fs::read_to_string(&results).ok();
        if partial.is_none() {
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
    }
    let status = grader.wait().expect("grader ends");
    let partial: serde_json::Value =
        serde_json::from_str(&partial.expect("the output file appeared")).expect("valid JSON");
    assert!(
        still_running,
        "the file was written while attach was still being graded"
    );
    let names: Vec<&str> = partial["exercises"]
        .as_array()
        .expect("exercises")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["create"]);
    assert_eq!(status.code(), Some(1));
    let full: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).expect("results")).expect("JSON");
    assert_eq!(full["exercises"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        full["exercises"][1]["checks"][0]["actual"],
        "still running after 2 s: killed by the grader"
    );
}

#[test]
fn a_dependency_that_does_not_compile_is_the_graders_problem() {
    // The exercise is fine; the crate it depends on (as the lab's exercises depend on sysv) is not.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"exercises/*\", \"sysv\"]\n",
    );
    write(
        &root.join("sysv/Cargo.toml"),
        "[package]\nname = \"sysv\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write(
        &root.join("sysv/src/lib.rs"),
        "pub fn broken() -> u32 { \"no\" }\n",
    );
    write(
        &root.join("exercises/01-create/Cargo.toml"),
        "[package]\nname = \"create\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nsysv = { path = \"../../sysv\" }\n",
    );
    write(
        &root.join("exercises/01-create/src/main.rs"),
        "fn main() {}\n",
    );
    let request = BuildRequest {
        workspace: root.to_path_buf(),
        target_dir: Some(root.join("target")),
        packages: vec!["create".into()],
        jail: None,
    };
    let error = format!("{:#}", build(&request).expect_err("a grader error"));
    assert!(
        error.contains(
            "sysv, which the exercises depend on, does not compile, so nothing can be graded"
        ),
        "{error}"
    );
    assert!(error.contains("error[E0308]: mismatched types"), "{error}");
}

/// Where overlay cannot be mounted in a user namespace (Linux before 5.11), a build gets a copy
/// of the dependency cache instead: the same grades.
#[test]
fn without_an_overlay_the_dependency_cache_is_copied() {
    let dir = tiny_checkout(&[]);
    let solution = grading_common::root().join("solutions/01-create/src/main.rs");
    write(
        &dir.path().join("exercises/01-create/src/main.rs"),
        &std::fs::read_to_string(solution).expect("the solution"),
    );
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .env("NO_COLOR", "1")
        .env(grader::build::jailed::NO_OVERLAY_ENV, "1")
        .arg("--submission")
        .arg(dir.path())
        .arg("create")
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"✓ create +10/10\n").expect("a regex"));
}

/// A grader killed mid-build leaves its scratch folder: the next one removes it.
#[test]
fn scratch_folders_of_graders_that_are_gone_are_removed() {
    let mut gone = std::process::Command::new("true").spawn().expect("true");
    let pid = gone.id();
    gone.wait().expect("reaped");
    let runs = grading_common::grader_exe()
        .parent()
        .and_then(Path::parent)
        .expect("the target folder")
        .join("shmlab-build/runs");
    let abandoned = runs.join(format!("build-{pid}-abandoned"));
    std::fs::create_dir_all(abandoned.join("layers/work/work")).expect("mkdir");
    let dir = tiny_checkout(&[("01-create", "create", "fn main() {}\n")]);
    Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("--submission")
        .arg(dir.path())
        .arg("create")
        .assert()
        .code(1);
    assert!(
        !abandoned.exists(),
        "{} is still there",
        abandoned.display()
    );
}
