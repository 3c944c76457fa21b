//! The originals embedded for `cargo grade reset` are the stubs in `exercises/`.
//!
//! The grader embeds pristine copies (`src/student/originals/DIR/main.rs`; `build.rs` says
//! why they are copies). This test fails when a stub changes without its copy. To refresh the
//! copies from the stubs, in the course repository (never in a student's checkout, where the
//! stubs hold the student's work):
//!
//! ```text
//! SHMLAB_BLESS=1 cargo test -p grader --test student_originals
//! ```

use std::fs;
use std::path::Path;

use grader::student::reset::ORIGINAL_STUBS;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn embedded_originals_match_the_exercise_stubs() {
    let bless = std::env::var_os("SHMLAB_BLESS").is_some();
    let mut stale = Vec::new();
    for stub in ORIGINAL_STUBS {
        let shipped_path = Path::new(MANIFEST_DIR)
            .join("../exercises")
            .join(stub.dir)
            .join("src/main.rs");
        let shipped = fs::read_to_string(&shipped_path)
            .unwrap_or_else(|err| panic!("Failed to read {}: {err}", shipped_path.display()));
        if stub.main_rs == Some(shipped.as_str()) {
            continue;
        }
        if bless {
            let copy = Path::new(MANIFEST_DIR)
                .join("src/student/originals")
                .join(stub.dir)
                .join("main.rs");
            fs::create_dir_all(copy.parent().expect("a parent")).expect("create the copy's folder");
            fs::write(&copy, &shipped)
                .unwrap_or_else(|err| panic!("Failed to write {}: {err}", copy.display()));
            eprintln!("refreshed {} (the next build embeds it)", copy.display());
        } else {
            stale.push(stub.dir);
        }
    }
    assert!(
        stale.is_empty(),
        "the grader's copies of these stubs differ from exercises/DIR/src/main.rs: {stale:?}; \
         refresh them with `SHMLAB_BLESS=1 cargo test -p grader --test student_originals`"
    );
}

#[test]
fn no_copy_is_left_for_an_exercise_that_is_gone() {
    let originals = Path::new(MANIFEST_DIR).join("src/student/originals");
    for entry in fs::read_dir(&originals).expect("list the originals") {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            ORIGINAL_STUBS.iter().any(|stub| stub.dir == name),
            "src/student/originals/{name} belongs to no exercise of info.toml: delete it"
        );
    }
}
