//! The exercise list and the progress bar: `cargo grade list` and the `l` key in watch mode.
//!
//! Rendering is a pure function of the metadata and the progress, returning a `String` with
//! `\n` line ends: callers print it (the watch loop converts line ends for raw mode), and tests
//! compare it without a terminal.

use std::fmt::Write as _;

use super::ExerciseInfo;
use super::state::State;

/// Width of the progress bar, in characters between the brackets.
const BAR_WIDTH: usize = 30;

/// The table of exercises, in order, with their status and points, then the progress line.
///
/// `current` marks the exercise the watch loop is on (with `>`), if any.
pub fn render_list(exercises: &[ExerciseInfo], state: &State, current: Option<&str>) -> String {
    let mut text = render_table(exercises, state, current);
    text.push_str(&render_progress(exercises, state));
    text.push('\n');
    text
}

/// The table of [`render_list`] alone: the watch loop shows the progress line anyway.
pub fn render_table(exercises: &[ExerciseInfo], state: &State, current: Option<&str>) -> String {
    let name_width = exercises
        .iter()
        .map(|exercise| exercise.name.len())
        .max()
        .unwrap_or(0)
        .max("exercise".len());
    let mut text = String::new();
    // `write!` to a String cannot fail; the results are ignored for that reason only.
    // The number column is right-aligned under `#`: the marker, a space, then two digits.
    let _ = writeln!(
        text,
        "     #  {:<name_width$}  {:<8}  points",
        "exercise", "status"
    );
    for (index, exercise) in exercises.iter().enumerate() {
        let marker = if current == Some(exercise.name.as_str()) {
            ">"
        } else {
            " "
        };
        let done = state.has_passed(&exercise.name);
        // The progress file knows passed or not; `cargo grade list`, which grades, tells "not
        // started" from "in progress". The words are the same where they overlap.
        let status = if done { "done" } else { "not done" };
        let earned = if done { exercise.points } else { 0 };
        let _ = writeln!(
            text,
            "  {marker} {:>2}  {:<name_width$}  {status:<8}  {earned:>3}/{}",
            index + 1,
            exercise.name,
            exercise.points
        );
    }
    text
}

/// One line: `Progress: [#####>-----] 2/6 exercises, 25/100 points`.
pub fn render_progress(exercises: &[ExerciseInfo], state: &State) -> String {
    let done = exercises
        .iter()
        .filter(|exercise| state.has_passed(&exercise.name))
        .count();
    let total = exercises.len();
    let earned: u32 = exercises
        .iter()
        .filter(|exercise| state.has_passed(&exercise.name))
        .map(|exercise| exercise.points)
        .sum();
    let possible: u32 = exercises.iter().map(|exercise| exercise.points).sum();
    format!(
        "Progress: [{}] {done}/{total} exercises, {earned}/{possible} points",
        bar(done, total)
    )
}

/// `#` for the part done, `>` at its tip, `-` for the rest.
fn bar(done: usize, total: usize) -> String {
    let filled = (done * BAR_WIDTH).checked_div(total).unwrap_or(0);
    let mut bar = "#".repeat(filled);
    if filled < BAR_WIDTH {
        bar.push('>');
        bar.push_str(&"-".repeat(BAR_WIDTH - filled - 1));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercises() -> Vec<ExerciseInfo> {
        [("create", 10), ("parent-child", 15), ("remove", 20)]
            .into_iter()
            .enumerate()
            .map(|(index, (name, points))| ExerciseInfo {
                name: name.to_owned(),
                dir: format!("{:02}-{name}", index + 1),
                hint: Default::default(),
                points,
            })
            .collect()
    }

    #[test]
    fn list_shows_status_points_and_the_current_exercise() {
        let mut state = State::fresh();
        state.record("create", true);
        let text = render_list(&exercises(), &state, Some("parent-child"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "     #  exercise      status    points");
        assert_eq!(lines[1], "     1  create        done       10/10");
        assert_eq!(lines[2], "  >  2  parent-child  not done    0/15");
        assert_eq!(lines[3], "     3  remove        not done    0/20");
        assert_eq!(
            lines[0].find('#'),
            lines[1].find('1'),
            "the header's # stands over the numbers"
        );
        assert!(
            lines[4].starts_with("Progress: [##########>---"),
            "{}",
            lines[4]
        );
        assert!(
            lines[4].ends_with("] 1/3 exercises, 10/45 points"),
            "{}",
            lines[4]
        );
    }

    #[test]
    fn progress_bar_is_empty_then_full() {
        let mut state = State::fresh();
        let empty = render_progress(&exercises(), &state);
        assert!(
            empty.contains(&format!("[>{}]", "-".repeat(BAR_WIDTH - 1))),
            "{empty}"
        );
        assert!(empty.ends_with("0/3 exercises, 0/45 points"), "{empty}");
        for name in ["create", "parent-child", "remove"] {
            state.record(name, true);
        }
        let full = render_progress(&exercises(), &state);
        assert!(
            full.contains(&format!("[{}]", "#".repeat(BAR_WIDTH))),
            "{full}"
        );
        assert!(full.ends_with("3/3 exercises, 45/45 points"), "{full}");
    }

    #[test]
    fn no_exercises_does_not_divide_by_zero() {
        assert!(render_progress(&[], &State::fresh()).ends_with("0/0 exercises, 0/0 points"));
    }
}
