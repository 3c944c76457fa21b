#![cfg(feature = "instructor")]
//! The class report (`report.html`) opened in headless Chromium: it renders, with its two
//! charts, and logs no console error. The screenshot is kept as a test artefact in
//! target/tmp/class-report.png.
//!
//! Ignored by default, so that the README's test command needs no browser; `.ci/run` installs
//! Debian's `chromium` and runs the ignored tests.

use std::path::Path;
use std::process::{Command, Output};

use grader::batch::record::{CheckRecord, ExerciseRecord, Record, SCHEMA, Status};
use grader::report::{CheckStatus, ExerciseStatus};

/// Headless, with nothing that reaches the network or a profile of the user's.
fn chromium(profile: &Path, args: &[&str]) -> Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium runs (install Debian's chromium, as .ci/run does)")
}

/// Chromium logs each console message of the page as `CONSOLE(line)` on stderr.
fn console_messages(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.contains("CONSOLE") || line.contains("Uncaught"))
        .map(str::to_string)
        .collect()
}

fn exercise(name: &str, failing: &[(&str, &str)], checks: &[&str]) -> ExerciseRecord {
    let checks: Vec<CheckRecord> = checks
        .iter()
        .map(|check| {
            let wrong = failing
                .iter()
                .find(|(failed, _)| failed == check)
                .map(|(_, wrong)| wrong.to_string());
            CheckRecord {
                test: "runs".into(),
                name: check.to_string(),
                status: if wrong.is_some() {
                    CheckStatus::Failed
                } else {
                    CheckStatus::Passed
                },
                wrong,
            }
        })
        .collect();
    let failed = checks
        .iter()
        .filter(|check| check.status == CheckStatus::Failed)
        .count();
    ExerciseRecord {
        name: name.into(),
        status: if failed == 0 {
            ExerciseStatus::Passed
        } else {
            ExerciseStatus::Failed
        },
        points: 10.0 - 2.5 * failed as f64,
        max: 10.0,
        compiler_error: None,
        checks,
    }
}

/// A class of twelve with failures, a compile error, a refusal and a grader error.
fn class() -> Vec<Record> {
    let mut records = Vec::new();
    for index in 0..12 {
        let modes = ["0600", "0644", "0600"];
        let mut failing = Vec::new();
        if index % 2 == 0 {
            failing.push(("mode", modes[index % 3]));
        }
        if index % 5 == 0 {
            failing.push(("removes the segment", "segment 9990 still exists"));
        }
        let exercises = vec![
            exercise("create", &failing, &["mode", "size", "removes the segment"]),
            exercise("attach", &[], &["prints the text"]),
        ];
        let score = exercises.iter().map(|exercise| exercise.points).sum();
        records.push(Record {
            schema: SCHEMA.into(),
            student: format!("student{index:02}"),
            submission: format!("student{index:02}.zip"),
            fingerprint: "0".repeat(64),
            status: Status::Graded,
            message: String::new(),
            score,
            max: 20.0,
            exercises,
        });
    }
    records[3].status = Status::DidNotCompile;
    records[3].exercises[0].status = ExerciseStatus::DidNotCompile;
    records[3].exercises[0].compiler_error = Some("error[E0308]: mismatched types".into());
    records[4].status = Status::Refused;
    records[4].exercises.clear();
    records[4].message = "the submission holds no exercise sources".into();
    records[5].status = Status::GraderError;
    records[5].message = "create: the sandbox could not start".into();
    records
}

#[test]
#[ignore = "needs chromium: .ci/run installs it"]
fn the_class_report_renders_in_chromium_without_console_errors() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let profile = dir.path().join("profile");

    // The probe: a page that logs an error must be caught, or the check below proves nothing.
    let probe = dir.path().join("probe.html");
    std::fs::write(
        &probe,
        "<!DOCTYPE html><html><body><script>console.error('probe')</script></body></html>",
    )
    .expect("the probe page");
    let output = chromium(
        &profile,
        &["--dump-dom", &format!("file://{}", probe.display())],
    );
    assert!(
        console_messages(&output)
            .iter()
            .any(|line| line.contains("probe")),
        "chromium's console messages are not seen on stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let page = dir.path().join("report.html");
    let html = grader::batch::html::render(&["create", "attach"], &class()).expect("the page");
    std::fs::write(&page, html).expect("the page");
    let url = format!("file://{}", page.display());
    let output = chromium(&profile, &["--dump-dom", &url]);
    assert!(output.status.success(), "{output:?}");
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(dom.contains("<h1>Class report</h1>"), "{dom}");
    assert_eq!(dom.matches("<svg").count(), 2, "the two charts render");
    assert!(dom.contains("student03") && dom.contains("error[E0308]"));
    assert_eq!(console_messages(&output), Vec::<String>::new());

    let artefact = Path::new(env!("CARGO_TARGET_TMPDIR")).join("class-report.png");
    let _ = std::fs::remove_file(&artefact);
    let output = chromium(
        &profile,
        &[
            &format!("--screenshot={}", artefact.display()),
            "--window-size=1100,2200",
            "--hide-scrollbars",
            &url,
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let png = std::fs::read(&artefact).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
    assert_eq!(console_messages(&output), Vec::<String>::new());
}
