#![cfg(feature = "instructor")]
//! Submissions as an attacker (or a careless student) would hand them in, graded through the
//! `grader` binary: a build script, `include_bytes!` of a root-only file, prebuilt binaries in
//! `target/`, its own broken `sysv/`, hostile archives; and the shapes that must grade like the
//! checkout they hold (a wrapped zip, loose files, a tarball).

mod grading_common;

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

/// The reference solution's main.rs of exercise folder `dir`.
fn solution(dir: &str) -> Vec<u8> {
    std::fs::read(
        grading_common::root()
            .join("solutions")
            .join(dir)
            .join("src/main.rs"),
    )
    .expect("the solution")
}

/// The untouched stub of exercise folder `dir`.
fn stub(dir: &str) -> Vec<u8> {
    grader::student::reset::original_main_rs(dir)
        .expect("the stub")
        .as_bytes()
        .to_vec()
}

/// Grades `path` (`--format json`): exit code, the report, and stderr.
fn grade(path: &Path, names: &[&str]) -> (Option<i32>, Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .env("NO_COLOR", "1")
        .arg("--submission")
        .arg(path)
        .args(["--format", "json", "--repeat", "3"])
        .args(names)
        .output()
        .expect("the grader runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code(), report, stderr)
}

/// Grades the submission in `dir`, whose `create` must not compile (exit 1, no points): its
/// report and the compiler's messages.
fn grade_create_that_does_not_compile(dir: &Path) -> (Value, String) {
    let (code, report, stderr) = grade(dir, &["create"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        outcome(&report),
        [("create".into(), "did-not-compile".into(), 0.0)]
    );
    let compiler = report["exercises"][0]["compiler_output"]
        .as_str()
        .expect("the compiler's messages")
        .to_owned();
    (report, compiler)
}

fn ignored(report: &Value) -> Vec<&str> {
    report["submission"]["ignored"]
        .as_array()
        .expect("the intake's list")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// Per exercise: name, status, points.
fn outcome(report: &Value) -> Vec<(String, String, f64)> {
    report["exercises"]
        .as_array()
        .expect("exercises")
        .iter()
        .map(|exercise| {
            (
                exercise["name"].as_str().unwrap_or_default().to_string(),
                exercise["status"].as_str().unwrap_or_default().to_string(),
                exercise["points"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect()
}

#[test]
fn a_build_script_and_cargo_configuration_are_ignored_and_never_run() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    // Where the build script would leave its mark: open to the build uid, so that only the
    // script not running keeps it empty.
    let marks = tempfile::tempdir().expect("a folder for marks");
    std::fs::set_permissions(
        marks.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let mark = marks.path().join("build-script-ran");
    write(
        &root.join("exercises/01-create/build.rs"),
        format!(
            "fn main() {{\n    let shadow = std::fs::read(\"/etc/shadow\").unwrap_or_default();\n    \
             std::fs::write({:?}, shadow).unwrap();\n}}\n",
            mark.display().to_string()
        )
        .as_bytes(),
    );
    write(
        &root.join("exercises/01-create/Cargo.toml"),
        b"[package]\nname = \"create\"\nversion = \"0.1.0\"\nedition = \"2024\"\nbuild = \"build.rs\"\n",
    );
    write(
        &root.join(".cargo/config.toml"),
        b"[build]\nrustflags = [\"--cfg\", \"evil\"]\n[target.x86_64-unknown-linux-gnu]\nlinker = \"/tmp/evil-linker\"\n",
    );
    write(
        &root.join("exercises/01-create/src/main.rs"),
        &solution("01-create"),
    );
    let (code, report, stderr) = grade(root, &["create"]);
    assert_eq!(code, Some(0), "{stderr}\n{report:#}");
    assert_eq!(outcome(&report), [("create".into(), "passed".into(), 10.0)]);
    let ignored = ignored(&report);
    assert!(
        ignored.contains(&"exercises/01-create/build.rs (build scripts never run)"),
        "{ignored:?}"
    );
    assert!(
        ignored.contains(&".cargo/ (cargo configuration)"),
        "{ignored:?}"
    );
    assert!(!mark.exists(), "the build script ran");
}

#[test]
fn include_bytes_of_a_root_only_file_does_not_compile_and_nothing_of_it_is_reported() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write(
        &dir.path().join("exercises/01-create/src/main.rs"),
        b"fn main() {\n    let secret: &[u8] = include_bytes!(\"/etc/shadow\");\n    \
          let sum: u64 = secret.iter().map(|&b| u64::from(b)).sum();\n    \
          println!(\"{} {sum}\", secret.len());\n}\n",
    );
    let (report, compiler) = grade_create_that_does_not_compile(dir.path());
    assert!(
        compiler.contains("couldn't read `/etc/shadow`"),
        "{compiler}"
    );
    assert!(
        compiler.contains("a sandbox that shows only the lab"),
        "says why: {compiler}"
    );
    // Nothing of the file: none of its lines, nor its size and sum (what the program prints).
    let text = report.to_string();
    if let Ok(shadow) = std::fs::read("/etc/shadow") {
        let sum: u64 = shadow.iter().map(|&b| u64::from(b)).sum();
        assert!(!text.contains(&format!("{} {sum}", shadow.len())));
        for line in String::from_utf8_lossy(&shadow).lines() {
            if line.len() >= 8 {
                assert!(
                    !text.contains(line),
                    "a line of /etc/shadow is in the report"
                );
            }
        }
    }
}

#[test]
fn prebuilt_binaries_in_target_are_ignored_and_untouched_stubs_score_zero() {
    let lab = grading_common::root();
    let info = grader::info::Info::builtin().expect("info.toml");
    let packages: Vec<String> = info
        .exercises
        .iter()
        .map(|exercise| format!("{}-solution", exercise.name))
        .collect();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "--manifest-path"]);
    build.arg(lab.join("Cargo.toml"));
    for package in &packages {
        build.args(["--package", package]);
    }
    assert!(
        build.status().expect("cargo").success(),
        "the solutions build"
    );
    let built = grading_common::grader_exe()
        .parent()
        .expect("target/debug")
        .to_path_buf();
    let dir = tempfile::tempdir().expect("a temporary folder");
    for exercise in &info.exercises {
        let stub_path = dir
            .path()
            .join("exercises")
            .join(&exercise.dir)
            .join("src/main.rs");
        write(&stub_path, &stub(&exercise.dir));
        // The solution's binary under the stub's name, where `cargo build` would put it.
        let binary = std::fs::read(built.join(format!("{}-solution", exercise.name)))
            .expect("the solution's binary");
        write(
            &dir.path().join("target/debug").join(&exercise.name),
            &binary,
        );
    }
    let (code, report, stderr) = grade(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(report["score"], 0.0, "{report:#}");
    for (name, status, _) in outcome(&report) {
        assert_eq!(status, "not-started", "{name}");
    }
    assert!(ignored(&report).contains(&"target/ (prebuilt binaries)"));
}

#[test]
fn a_submissions_own_sysv_is_ignored() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write(
        &dir.path().join("sysv/src/lib.rs"),
        b"pub fn broken() -> u32 { \"no\" }\n",
    );
    write(
        &dir.path().join("exercises/01-create/src/main.rs"),
        &solution("01-create"),
    );
    let (code, report, stderr) = grade(dir.path(), &["create"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(ignored(&report).contains(&"sysv/ (the grader uses its own)"));
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_level(Some(1));
    for (name, bytes) in entries {
        writer.start_file(*name, options).expect("a file");
        writer.write_all(bytes).expect("write");
    }
    writer.finish().expect("the zip").into_inner()
}

/// Grades `bytes` saved as `name`: it must be refused (exit 2) with `expected` in the error,
/// and nothing may be left in the grader's scratch folders.
fn assert_refused(bytes: &[u8], name: &str, expected: &str) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    let (code, _, stderr) = grade(&path, &["create"]);
    assert_eq!(code, Some(2), "{name}: {stderr}");
    assert!(stderr.contains(expected), "{name}: {stderr}");
    assert!(
        stderr.contains(name),
        "{name}: the error names the file: {stderr}"
    );
}

#[test]
fn hostile_archives_are_refused_with_a_clear_error() {
    let create = solution("01-create");
    // 300 MiB of zeros: a few hundred KiB zipped.
    let zeros = vec![0u8; 300 << 20];
    assert_refused(
        &zip(&[("create.rs", &create), ("bomb.bin", &zeros)]),
        "bomb.zip",
        "unpacks to more than 256 MiB (the entry \"bomb.bin\" alone declares 300 MiB): refused as a zip bomb",
    );
    drop(zeros);
    assert_refused(
        &zip(&[("../../create.rs", &create)]),
        "slip.zip",
        "the entry \"../../create.rs\" climbs out of the archive with `..`",
    );
    assert_refused(
        &zip(&[("/tmp/create.rs", &create)]),
        "absolute.zip",
        "the entry \"/tmp/create.rs\" is an absolute path",
    );
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .add_symlink(
            "create.rs",
            "/etc/shadow",
            zip::write::SimpleFileOptions::default(),
        )
        .expect("a link");
    assert_refused(
        &writer.finish().expect("the zip").into_inner(),
        "link.zip",
        "the entry \"create.rs\" is a symbolic link",
    );
}

#[test]
fn a_wrapped_zip_loose_files_and_a_tarball_grade_like_the_checkout() {
    let create = solution("01-create");
    let attach = solution("02-attach");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let checkout = dir.path().join("alice");
    write(&checkout.join("exercises/01-create/src/main.rs"), &create);
    write(&checkout.join("exercises/02-attach/src/main.rs"), &attach);
    write(&checkout.join("Cargo.toml"), b"[workspace]\n");
    let before = grading_common::host_segments();
    let (code, expected, stderr) = grade(&checkout, &["create", "attach"]);
    assert_eq!(code, Some(0), "{stderr}");
    let wrapped = dir.path().join("wrapped.zip");
    std::fs::write(
        &wrapped,
        zip(&[
            ("alice/Cargo.toml", b"[workspace]\n"),
            ("alice/exercises/01-create/src/main.rs", &create),
            ("alice/exercises/02-attach/src/main.rs", &attach),
        ]),
    )
    .expect("write");
    let loose = dir.path().join("loose");
    write(&loose.join("create.rs"), &create);
    write(&loose.join("02-attach/main.rs"), &attach);
    let loose_zip = dir.path().join("loose.zip");
    std::fs::write(
        &loose_zip,
        zip(&[("create.rs", &create), ("attach.rs", &attach)]),
    )
    .expect("write");
    let tarball = dir.path().join("alice.tar.gz");
    {
        let file = std::fs::File::create(&tarball).expect("create");
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ));
        tar.append_dir_all("alice", &checkout).expect("tar");
        tar.into_inner().expect("tar").finish().expect("gzip");
    }
    for path in [&wrapped, &loose, &loose_zip, &tarball] {
        let (code, report, stderr) = grade(path, &["create", "attach"]);
        assert_eq!(code, Some(0), "{}: {stderr}", path.display());
        assert_eq!(outcome(&report), outcome(&expected), "{}", path.display());
    }
    grading_common::assert_no_new_segment(&before);
}

/// As an ordinary user the build runs in a user namespace of that user's: graded here as
/// `nobody`, with the toolchain and cargo's home shown to it where it can read them (they are
/// under root's 0700 home on this machine) and a build cache of its own.
#[test]
fn an_ordinary_user_builds_and_grades_a_submission_too() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if !nix::unistd::geteuid().is_root() {
        eprintln!("the other tests of this file run as this ordinary user already");
        return;
    }
    const NOBODY: u32 = 65534;
    let lab = grading_common::root();
    let toolchain = grader::build::cache::Toolchain::find(&lab).expect("the toolchain");
    let cargo_home = toolchain
        .registry
        .parent()
        .expect("cargo's home")
        .to_path_buf();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let open = |path: &Path| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod")
    };
    open(dir.path());
    let submission = dir.path().join("alice");
    write(&submission.join("create.rs"), &solution("01-create"));
    open(&submission);
    // nobody's own cache, kept between runs of the suite (its first build takes a while), and
    // fixed places for what nobody is shown: the toolchain's path is part of the cache's key.
    let base = lab.join("target/shmlab-nobody");
    let (sysroot_at, cargo_home_at, cache) = (
        base.join("toolchain"),
        base.join("cargo-home"),
        base.join("cache"),
    );
    for folder in [&sysroot_at, &cargo_home_at, &cache] {
        std::fs::create_dir_all(folder).expect("mkdir");
    }
    std::os::unix::fs::chown(&cache, Some(NOBODY), Some(NOBODY)).expect("chown");
    let binds = [
        (toolchain.sysroot.clone(), sysroot_at.clone()),
        (cargo_home, cargo_home_at.clone()),
    ]
    .map(|(from, to)| {
        let c = |path: &Path| {
            std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("a path")
        };
        (c(&from), c(&to))
    });
    let mut command = Command::new(env!("CARGO_BIN_EXE_grader"));
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/tmp")
        .env("NO_COLOR", "1")
        .env("CARGO", sysroot_at.join("bin/cargo"))
        .env("CARGO_HOME", &cargo_home_at)
        .env("SHMLAB_BUILD_CACHE", &cache)
        .current_dir("/")
        .arg("--submission")
        .arg(&submission)
        .args(["--repeat", "2", "create"]);
    // SAFETY: between fork and exec only system calls, on memory prepared before the fork.
    unsafe {
        command.pre_exec(move || {
            use nix::mount::{MsFlags, mount};
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)?;
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            )?;
            for (from, to) in &binds {
                mount(
                    Some(from.as_c_str()),
                    to.as_c_str(),
                    None::<&str>,
                    MsFlags::MS_BIND,
                    None::<&str>,
                )?;
            }
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(NOBODY) != 0
                || libc::setuid(NOBODY) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    };
    let output = command.output().expect("the grader runs as nobody");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("✓ create   10/10"), "{stdout}");
}

/// A constant of 4 GiB would have the compiler take that much of the machine's memory: the
/// build's memory limit turns it into a compile error.
#[test]
fn a_constant_too_big_for_the_build_does_not_compile() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write(
        &dir.path().join("create.rs"),
        b"static BIG: [u8; 1 << 32] = [1; 1 << 32];\nfn main() {\n    println!(\"{}\", BIG[7]);\n}\n",
    );
    let (_, compiler) = grade_create_that_does_not_compile(dir.path());
    assert!(
        compiler.contains("tried to allocate more memory than available to compiler"),
        "{compiler}"
    );
}
