#![cfg(feature = "instructor")]
//! `cargo grade dev check` and `cargo grade new` (grader/src/dev.rs, grader/src/scaffold.rs).
//!
//! - On this checkout the check passes (the files here; the grading part in the ignored test
//!   below, which builds and grades every stub and solution).
//! - On a copy of the checkout's sources with one piece taken away, it fails and names that
//!   piece (file and exercise).
//! - `new` writes an outline that the check rejects, naming every file still to write; the
//!   ignored test `new_then_written_is_accepted` goes on to write a minimal exercise into
//!   the outline and sees the whole check (grading included) accept it.
//!
//! Instructor-only (first line): the check needs the solutions, which a handout does not have.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use grader::dev::Problem;
use grader::dev::layout;
use grader::exercises::spec;
use grader::info::{ExerciseInfo, Info};
use grader::scaffold::{PLACEHOLDER, new_exercise};

/// The checkout.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("grader/ is in the checkout")
        .to_path_buf()
}

fn info() -> Info {
    Info::builtin().expect("the built-in info.toml")
}

/// What `dev check` reads, and what `new` edits, copied (sources only, never target/).
const SOURCES: [&str; 8] = [
    "info.toml",
    "Cargo.toml",
    "README.md",
    "docs/src",
    "exercises",
    "solutions",
    "grader/src",
    "grader/Cargo.toml",
];

fn copy_of_sources() -> tempfile::TempDir {
    let copy = tempfile::tempdir().expect("a temporary folder");
    for source in SOURCES {
        copy_recursively(&root().join(source), &copy.path().join(source));
    }
    copy
}

fn copy_recursively(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).expect("create a folder of the copy");
        for entry in fs::read_dir(from).expect("list a folder of the checkout") {
            let entry = entry.expect("a folder entry");
            if entry.file_name() != "target" {
                copy_recursively(&entry.path(), &to.join(entry.file_name()));
            }
        }
    } else {
        fs::create_dir_all(to.parent().expect("a parent")).expect("create a folder");
        fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

fn check(root: &Path) -> Vec<Problem> {
    layout::check(root).expect("dev check reads the copy")
}

/// `text` without the lines that `remove` accepts (at least one).
fn remove_lines(path: &Path, remove: impl Fn(&str) -> bool) {
    let text = fs::read_to_string(path).expect("read the file to edit");
    let kept: Vec<&str> = text.lines().filter(|line| !remove(line)).collect();
    assert!(
        kept.len() < text.lines().count(),
        "{}: no line to remove",
        path.display()
    );
    fs::write(path, kept.join("\n") + "\n").expect("write the edited file");
}

#[test]
fn the_checkout_passes_the_file_check() {
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(["dev", "check", "--static-only"])
        .output()
        .expect("run the grader");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains(&format!(
            "{} exercises, every piece in place",
            info().exercises.len()
        )),
        "{stdout}"
    );
    assert_eq!(
        check(copy_of_sources().path()),
        [],
        "a copy of the checkout passes too"
    );
}

#[test]
fn dev_is_not_in_the_students_help() {
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("--help")
        .output()
        .expect("run the grader");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("hint"), "{help}");
    assert!(
        !help.contains("\n  dev") && !help.contains("\n  new"),
        "{help}"
    );
}

/// One piece taken away from a copy, and what dev check must then say.
struct Removal {
    what: &'static str,
    remove: fn(&Path, &ExerciseInfo),
    /// The file dev check must name.
    piece: fn(&ExerciseInfo) -> String,
}

#[test]
fn a_missing_piece_is_named() {
    let removals = [
        Removal {
            what: "the solution crate",
            remove: |root, e| {
                fs::remove_dir_all(root.join("solutions").join(&e.dir)).expect("remove");
            },
            piece: |e| format!("solutions/{}/Cargo.toml", e.dir),
        },
        Removal {
            what: "the solution's tests",
            remove: |root, e| {
                fs::remove_dir_all(root.join(format!("solutions/{}/tests", e.dir))).expect("rm");
            },
            piece: |e| format!("solutions/{}/tests/", e.dir),
        },
        Removal {
            what: "the chapter",
            remove: |root, e| {
                fs::remove_file(root.join(format!("docs/src/exercises/{}.md", e.dir)))
                    .expect("remove");
            },
            piece: |e| format!("docs/src/exercises/{}.md", e.dir),
        },
        Removal {
            what: "the SUMMARY line",
            remove: |root, e| {
                let entry = format!("(exercises/{}.md)", e.dir);
                remove_lines(&root.join("docs/src/SUMMARY.md"), |line| {
                    line.contains(&entry)
                });
            },
            piece: |_| "docs/src/SUMMARY.md".into(),
        },
        Removal {
            what: "the README row",
            remove: |root, e| {
                let cell = format!("| `{}` |", e.name);
                remove_lines(&root.join("README.md"), |line| line.contains(&cell));
            },
            piece: |_| "README.md".into(),
        },
        Removal {
            what: "the instructor guide row",
            remove: |root, e| {
                let cell = format!("| [{}](exercises/{}.md) |", e.name, e.dir);
                remove_lines(&root.join("docs/src/instructor-guide.md"), |line| {
                    line.contains(&cell)
                });
            },
            piece: |_| "docs/src/instructor-guide.md".into(),
        },
        Removal {
            what: "the pristine stub of reset",
            remove: |root, e| {
                fs::remove_dir_all(root.join("grader/src/student/originals").join(&e.dir))
                    .expect("remove");
            },
            piece: |e| format!("grader/src/student/originals/{}/main.rs", e.dir),
        },
        Removal {
            what: "the grader's module",
            remove: |root, e| {
                fs::remove_file(root.join(format!(
                    "grader/src/exercises/{}.rs",
                    layout::module_name(&e.name)
                )))
                .expect("remove");
            },
            piece: |e| format!("grader/src/exercises/{}.rs", layout::module_name(&e.name)),
        },
        Removal {
            what: "the grader reference's rows",
            remove: |root, e| {
                let heading = format!("### {} (", e.name);
                let path = root.join("docs/src/grader-reference.md");
                let text = fs::read_to_string(&path).expect("read");
                let start = text.find(&heading).expect("the exercise's section");
                let end = text[start + 1..]
                    .find("\n#")
                    .map_or(text.len(), |end| start + 1 + end);
                fs::write(&path, format!("{}{}", &text[..start], &text[end..])).expect("write");
            },
            piece: |_| "docs/src/grader-reference.md".into(),
        },
    ];
    let info = info();
    for (index, removal) in removals.iter().enumerate() {
        // A different exercise each time, so every one is looked at by some case.
        let exercise = &info.exercises[index % info.exercises.len()];
        let copy = copy_of_sources();
        (removal.remove)(copy.path(), exercise);
        let problems = check(copy.path());
        let piece = (removal.piece)(exercise);
        assert!(
            problems.iter().any(|problem| problem.piece == piece
                && problem.exercise.as_deref() == Some(exercise.name.as_str())),
            "without {} of {}, dev check should name {piece}; it said:\n{}",
            removal.what,
            exercise.name,
            listed(&problems)
        );
    }
}

fn listed(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| format!("- {problem}\n"))
        .collect()
}

#[test]
fn a_key_written_again_differently_is_named() {
    const DECLARATION: &str = "const KEY: Key = ";
    let info = info();
    let (exercise, declared) = info
        .exercises
        .iter()
        .find_map(|exercise| {
            let stub =
                fs::read_to_string(root().join(format!("exercises/{}/src/main.rs", exercise.dir)))
                    .ok()?;
            let line = stub.lines().find(|line| line.starts_with(DECLARATION))?;
            Some((exercise, line.to_owned()))
        })
        .expect("a stub that declares its key");
    let key: i64 = declared[DECLARATION.len()..declared.len() - 1]
        .parse()
        .expect("a literal key");
    // The stub and its pristine copy changed alike: only the key is out of step.
    let copy = copy_of_sources();
    let stub = format!("exercises/{}/src/main.rs", exercise.dir);
    let original = format!("grader/src/student/originals/{}/main.rs", exercise.dir);
    let edited = fs::read_to_string(copy.path().join(&stub))
        .expect("read the stub")
        .replace(&declared, &format!("{DECLARATION}{};", key + 1));
    for file in [&stub, &original] {
        fs::write(copy.path().join(file), &edited).expect("write");
    }
    let problems = check(copy.path());
    assert!(
        problems.iter().any(|problem| problem.piece == stub
            && problem
                .message
                .contains(&format!("declares KEY = {}", key + 1))),
        "{}",
        listed(&problems)
    );
}

#[test]
fn a_readme_that_leaves_out_an_output_line_is_named() {
    let info_text = fs::read_to_string(root().join("info.toml")).expect("read info.toml");
    let entries = layout::Entries::parse(&info_text).expect("parse info.toml");
    let exercise = &entries.exercises[0];
    // An output text with a start of its own, and the README's lines that show it.
    let (name, start) = exercise
        .output
        .iter()
        .find_map(|(name, text)| {
            let start = spec::prefix(text.as_str()?);
            (start.len() >= 10).then(|| (name.clone(), start.to_owned()))
        })
        .expect("an output text that starts with ten characters or more");
    let readme = format!("exercises/{}/README.md", exercise.dir);
    assert!(
        !check(&root()).iter().any(|problem| problem.piece == readme),
        "the checkout's README states its output"
    );

    let copy = copy_of_sources();
    remove_lines(&copy.path().join(&readme), |line| line.contains(&start));
    let problems = check(copy.path());
    assert!(
        problems.iter().any(|problem| problem.piece == readme
            && problem.exercise.as_deref() == Some(exercise.name.as_str())
            && problem
                .message
                .contains(&format!("does not state the output `{name}`"))),
        "{}",
        listed(&problems)
    );
}

#[test]
fn new_writes_an_outline_that_dev_check_says_is_unwritten() {
    let copy = copy_of_sources();
    let written = new_exercise(copy.path(), "demo", 3).expect("new writes the outline");
    let number = info().exercises.len() + 1;
    let dir = format!("{number:02}-demo");
    for file in [
        format!("exercises/{dir}/src/main.rs"),
        format!("solutions/{dir}/src/main.rs"),
        format!("solutions/{dir}/tests/demo.rs"),
        "grader/src/exercises/demo.rs".to_owned(),
        format!("docs/src/exercises/{dir}.md"),
        "docs/src/SUMMARY.md".to_owned(),
        "info.toml".to_owned(),
    ] {
        assert!(written.contains(&file), "{file} not in {written:?}");
    }
    let table = fs::read_to_string(copy.path().join("grader/src/exercises.rs")).expect("read");
    assert!(table.contains("\nmod demo;\n") && table.contains("(\"demo\", demo::tests),\n];"));

    // The outline is rustfmt's style already, so that `cargo fmt --check` passes once written.
    let rust_files: Vec<PathBuf> = written
        .iter()
        .filter(|file| file.ends_with(".rs"))
        .map(|file| copy.path().join(file))
        .collect();
    let rustfmt = Command::new("rustfmt")
        .args(["--check", "--edition", "2024"])
        .args(&rust_files)
        .output()
        .expect("run rustfmt");
    assert!(
        rustfmt.status.success(),
        "{}",
        String::from_utf8_lossy(&rustfmt.stdout)
    );

    let problems = check(copy.path());
    let of_demo: Vec<&Problem> = problems
        .iter()
        .filter(|problem| problem.exercise.as_deref() == Some("demo"))
        .collect();
    // Besides demo's, only one: this grader was built from the info.toml before `new`.
    assert_eq!(
        of_demo.len() + 1,
        problems.len(),
        "only demo has problems:\n{}",
        listed(&problems)
    );
    assert!(
        problems
            .iter()
            .any(|problem| problem.exercise.is_none() && problem.piece == "info.toml"),
        "{}",
        listed(&problems)
    );
    let unwritten = [
        "info.toml".to_owned(),
        format!("exercises/{dir}/README.md"),
        format!("exercises/{dir}/src/main.rs"),
        format!("solutions/{dir}/src/main.rs"),
        format!("solutions/{dir}/tests/demo.rs"),
        "grader/src/exercises/demo.rs".to_owned(),
        format!("docs/src/exercises/{dir}.md"),
        "README.md (its row)".to_owned(),
        "docs/src/instructor-guide.md (its row)".to_owned(),
        "docs/src/grader-reference.md (its section)".to_owned(),
    ]
    .map(|piece| (piece, PLACEHOLDER));
    // The spec's output: a line to write in info.toml, which the README does not state yet.
    let output = [
        ("info.toml".to_owned(), "an output text still says"),
        (
            format!("exercises/{dir}/README.md"),
            "does not state the output `line`",
        ),
    ];
    for (piece, says) in unwritten.iter().chain(&output) {
        assert!(
            of_demo
                .iter()
                .any(|problem| problem.piece == *piece && problem.message.contains(says)),
            "dev check should say that {piece} holds {says:?}:\n{}",
            listed(&problems)
        );
    }
    // This grader was built without demo's checks: the check says to rebuild through cargo.
    assert!(
        of_demo
            .iter()
            .any(|problem| problem.piece == "grader/src/exercises.rs"),
        "{}",
        listed(&problems)
    );
}

#[test]
fn new_refuses_a_taken_or_bad_name_and_writes_nothing() {
    let copy = copy_of_sources();
    let info_before = fs::read_to_string(copy.path().join("info.toml")).expect("read");
    let first = &info().exercises[0].name;
    for (name, says) in [
        (first.as_str(), "already has an exercise named"),
        ("Bad_Name", "not a valid exercise name"),
        ("trailing-", "not a valid exercise name"),
    ] {
        let error = new_exercise(copy.path(), name, 10)
            .expect_err("refused")
            .to_string();
        assert!(error.contains(says), "{name}: {error}");
    }
    assert_eq!(
        fs::read_to_string(copy.path().join("info.toml")).expect("read"),
        info_before
    );
    assert_eq!(check(copy.path()), [], "nothing was written");
}

/// The whole check on this checkout, grading included: every stub "not started", every
/// solution full marks.
#[test]
#[ignore = "builds and grades every stub and solution (about 20 s): run by .ci/run"]
fn the_checkout_passes_the_whole_check() {
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(["dev", "check"])
        .output()
        .expect("run the grader");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `new`, then the author's part written (a minimal exercise: print a greeting), then the
/// whole check, as an author runs it: `cargo grade …`, which rebuilds the grader with the new
/// exercise's checks.
///
/// The checkout is shown to cargo through an overlay mounted on its own path, in a private
/// mount namespace: the edits land in a temporary upper folder, the checkout and its target/
/// are untouched, and cargo finds every dependency already built (same paths, same
/// fingerprints), so only the workspace's own crates are compiled again.
#[test]
#[ignore = "needs root (an overlay mount in a mount namespace) and rebuilds the grader twice \
            (a few minutes): run by .ci/run, as root"]
fn new_then_written_is_accepted() {
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let upper = scratch.path().join("upper");
    let work = scratch.path().join("work");
    fs::create_dir_all(&upper).expect("create upper");
    fs::create_dir_all(&work).expect("create work");
    let in_overlay = |commands: &str| {
        let script = format!(
            "mount -t overlay overlay -o lowerdir=\"$ROOT\",upperdir=\"$UPPER\",workdir=\"$WORK\" \
             \"$ROOT\" && cd \"$ROOT\" && {commands}"
        );
        let output = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "bash", "-c", &script])
            .env("ROOT", root())
            .env("UPPER", &upper)
            .env("WORK", &work)
            .output()
            .expect("run unshare");
        (
            output.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    };

    let (status, said) = in_overlay("cargo grade new demo --points 3");
    assert_eq!(status, Some(0), "{said}");
    let (status, said) = in_overlay("cargo grade dev check");
    assert_eq!(
        status,
        Some(1),
        "dev check must reject the outline:\n{said}"
    );
    println!("dev check on the outline (--nocapture shows it):\n{said}");
    let number = info().exercises.len() + 1;
    let dir = format!("{number:02}-demo");
    for expected in [
        "demo: grader/src/exercises/demo.rs: still says TODO(cargo grade new)".to_owned(),
        format!("demo: solutions/{dir}: stops at a todo!(): write the reference solution"),
        "demo: docs/src/grader-reference.md (its section): still says".to_owned(),
    ] {
        assert!(
            said.contains(&expected),
            "dev check should say {expected:?}:\n{said}"
        );
    }
    assert!(
        !said.contains(&format!("demo: exercises/{dir}/src/main.rs: graded")),
        "the outline's stub is not started:\n{said}"
    );

    write_minimal_exercise(&upper, number, &dir);
    let (status, said) = in_overlay("cargo grade dev check");
    assert_eq!(
        status,
        Some(0),
        "dev check must accept the written exercise:\n{said}"
    );
    assert!(
        said.contains(&format!("{number} exercises, every piece in place")),
        "{said}"
    );
}

/// The author's part of exercise `demo`, written into the overlay's upper folder (where `new`
/// left every file it wrote or edited).
fn write_minimal_exercise(upper: &Path, number: usize, dir: &str) {
    let key = number * 1000 + number; // what `new` wrote into info.toml
    let write = |path: String, text: String| {
        let path = upper.join(path);
        fs::create_dir_all(path.parent().expect("a parent")).expect("create a folder");
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    };
    let replace = |path: &str, placeholder_line: &dyn Fn(&str) -> String| {
        let file = upper.join(path);
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("read {path}: {e}"));
        let written: Vec<String> = text
            .lines()
            .map(|line| {
                if line.contains(PLACEHOLDER) {
                    placeholder_line(line)
                } else {
                    line.to_owned()
                }
            })
            .collect();
        fs::write(&file, written.join("\n") + "\n").expect("write");
    };
    let stub = format!(
        "//! Exercise {number}, `demo`: print a greeting.\n//!\n\
         //! The whole task is in exercises/{dir}/README.md.\n\n\
         use std::process::ExitCode;\n\n\
         fn main() -> ExitCode {{\n    \
         // TODO: print `hello from demo` (look up println!), then return success.\n    \
         todo!(\"print the greeting\")\n}}\n"
    );
    write(format!("exercises/{dir}/src/main.rs"), stub.clone());
    write(format!("grader/src/student/originals/{dir}/main.rs"), stub);
    write(
        format!("exercises/{dir}/README.md"),
        format!("# Exercise {number}: demo\n\n**Goal:** print `hello from demo`.\n"),
    );
    write(
        format!("solutions/{dir}/src/main.rs"),
        "//! Reference solution of `demo`.\n\nuse std::process::ExitCode;\n\n\
         fn main() -> ExitCode {\n    println!(\"hello from demo\");\n    ExitCode::SUCCESS\n}\n"
            .to_owned(),
    );
    write(
        "solutions/{dir}/tests/demo.rs".replace("{dir}", dir),
        "//! The demo solution greets.\n\nuse assert_cmd::Command;\n\n#[test]\nfn greets() {\n    \
         Command::cargo_bin(\"demo-solution\")\n        .expect(\"built by cargo test\")\n        \
         .assert()\n        .success()\n        .stdout(\"hello from demo\\n\");\n}\n"
            .to_owned(),
    );
    write(
        "grader/src/exercises/demo.rs".to_owned(),
        "//! demo: print `hello from demo`.\n\nuse crate::checks::Test;\n\n\
         pub fn tests() -> Vec<Test> {\n    vec![\n        Test::new(\"greets\", &[])\n            \
         .run(&[])\n            .check(\n                3,\n                \
         \"prints the greeting\",\n                \"print `hello from demo`\",\n                \
         |run| run.printed(0, &[\"hello from demo\".to_owned()]),\n            ),\n    ]\n}\n"
            .to_owned(),
    );
    write(
        format!("docs/src/exercises/{dir}.md"),
        format!(
            "# Exercise {number}: demo\n\n**Points:** 3 (no segment: key {key}, `{key:#x}`, unused)\n\n\
             ```console\n$ cargo run -p demo\n\
             hello from demo\n```\n\n| check | why |\n|---|---|\n| prints the greeting | it greets |\n"
        ),
    );
    replace("info.toml", &|line| {
        if line.starts_with("line = ") {
            // The output the README below states.
            "greeting = \"hello from demo\"".to_owned()
        } else {
            line.replace(&format!("{PLACEHOLDER}: "), "")
        }
    });
    replace("README.md", &|_| {
        format!("| {number} | `demo` | print a greeting | none |")
    });
    replace("docs/src/instructor-guide.md", &|_| {
        format!("| {number} | [demo](exercises/{dir}.md) | 3 | a greeting |")
    });
    replace("docs/src/grader-reference.md", &|_| {
        "| greets | prints the greeting | 3 | prints `hello from demo` |".to_owned()
    });
}
