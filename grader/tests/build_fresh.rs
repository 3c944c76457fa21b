//! The build stamp (`grader::build::fresh`): with nothing changed since the last build, cargo is
//! not asked again; once a source changes, it is, and the program graded is the new one. A
//! stale program graded after an edit would be a wrong verdict, so both halves are tested
//! with a cargo that counts its runs.
//!
//! One test in its own binary: the stamp lives beside the running executable, and the test sets
//! `CARGO` for the whole process.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use grader::build::{BuildRequest, Built, build};

/// Sets `path`'s modification time to `when`.
fn touch(path: &Path, when: SystemTime) {
    File::options()
        .read(true)
        .open(path)
        .and_then(|file| file.set_modified(when))
        .unwrap_or_else(|error| panic!("set the time of {}: {error}", path.display()));
}

/// Builds `hello` in `workspace`, runs it, and returns what it printed.
fn build_and_run(workspace: &Path) -> String {
    let request = BuildRequest {
        workspace: workspace.to_path_buf(),
        target_dir: None,
        packages: vec!["hello".to_string()],
        jail: None,
    };
    let builds = build(&request).expect("the build runs");
    let Some(Built::Binary(program)) = builds.packages.get("hello") else {
        panic!("hello built: {builds:?}");
    };
    let output = Command::new(program).output().expect("hello runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn cargo_is_asked_again_only_when_a_source_changed() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let workspace = dir.path().join("lab");
    let sources = [
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"hello\"]\nresolver = \"2\"\n",
        ),
        (
            "hello/Cargo.toml",
            "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("hello/src/main.rs", "fn main() { println!(\"one\"); }\n"),
    ];
    for (path, text) in sources {
        let path = workspace.join(path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    // A cargo that notes each run in a log, then is the real one.
    let log = dir.path().join("cargo-runs");
    let wrapper = dir.path().join("cargo");
    let real = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\nexec '{real}' \"$@\"\n",
            log.display()
        ),
    )
    .expect("write the wrapper");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // SAFETY: the only test of this binary; no other thread reads the environment.
    unsafe { std::env::set_var("CARGO", &wrapper) };
    let runs = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    // The stamp trusts only files (and a grader) older than the build by a margin: date them
    // back rather than wait.
    let long_ago = SystemTime::now() - Duration::from_secs(60);
    touch(&std::env::current_exe().expect("this test"), long_ago);
    let date_back = || {
        for file in [
            "Cargo.toml",
            "Cargo.lock",
            "hello/Cargo.toml",
            "hello/src/main.rs",
        ] {
            let file = workspace.join(file);
            if file.exists() {
                touch(&file, long_ago); // Cargo.lock: once the first build has written it
            }
        }
    };
    date_back();

    assert_eq!(build_and_run(&workspace), "one\n");
    assert_eq!(runs(), 1, "the first build asks cargo");
    date_back(); // cargo wrote Cargo.lock during that build
    assert_eq!(build_and_run(&workspace), "one\n");
    assert_eq!(runs(), 1, "nothing changed: cargo is not asked");

    // A student's edit: the source is newer than the stamp.
    std::fs::write(
        workspace.join("hello/src/main.rs"),
        "fn main() { println!(\"two\"); }\n",
    )
    .expect("edit");
    assert_eq!(build_and_run(&workspace), "two\n", "the new program");
    assert_eq!(runs(), 2, "a changed source: cargo is asked");
}
