//! Honest progress: what a grading result says to the student who wrote the code.
//!
//! Grading scores checks; this adds two things only the student's side knows or cares about:
//!
//! - **Started or not.** A program that stops at a `todo!()` earns nothing, whether the stub
//!   is untouched or its first TODOs are written and a later one stops it. Those are not the
//!   same to the student: the second is *in progress*, and the useful news is where it stopped.
//!   The stub as shipped ([`super::reset::original_main_rs`]) tells them apart.
//! - **Compiler warnings.** They never cost points, but swallowing them (`let unused = 5;` and
//!   a plain ✓) hides what the compiler is trying to teach: the results carry them
//!   (`compiler_output`), and the human report shows their count and the first few.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::reset::original_main_rs;
use crate::build::Target;
use crate::report::{ExerciseResult, ExerciseStatus, Source};

/// The start of the summary of an exercise whose changed stub still stops at a `todo!()`.
pub const IN_PROGRESS: &str = "in progress: stopped at the TODO in ";

/// Marks each not-started result whose `src/main.rs` under `root` (the checkout graded; `None`
/// for the reference solutions, which are no one's progress) differs from the stub as shipped
/// as *in progress*, naming where it stopped; and attaches `warnings` (by exercise name) to
/// the results that compiled.
pub fn annotate(
    root: Option<&Path>,
    results: &mut [ExerciseResult],
    warnings: &BTreeMap<String, Vec<String>>,
) {
    for result in results {
        if result.status == ExerciseStatus::NotStarted
            && root.is_some_and(|root| stub_changed(root, &result.dir))
        {
            let site = stopping_site(&result.message).unwrap_or("src/main.rs");
            result.message = format!("{IN_PROGRESS}{site}");
        }
        if let Some(found) = warnings.get(&result.name)
            && !found.is_empty()
            && result.status != ExerciseStatus::DidNotCompile
        {
            result.compiler_output = Some(found.join("\n"));
        }
    }
}

/// Whether `exercises/DIR/src/main.rs` under `root` is no longer the shipped stub. Unknown
/// (no original embedded, file unreadable) counts as unchanged: "not started" is the safe
/// thing to say.
fn stub_changed(root: &Path, dir: &str) -> bool {
    let Ok(original) = original_main_rs(dir) else {
        return false;
    };
    let path = root.join("exercises").join(dir).join("src").join("main.rs");
    fs::read_to_string(path).is_ok_and(|current| current != original)
}

/// `src/main.rs:39` from grading's "not started: … todo!("…") (src/main.rs:39)".
fn stopping_site(message: &str) -> Option<&str> {
    let (_, site) = message.trim_end().strip_suffix(')')?.rsplit_once(" (")?;
    site.contains(':').then_some(site)
}

/// [`annotate`] the results of grading `target`: the student's side of a report, for the
/// student's own checkout or a submission. Not for the reference solutions, which are no
/// one's progress.
pub fn annotate_for_student(
    target: &Target,
    results: &mut [ExerciseResult],
    warnings: &BTreeMap<String, Vec<String>>,
) {
    let root = match target.source {
        Source::Solutions => None,
        Source::Exercises | Source::Submission => Some(target.root.as_path()),
    };
    annotate(root, results, warnings);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn result(status: ExerciseStatus, message: &str) -> ExerciseResult {
        ExerciseResult {
            name: "create".into(),
            dir: "01-create".into(),
            status,
            points: 0.0,
            max: 10.0,
            message: message.into(),
            compiler_output: None,
            checks: Vec::new(),
            isolation: None,
            time: Duration::ZERO,
        }
    }

    fn checkout_with(main_rs: &str) -> tempfile::TempDir {
        let checkout = tempfile::tempdir().expect("a scratch checkout");
        let src = checkout.path().join("exercises/01-create/src");
        fs::create_dir_all(&src).expect("create src/");
        fs::write(src.join("main.rs"), main_rs).expect("write main.rs");
        checkout
    }

    const STOPPED: &str = "not started: the program stops at todo!(\"create\") (src/main.rs:39)";

    #[test]
    fn a_changed_stub_at_a_todo_is_in_progress_with_its_line() {
        let checkout = checkout_with("fn main() { let flags = 1; todo!() }\n");
        let mut results = [result(ExerciseStatus::NotStarted, STOPPED)];
        annotate(Some(checkout.path()), &mut results, &BTreeMap::new());
        assert_eq!(
            results[0].message,
            "in progress: stopped at the TODO in src/main.rs:39"
        );
        assert_eq!(
            results[0].status,
            ExerciseStatus::NotStarted,
            "still 0 points"
        );
    }

    #[test]
    fn the_shipped_stub_stays_not_started() {
        let original = original_main_rs("01-create").expect("the embedded stub");
        let checkout = checkout_with(original);
        let mut results = [result(ExerciseStatus::NotStarted, STOPPED)];
        annotate(Some(checkout.path()), &mut results, &BTreeMap::new());
        assert_eq!(results[0].message, STOPPED);
    }

    #[test]
    fn warnings_are_attached_unless_it_did_not_compile() {
        let checkout = checkout_with("");
        let warnings = BTreeMap::from([(
            "create".to_owned(),
            vec!["src/main.rs:3: unused variable: `unused`".to_owned()],
        )]);
        let mut results = [
            result(ExerciseStatus::Passed, "all 10 checks passed"),
            result(ExerciseStatus::DidNotCompile, "did not compile"),
        ];
        annotate(Some(checkout.path()), &mut results, &warnings);
        assert_eq!(
            results[0].compiler_output.as_deref(),
            Some("src/main.rs:3: unused variable: `unused`")
        );
        assert_eq!(results[1].compiler_output, None);
    }

    #[test]
    fn the_site_is_read_from_the_end_of_the_message() {
        assert_eq!(stopping_site(STOPPED), Some("src/main.rs:39"));
        assert_eq!(
            stopping_site("not started: the program stops at todo!(\"x\")"),
            None
        );
    }
}
