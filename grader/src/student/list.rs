//! The exercise list and the progress bar: `cargo grade list` and the `l` key in watch mode.
//!
//! One table serves both: its rows come from the progress file (watch mode: done or not) or
//! from a graded report (`cargo grade list`: in progress, not started, partial points).
//! Rendering is a pure function of those rows, returning a `String` with `\n` line ends:
//! callers print it (the watch loop converts line ends for raw mode), and tests compare it
//! without a terminal.

use std::fmt::Write as _;

use super::ExerciseInfo;
use super::state::State;
use crate::report::human::number;
use crate::report::{ExerciseStatus, Report};

/// Width of the progress bar, in characters between the brackets.
const BAR_WIDTH: usize = 30;

/// One row of the exercise table: what `cargo grade list` learns by grading, or what the watch
/// loop's progress file knows.
#[derive(Clone, Debug, PartialEq)]
pub struct Row<'a> {
    pub name: &'a str,
    pub status: &'a str,
    pub earned: f64,
    pub max: f64,
}

/// The rows the progress file gives: "done" with full points, or "not done" with none. Only
/// `cargo grade list`, which grades, can tell "not started" from "in progress".
pub fn rows_from_state<'a>(exercises: &'a [ExerciseInfo], state: &State) -> Vec<Row<'a>> {
    exercises
        .iter()
        .map(|exercise| {
            let done = state.has_passed(&exercise.name);
            let max = f64::from(exercise.points);
            Row {
                name: &exercise.name,
                status: if done { "done" } else { "not done" },
                earned: if done { max } else { 0.0 },
                max,
            }
        })
        .collect()
}

/// The table of exercises, in order, with their status and points; `current` (the exercise the
/// watch loop is on) marked with `>`. The watch loop shows the progress line after it,
/// `cargo grade list` the score.
pub fn render_table(rows: &[Row], current: Option<&str>) -> String {
    let name_width = rows
        .iter()
        .map(|row| row.name.len())
        .max()
        .unwrap_or(0)
        .max("exercise".len());
    let status_width = rows
        .iter()
        .map(|row| row.status.len())
        .max()
        .unwrap_or(0)
        .max("status".len());
    let mut text = String::new();
    // `write!` to a String cannot fail; the results are ignored for that reason only.
    // The number column is right-aligned under `#`: the marker, a space, then two digits.
    let _ = writeln!(
        text,
        "     #  {:<name_width$}  {:<status_width$}  points",
        "exercise", "status"
    );
    for (index, row) in rows.iter().enumerate() {
        let marker = if current == Some(row.name) { ">" } else { " " };
        let _ = writeln!(
            text,
            "  {marker} {:>2}  {:<name_width$}  {:<status_width$}  {:>3}/{}",
            index + 1,
            row.name,
            row.status,
            number(row.earned),
            number(row.max)
        );
    }
    text
}

/// `cargo grade list`: the exercise table with what grading found, then the score.
pub fn render_graded(report: &Report) -> String {
    let rows: Vec<Row> = report
        .exercises
        .iter()
        .map(|exercise| Row {
            name: &exercise.name,
            status: match exercise.status {
                ExerciseStatus::Passed => "done",
                ExerciseStatus::Failed => "in progress",
                ExerciseStatus::NotStarted
                    if exercise.message.starts_with(super::progress::IN_PROGRESS) =>
                {
                    "in progress"
                }
                other => other.label(),
            },
            earned: exercise.points,
            max: exercise.max,
        })
        .collect();
    format!(
        "{}\nScore: {}/{}\n",
        render_table(&rows, None),
        number(report.score()),
        number(report.max_score())
    )
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
        let text = format!(
            "{}{}",
            render_table(&rows_from_state(&exercises(), &state), Some("parent-child")),
            render_progress(&exercises(), &state)
        );
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
    fn the_graded_list_tells_in_progress_from_not_started_and_keeps_partial_points() {
        use crate::report::{ExerciseResult, Source};
        use std::time::Duration;
        let result = |name: &str, status, points, message: &str| ExerciseResult {
            name: name.to_owned(),
            dir: String::new(),
            status,
            points,
            max: 15.0,
            message: message.to_owned(),
            compiler_output: None,
            checks: Vec::new(),
            isolation: None,
            time: Duration::ZERO,
        };
        let report = Report {
            source: Source::Exercises,
            root: String::new(),
            build_time: Duration::ZERO,
            grade_time: Duration::ZERO,
            isolation: None,
            submission: None,
            exercises: vec![
                result("create", ExerciseStatus::Passed, 15.0, ""),
                result("attach", ExerciseStatus::Failed, 7.5, ""),
                result(
                    "parent-child",
                    ExerciseStatus::NotStarted,
                    0.0,
                    &format!("{} in src/main.rs:12", super::super::progress::IN_PROGRESS),
                ),
                result("ping-pong", ExerciseStatus::NotStarted, 0.0, ""),
                result("sized", ExerciseStatus::DidNotCompile, 0.0, ""),
            ],
        };
        let text = render_graded(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "     #  exercise      status           points");
        assert_eq!(lines[1], "     1  create        done              15/15");
        assert_eq!(lines[2], "     2  attach        in progress      7.50/15");
        assert_eq!(lines[3], "     3  parent-child  in progress        0/15");
        assert_eq!(lines[4], "     4  ping-pong     not started        0/15");
        assert_eq!(lines[5], "     5  sized         did not compile    0/15");
        assert_eq!(lines[7], "Score: 22.50/75");
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
