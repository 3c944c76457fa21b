//! The first-run welcome: what this lab is, where to start, how the loop works.
//!
//! Shown once per checkout, by whichever `cargo grade` subcommand runs first on a fresh clone
//! (no progress file yet), then remembered in the progress file (`welcome_shown`). It is short
//! on purpose: the README and the book carry the details; this only has to get a student from
//! "I cloned it" to "I am editing the first exercise with the grader watching".

use std::path::Path;

use super::ExerciseInfo;
use super::state::State;

/// The welcome text (plain, `\n` line ends), naming where to start: the first exercise of
/// `exercises` that `state` does not record as passed (a checkout may have progress before its
/// first terminal run: graded through a pipe, or by an editor's task).
pub fn welcome_text(exercises: &[ExerciseInfo], state: &State) -> String {
    let count = exercises.len();
    let start = exercises
        .iter()
        .find(|exercise| !state.has_passed(&exercise.name))
        .or(exercises.first());
    let (first_name, first_dir) = start.map_or(("create", "01-create"), |exercise| {
        (exercise.name.as_str(), exercise.dir.as_str())
    });
    format!(
        "Welcome to shmlab!\n\
         \n\
         In {count} small exercises you write Rust programs that share memory between processes\n\
         with System V shared memory (shmget, shmat, shmdt, shmctl). The grader runs each program\n\
         in a sandbox and checks what it prints and what it leaves in the kernel.\n\
         \n\
         Start here: read exercises/{first_dir}/README.md, then edit exercises/{first_dir}/src/main.rs.\n\
         \n\
         Run `cargo grade watch`: it grades the first exercise you have not passed yet, and grades\n\
         it again each time you save a file of it. Keys: h for a hint (h again for more), l for the\n\
         list, r to re-run, q to quit; once the exercise passes, n moves on to the next one.\n\
         To grade one exercise once instead, run `cargo grade {first_name}`.\n"
    )
}

/// Returns the welcome text if it was not shown yet in this checkout, and marks it shown in
/// `state` (the caller saves `state`).
pub fn take_welcome(state: &mut State, exercises: &[ExerciseInfo]) -> Option<String> {
    if state.welcome_shown {
        return None;
    }
    state.welcome_shown = true;
    Some(welcome_text(exercises, state))
}

/// For the CLI: on the first run in the checkout at `root`, returns the welcome text to print
/// and records in the progress file that it was shown. Also returns the progress file's warning,
/// if it was unusable.
pub fn welcome_if_first_run(
    root: &Path,
    exercises: &[ExerciseInfo],
) -> anyhow::Result<(Option<String>, Option<String>)> {
    let loaded = State::load(root);
    let mut state = loaded.state;
    let welcome = take_welcome(&mut state, exercises);
    if welcome.is_some() {
        state.save(root)?;
    }
    Ok((welcome, loaded.warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercises() -> Vec<ExerciseInfo> {
        vec![ExerciseInfo {
            name: "create".into(),
            dir: "01-create".into(),
            hint: Default::default(),
            points: 10,
        }]
    }

    #[test]
    fn welcome_names_the_first_readme_and_the_commands() {
        let text = welcome_text(&exercises(), &State::fresh());
        assert!(text.contains("exercises/01-create/README.md"), "{text}");
        assert!(text.contains("cargo grade watch"), "{text}");
        assert!(text.contains("cargo grade create"), "{text}");
    }

    #[test]
    fn welcome_starts_at_the_first_exercise_not_passed() {
        let mut lab = exercises();
        lab.push(ExerciseInfo {
            name: "sized".into(),
            dir: "05-sized".into(),
            hint: Default::default(),
            points: 20,
        });
        let mut state = State::fresh();
        state.record("create", true);
        let text = welcome_text(&lab, &state);
        assert!(
            text.contains("Start here: read exercises/05-sized/README.md"),
            "{text}"
        );
        assert!(text.contains("run `cargo grade sized`"), "{text}");
        assert!(!text.contains("01-create"), "{text}");
    }

    #[test]
    fn welcome_is_taken_once() {
        let mut state = State::fresh();
        assert!(take_welcome(&mut state, &exercises()).is_some());
        assert!(state.welcome_shown);
        assert_eq!(take_welcome(&mut state, &exercises()), None);
    }

    #[test]
    fn first_run_in_a_fresh_checkout_shows_the_welcome_once_and_saves() {
        let checkout = tempfile::tempdir().expect("create a scratch checkout");
        let root = checkout.path();
        let first = welcome_if_first_run(root, &exercises());
        let second = welcome_if_first_run(root, &exercises());
        let saved = State::load(root);
        let (welcome, warning) = first.expect("first run");
        assert!(welcome.is_some() && warning.is_none());
        assert_eq!(second.expect("second run"), (None, None));
        assert!(saved.existed && saved.state.welcome_shown);
    }
}
