#![cfg(feature = "instructor")]
//! `cargo grade batch` and `cargo grade merge` on a made-up class (`__sample-class`): the
//! gradebook agrees with the reports and with `--submission`, shards merged equal one run,
//! and a rerun skips what did not change.

mod grading_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Few race repeats: the same settings everywhere in this file, so grades compare.
const REPEAT: &str = "4";

fn grader() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_grader"));
    command.env("NO_COLOR", "1").args(["--repeat", REPEAT]);
    command
}

/// Runs the grader with `args`, asserting it exits with `code`; returns its stdout.
fn run(args: &[&str], code: i32) -> String {
    let output = grader().args(args).output().expect("the grader runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A class of five (correct, untouched, half done, wrong mode, does not compile) and one
/// submission that intake refuses (no sources at all).
fn class() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let class = dir.path().join("class");
    let class_text = class.to_str().expect("a UTF-8 path");
    let made = Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(["__sample-class", class_text, "5"])
        .status()
        .expect("the grader runs");
    assert!(made.success());
    std::fs::create_dir(class.join("zz-empty")).expect("an empty submission");
    (dir, class)
}

fn batch(class: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "batch",
        class.to_str().expect("UTF-8"),
        "--out",
        out.to_str().expect("UTF-8"),
        "-j",
        "2",
    ];
    args.extend_from_slice(extra);
    run(&args, 0)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// grades.csv as student → (column → value).
fn gradebook(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = read(&out.join("grades.csv"));
    let mut lines = text.split("\r\n").filter(|line| !line.is_empty());
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{line}");
            let row: BTreeMap<String, String> = header
                .iter()
                .zip(&fields)
                .map(|(column, field)| (column.to_string(), field.to_string()))
                .collect();
            (fields[0].to_string(), row)
        })
        .collect()
}

/// Points per exercise and the total of a JSON report.
fn points(report: &Value) -> BTreeMap<String, f64> {
    let mut points: BTreeMap<String, f64> = report["exercises"]
        .as_array()
        .expect("exercises")
        .iter()
        .map(|exercise| {
            (
                exercise["name"].as_str().expect("a name").to_string(),
                exercise["points"].as_f64().expect("points"),
            )
        })
        .collect();
    points.insert("total".into(), report["score"].as_f64().expect("a score"));
    points
}

/// The whole lab's points to this grader, as the gradebook writes them: `info.toml`'s plus
/// those of the instructor-only checks compiled in.
fn full_marks() -> String {
    let total: u32 = grader::exercises::all()
        .expect("the exercise table")
        .iter()
        .map(|exercise| exercise.max_points())
        .sum();
    total.to_string()
}

fn as_number(field: &str) -> f64 {
    field
        .parse()
        .unwrap_or_else(|_| panic!("a number: {field:?}"))
}

#[test]
fn the_gradebook_matches_the_reports_and_each_grade_equals_submission() {
    let (dir, class) = class();
    let out = dir.path().join("out");
    let before = grading_common::host_segments();
    let summary = batch(&class, &out, &[]);
    assert!(
        summary.contains("6 submission(s)") && summary.contains("1 refused"),
        "{summary}"
    );
    let book = gradebook(&out);
    assert_eq!(book.len(), 6, "one row per student: {book:?}");
    assert_eq!(book["zz-empty"]["status"], "refused");
    assert_eq!(book["zz-empty"]["create"], "", "nothing graded");
    assert!(!out.join("students/zz-empty.json").exists());
    assert_eq!(
        book["student005-does-not-compile"]["status"],
        "did not compile"
    );
    assert_eq!(book["student001-correct"]["total"], full_marks());
    assert_eq!(book["student002-untouched"]["total"], "0");
    for (student, row) in book.iter().filter(|(student, _)| *student != "zz-empty") {
        let report: Value =
            serde_json::from_str(&read(&out.join(format!("students/{student}.json"))))
                .expect("a JSON report");
        assert_eq!(report["schema"], "shmlab-grader/1");
        let in_batch = points(&report);
        for (column, value) in &in_batch {
            assert_eq!(as_number(&row[column]), *value, "{student} {column}");
        }
        let alone: Value = serde_json::from_str(&run_alone(&class.join(student)))
            .expect("the --submission report");
        assert_eq!(
            points(&alone),
            in_batch,
            "{student}: batch and --submission"
        );
    }
    grading_common::assert_no_new_segment(&before);
}

/// `cargo grade --submission PATH --format json`: exit 1 unless full marks.
fn run_alone(path: &Path) -> String {
    let output = grader()
        .args(["--format", "json", "--submission"])
        .arg(path)
        .output()
        .expect("the grader runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn shards_merged_equal_one_run_and_a_rerun_grades_only_what_changed() {
    let (dir, class) = class();
    let whole = dir.path().join("whole");
    batch(&class, &whole, &[]);
    let shards: Vec<PathBuf> = (0..2)
        .map(|index| {
            let out = dir.path().join(format!("shard{index}"));
            let summary = batch(&class, &out, &["--shard", &format!("{index}/2")]);
            assert!(summary.contains("3 submission(s)"), "{summary}");
            out
        })
        .collect();
    let merged = dir.path().join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|shard| shard.display().to_string()));
    args.extend(["--out".to_string(), merged.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let said = run(&args, 0);
    assert!(said.contains("6 students"), "{said}");
    for file in ["grades.csv", "report.html"] {
        assert_eq!(
            read(&merged.join(file)),
            read(&whole.join(file)),
            "{file}: merged shards and one run"
        );
    }
    for entry in std::fs::read_dir(whole.join("records")).expect("records") {
        let name = entry.expect("an entry").file_name();
        assert_eq!(
            read(&merged.join("records").join(&name)),
            read(&whole.join("records").join(&name)),
            "{name:?}"
        );
        assert!(merged.join("students").join(&name).exists() || name == "zz-empty.json");
    }

    // Nothing changed: nothing graded again, and the files stay as they were.
    let csv = read(&whole.join("grades.csv"));
    let summary = batch(&class, &whole, &[]);
    assert!(
        summary.contains("(1 graded now, 5 unchanged)"),
        "only the refused one: {summary}"
    );
    assert_eq!(read(&whole.join("grades.csv")), csv);
    // One student fixes the mode: only they are graded again, and now have full marks.
    let fixed = class.join("student004-wrong-mode/create.rs");
    let source = read(&fixed).replace("0o600", "0o666");
    std::fs::write(&fixed, source).expect("the fix");
    let summary = batch(&class, &whole, &[]);
    assert!(summary.contains("(2 graded now, 4 unchanged)"), "{summary}");
    assert_eq!(
        gradebook(&whole)["student004-wrong-mode"]["total"],
        full_marks()
    );
}

#[test]
fn ctrl_c_keeps_the_finished_students_and_a_rerun_resumes() {
    use std::io::{BufRead as _, BufReader};

    let (dir, class) = class();
    let out = dir.path().join("out");
    let mut child = grader()
        .arg("batch")
        .arg(&class)
        .arg("--out")
        .arg(&out)
        .args(["-j", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the grader starts");
    // A student's line is printed once their files are written: interrupt after the first.
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let first = lines
        .by_ref()
        .map(|line| line.expect("a line"))
        .find(|line| line.starts_with("student") || line.starts_with("zz-"))
        .expect("a first student");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let rest: Vec<String> = lines.map(|line| line.expect("a line")).collect();
    let output = child.wait_with_output().expect("the grader ends");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(130),
        "{stdout}\n{first}\n{rest:?}"
    );
    assert!(stdout.contains("Interrupted after"), "{stdout}");

    let kept: Vec<String> = std::fs::read_dir(out.join("records"))
        .expect("records")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .to_string()
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert!(!kept.is_empty(), "the first student is kept");
    let graded = kept.iter().filter(|name| *name != "zz-empty.json").count();
    assert_eq!(
        gradebook(&out).len(),
        kept.len(),
        "the gradebook of the finished"
    );
    let summary = batch(&class, &out, &[]);
    assert!(
        summary.contains(&format!("{graded} unchanged")),
        "{kept:?} kept, then: {summary}"
    );
    assert_eq!(gradebook(&out).len(), 6, "all graded after the rerun");
}
