//! Hints in levels: `cargo grade hint NAME` (and `h` in watch mode).
//!
//! A hint that hands over the code on the first ask teaches typing, not thinking. So the
//! hints come in levels, as a teacher gives them: level 1 is the concept and the question to
//! ask yourself; asking again gives level 2, the calls involved (names to look up in
//! `cargo doc -p sysv --open`); asking once more gives level 3, the shape of the code with
//! blanks. None of them writes out a line of the solution (`tests/student_stubs_teach.rs`).
//!
//! The level reached is kept per exercise in the progress file ([`State::hint_level`]), so
//! that asking again after a break goes on where the student was, watch mode and the command
//! line agree, and an instructor can see how much help was used. `--level N` shows a level
//! directly (and counts as reaching it).

use std::path::Path;

use super::ExerciseInfo;
use super::state::State;
use crate::info::find_exercise;

/// The level to show: the one asked for, or the next after the one reached (level 1 the first
/// time), never beyond the levels there are.
pub fn level_to_show(reached: u8, requested: Option<u8>, levels: u8) -> u8 {
    requested
        .unwrap_or(reached.saturating_add(1))
        .clamp(1, levels.max(1))
}

/// The hint text for `exercise` at `level`, with a header saying which level it is and how to
/// get the next one (`again` is what to do: a command, or a key in watch mode).
pub fn render_hint(exercise: &ExerciseInfo, level: u8, again: &str) -> String {
    let levels = exercise.hint.levels();
    let Some(text) = exercise.hint.at(level) else {
        return format!(
            "There is no hint for {}: exercises/{}/README.md has the whole task.\n",
            exercise.name, exercise.dir
        );
    };
    let level = level.clamp(1, levels);
    let next = if level >= levels {
        format!(
            "that was the last level: the book chapter docs/src/exercises/{}.md explains more",
            exercise.dir
        )
    } else if level == 1 {
        format!("{again} for the calls involved")
    } else {
        format!("{again} for the shape of the code, with blanks")
    };
    format!(
        "Hint {level} of {levels} for {} ({next}):\n\n{text}\n",
        exercise.name
    )
}

/// `cargo grade hint NAME [--level N]`: the text to print. Records the level reached in the
/// progress file of the checkout at `root`; a progress file that cannot be written costs only
/// a warning (returned), never the hint.
pub fn hint_command(
    root: &Path,
    exercises: &[ExerciseInfo],
    name: &str,
    requested: Option<u8>,
) -> anyhow::Result<(String, Vec<String>)> {
    let exercise = find_exercise(exercises, name)?;
    let loaded = State::load(root);
    let mut warnings: Vec<String> = loaded.warning.into_iter().collect();
    let mut state = loaded.state;
    let level = level_to_show(
        state.hint_level(&exercise.name),
        requested,
        exercise.hint.levels(),
    );
    let again = format!("run `cargo grade hint {}` again", exercise.name);
    let text = render_hint(exercise, level, &again);
    if state.record_hint(&exercise.name, level)
        && let Err(error) = state.save(root)
    {
        warnings.push(format!("could not save your progress: {error:#}"));
    }
    Ok((text, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::student::Hints;

    fn create() -> ExerciseInfo {
        ExerciseInfo {
            name: "create".into(),
            dir: "01-create".into(),
            hint: Hints(vec!["concept".into(), "calls".into(), "shape".into()]),
            points: 10,
        }
    }

    #[test]
    fn asking_again_goes_one_level_further_up_to_the_last() {
        assert_eq!(level_to_show(0, None, 3), 1);
        assert_eq!(level_to_show(1, None, 3), 2);
        assert_eq!(level_to_show(2, None, 3), 3);
        assert_eq!(level_to_show(3, None, 3), 3);
        assert_eq!(level_to_show(0, Some(3), 3), 3);
        assert_eq!(level_to_show(3, Some(1), 3), 1);
        assert_eq!(level_to_show(0, Some(9), 2), 2);
        assert_eq!(level_to_show(0, None, 0), 1);
    }

    #[test]
    fn each_level_says_what_the_next_gives() {
        let again = "run `cargo grade hint create` again";
        let first = render_hint(&create(), 1, again);
        assert!(
            first.starts_with("Hint 1 of 3 for create (run `cargo grade hint create` again for the calls involved):\n\nconcept\n"),
            "{first}"
        );
        assert!(render_hint(&create(), 2, again).contains("shape of the code, with blanks"));
        let last = render_hint(&create(), 3, again);
        assert!(last.contains("that was the last level"), "{last}");
        assert!(last.ends_with("shape\n"), "{last}");
    }

    #[test]
    fn the_level_reached_is_kept_in_the_progress_file() {
        let checkout = tempfile::tempdir().expect("a scratch checkout");
        let exercises = [create()];
        let show = |level| {
            hint_command(checkout.path(), &exercises, "create", level)
                .expect("a hint")
                .0
        };
        assert!(show(None).contains("concept"));
        assert!(show(None).contains("calls"));
        assert!(show(None).contains("shape"));
        assert!(show(None).contains("shape"), "stays at the last level");
        assert!(show(Some(1)).contains("concept"), "--level shows any level");
        assert_eq!(State::load(checkout.path()).state.hint_level("create"), 3);
        assert!(hint_command(checkout.path(), &exercises, "crate", None).is_err());
    }
}
