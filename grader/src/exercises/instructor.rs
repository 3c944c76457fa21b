#![cfg(feature = "instructor")]
//! Instructor-only tests: checks the students' graders neither run nor name.
//!
//! This file is compiled only with the `instructor` feature (a default feature of the
//! instructor's checkout) and `cargo grade handout` does not copy it: the first line above is
//! the marker the handout looks for. So these checks run on Gradescope, PrairieLearn, Autolab
//! and in `cargo grade --submission`, never in a student's own `cargo grade`. They test what a
//! program that only fits the README's examples gets wrong: inputs the README does not show.
//!
//! Every check here has a [`Visibility`] other than `Visible` (the unit test below says so):
//! `after_due_date` or `after_published` for checks worth points, `hidden` only for checks worth
//! none, as Gradescope's specification asks (a hidden test with points hides the total).

use crate::checks::{Failure, Test, Visibility, ensure};

/// The instructor-only tests of exercise `name`, appended to its visible ones.
pub fn tests(name: &str) -> Vec<Test> {
    match name {
        "remove" => remove(),
        _ => Vec::new(),
    }
}

/// A key the README never shows, given in decimal: 31337 is 0x7a69.
const REMOVE_KEY: i32 = 31337;
/// A size other than create's 1024, so that a status line copied from the README fails.
const REMOVE_SIZE: usize = 4096;

/// `remove 31337` on a 4096-byte segment that the grader keeps attached: the status line must
/// come from `shmctl(IPC_STAT)` (key in hexadecimal, real size, one attachment), and the segment
/// must be marked for destruction.
fn remove() -> Vec<Test> {
    vec![
        Test::new("a key in decimal that the README does not show", &[REMOVE_KEY])
            .held(REMOVE_KEY, REMOVE_SIZE, 0o600, &[])
            .run(&["31337"])
            .check(
                2,
                "prints the status of a key given in decimal, with its real size",
                "print the key with {key:#x} and the size, creator and attachments from shmctl_stat, not constants",
                |run| {
                    run.exited(0, 0)?;
                    let segment = run.setup_segment(0)?;
                    let expected = format!(
                        "Segment ID {} (key {REMOVE_KEY:#x}): {REMOVE_SIZE} bytes, created by PID {}, attached 1 time(s)",
                        segment.entry.shmid, segment.entry.cpid
                    );
                    let lines = run.output_lines(0)?;
                    ensure(lines.first() == Some(&expected), || {
                        Failure::new("the status line does not match the kernel's")
                            .expected(expected.clone())
                            .actual(lines.join("\n"))
                            .step(0)
                    })
                },
            )
            .visibility(Visibility::AfterDueDate)
            .check(
                0,
                "marks the segment of a decimal key for destruction",
                "call shmctl_rmid on the id of the key given",
                |run| run.setup_segment_removed(0),
            )
            .visibility(Visibility::Hidden),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercises::TABLE;

    #[test]
    fn instructor_checks_are_not_visible_and_hidden_ones_are_worth_nothing() {
        let mut count = 0;
        for (name, _) in TABLE {
            for check in tests(name).iter().flat_map(|test| &test.checks) {
                count += 1;
                assert_ne!(check.visibility, Visibility::Visible, "{}", check.name);
                if check.visibility == Visibility::Hidden {
                    assert_eq!(
                        check.points, 0,
                        "{}: a hidden check with points",
                        check.name
                    );
                }
            }
        }
        assert!(count > 0, "some instructor-only check exists");
    }

    #[test]
    fn the_visible_table_has_only_visible_checks() {
        for (name, visible) in TABLE {
            for check in visible().iter().flat_map(|test| &test.checks) {
                assert_eq!(
                    check.visibility,
                    Visibility::Visible,
                    "{name}: {} is not visible but ships in the handout; move it to instructor.rs",
                    check.name
                );
            }
        }
    }
}
