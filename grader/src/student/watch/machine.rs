//! The watch loop's decisions, without any I/O: events in, actions out, a screen to draw.
//!
//! Everything the student sees and every decision ("re-grade now?", "may we move on?", "is
//! this the end?") lives here, as a plain state machine: [`Machine::handle`] takes an [`Event`]
//! and returns the [`Action`]s for the I/O layer to carry out, and [`Machine::screen`] renders
//! what the terminal should show. The I/O layer ([`super`]) only turns key presses and file
//! events into events, runs the grader when asked, saves the progress and draws the screen.
//! That split is what lets the unit tests below cover the loop's behaviour without a terminal,
//! a file watcher or a real grader.

use std::fmt::Write as _;

use crate::student::ExerciseInfo;
use crate::student::hint::render_hint;
use crate::student::list::{render_progress, render_table, rows_from_state};
use crate::student::state::State;

/// Something that happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A file of the current exercise was saved (already debounced and filtered).
    FileChanged,
    /// A key was pressed (`Ctrl-C` arrives as `q`).
    Key(char),
    /// The grader finished the exercise that [`Action::Grade`] asked for, at the wall-clock
    /// time `at` (`14:03:27`, shown so that a re-grade with the same result still shows).
    GradeDone {
        passed: bool,
        report: String,
        at: String,
    },
    /// The grader itself failed (not the exercise): shown, and `r` retries.
    GradeFailed { error: String },
}

/// Something the I/O layer must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Draw [`Machine::screen`].
    Redraw,
    /// Grade this exercise, then feed back [`Event::GradeDone`] or [`Event::GradeFailed`].
    Grade(String),
    /// Save [`Machine::state`] to the progress file.
    SaveProgress,
    /// Leave the loop.
    Quit,
}

/// Where the current exercise stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Status {
    Grading,
    Passed(String),
    Failed(String),
    GraderError(String),
}

/// What is shown under the report, until the next event replaces it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Panel {
    Nothing,
    Hint,
    List,
    Message(String),
}

/// The watch loop's state. See the module docs.
#[derive(Debug)]
pub struct Machine {
    exercises: Vec<ExerciseInfo>,
    state: State,
    /// Index into `exercises`; `None` once every exercise passed and the student moved on.
    current: Option<usize>,
    status: Status,
    panel: Panel,
    /// The first-run welcome, shown until the student does something.
    welcome: Option<String>,
    /// A standing remark from the I/O layer (e.g. "file watching is off: press r").
    notice: Option<String>,
    /// When the last grading finished, and how many there were in this session.
    graded_at: Option<String>,
    gradings: u32,
    /// Whether the checkout has the reference solutions (`solutions/`): the instructor's does,
    /// a student's handout does not.
    solutions: bool,
}

impl Machine {
    /// A loop over `exercises` with the saved progress `state`; `welcome` is the first-run text,
    /// if this is the first run. Call [`Machine::start`] next.
    pub fn new(exercises: Vec<ExerciseInfo>, state: State, welcome: Option<String>) -> Machine {
        let current = first_pending(&exercises, &state);
        Machine {
            exercises,
            state,
            current,
            status: Status::Grading,
            panel: Panel::Nothing,
            welcome,
            notice: None,
            graded_at: None,
            gradings: 0,
            solutions: false,
        }
    }

    /// The first actions: grade the first exercise not passed yet (or congratulate).
    pub fn start(&mut self) -> Vec<Action> {
        match self.current_exercise() {
            Some(exercise) => {
                let name = exercise.name.clone();
                self.status = Status::Grading;
                vec![Action::Redraw, Action::Grade(name)]
            }
            None => vec![Action::Redraw],
        }
    }

    /// The progress, for the I/O layer to save on [`Action::SaveProgress`].
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The exercise being worked on, if any is left.
    pub fn current_exercise(&self) -> Option<&ExerciseInfo> {
        self.current.map(|index| &self.exercises[index])
    }

    /// Says whether the checkout has the reference solutions, shown after a pass.
    pub fn set_solutions(&mut self, present: bool) {
        self.solutions = present;
    }

    /// Sets (or clears) a standing remark shown above the keys line.
    pub fn set_notice(&mut self, notice: Option<String>) {
        self.notice = notice;
    }

    /// Handles one event; returns what to do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        if !matches!(event, Event::GradeDone { .. } | Event::GradeFailed { .. }) {
            // The student has done something: the welcome has served its purpose.
            self.welcome = None;
        }
        match event {
            Event::FileChanged | Event::Key('r') => self.regrade(),
            Event::Key('q') => vec![Action::Quit],
            Event::Key('h') => self.hint(),
            Event::Key('l') => self.show(Panel::List),
            Event::Key('n') => self.next(),
            Event::Key(_) => Vec::new(),
            Event::GradeDone { passed, report, at } => {
                self.gradings += 1;
                self.graded_at = Some(at);
                self.graded(passed, report)
            }
            Event::GradeFailed { error } => {
                self.status = Status::GraderError(error);
                vec![Action::Redraw]
            }
        }
    }

    fn regrade(&mut self) -> Vec<Action> {
        let Some(exercise) = self.current_exercise() else {
            return Vec::new();
        };
        let name = exercise.name.clone();
        self.status = Status::Grading;
        self.panel = Panel::Nothing;
        vec![Action::Redraw, Action::Grade(name)]
    }

    /// Toggles a panel: pressing `h` twice hides the hint again.
    fn show(&mut self, panel: Panel) -> Vec<Action> {
        self.panel = if self.panel == panel {
            Panel::Nothing
        } else {
            panel
        };
        vec![Action::Redraw]
    }

    /// `h`: shows the hint at the level reached (level 1 the first time); `h` again while it is
    /// shown goes one level further, and hides it after the last level.
    fn hint(&mut self) -> Vec<Action> {
        let Some(exercise) = self.current_exercise() else {
            return self.show(Panel::Hint);
        };
        let name = exercise.name.clone();
        let levels = exercise.hint.levels();
        let reached = self.state.hint_level(&name);
        let level = if self.panel != Panel::Hint {
            reached.max(1)
        } else if reached < levels {
            reached + 1
        } else {
            self.panel = Panel::Nothing;
            return vec![Action::Redraw];
        };
        self.panel = Panel::Hint;
        if self.state.record_hint(&name, level) {
            vec![Action::SaveProgress, Action::Redraw]
        } else {
            vec![Action::Redraw]
        }
    }

    fn next(&mut self) -> Vec<Action> {
        let Some(exercise) = self.current_exercise() else {
            return self.show(Panel::Message(
                "There is no next exercise: all of them pass.".to_owned(),
            ));
        };
        if !matches!(self.status, Status::Passed(_)) {
            let message = format!(
                "{} does not pass yet, so there is no moving on: fix it first (h shows a hint).",
                exercise.name
            );
            return self.show(Panel::Message(message));
        }
        self.current = first_pending(&self.exercises, &self.state);
        self.panel = Panel::Nothing;
        self.start()
    }

    fn graded(&mut self, passed: bool, report: String) -> Vec<Action> {
        let Some(exercise) = self.current_exercise() else {
            return Vec::new();
        };
        let name = exercise.name.clone();
        self.state.record(&name, passed);
        self.status = if passed {
            Status::Passed(report)
        } else {
            Status::Failed(report)
        };
        vec![Action::SaveProgress, Action::Redraw]
    }

    /// What the terminal shows now: plain text, `\n` line ends.
    pub fn screen(&self) -> String {
        let mut screen = String::new();
        if let Some(welcome) = &self.welcome {
            screen.push_str(welcome);
            screen.push('\n');
        }
        let total = self.exercises.len();
        match self.current_exercise() {
            None => screen.push_str(&self.congratulations()),
            Some(exercise) => {
                let position = self.current.map_or(0, |index| index + 1);
                let _ = writeln!(
                    screen,
                    "Exercise {position}/{total}: {} ({})\n",
                    exercise.name,
                    exercise.main_rs().display()
                );
                match &self.status {
                    Status::Grading => {
                        let _ = writeln!(screen, "Grading {}...", exercise.name);
                    }
                    Status::GraderError(error) => {
                        let _ = writeln!(
                            screen,
                            "The grader could not grade {}: {error}",
                            exercise.name
                        );
                        screen.push_str("Press r to try again.\n");
                    }
                    Status::Failed(report) => {
                        push_report(&mut screen, report);
                        let _ = writeln!(
                            screen,
                            "{} does not pass yet. Edit {} and save: it is graded again.",
                            exercise.name,
                            exercise.main_rs().display()
                        );
                    }
                    Status::Passed(report) => {
                        push_report(&mut screen, report);
                        let _ = if self.solutions {
                            writeln!(
                                screen,
                                "{} passes! Compare your code with the reference solution: {}",
                                exercise.name,
                                exercise.solution_main_rs().display()
                            )
                        } else {
                            writeln!(
                                screen,
                                "{} passes! Its chapter, {}, says what the grader checked and \
                                 why (the reference solution is your instructor's: this checkout \
                                 has no solutions/).",
                                exercise.name,
                                exercise.chapter_md().display()
                            )
                        };
                        if first_pending(&self.exercises, &self.state).is_none() {
                            screen.push('\n');
                            screen.push_str(&self.congratulations());
                        } else {
                            screen.push_str(
                                "When you are done experimenting, press n for the next exercise.\n",
                            );
                        }
                    }
                }
            }
        }
        screen.push('\n');
        match &self.panel {
            Panel::Nothing => {}
            Panel::Hint => match self.current_exercise() {
                Some(exercise) => {
                    let level = self.state.hint_level(&exercise.name).max(1);
                    screen.push_str(&render_hint(exercise, level, "press h again"));
                    screen.push('\n');
                }
                None => screen.push_str("No hint needed: every exercise passes.\n\n"),
            },
            Panel::List => {
                let current = self
                    .current_exercise()
                    .map(|exercise| exercise.name.as_str());
                screen.push_str(&render_table(
                    &rows_from_state(&self.exercises, &self.state),
                    current,
                ));
                screen.push('\n');
            }
            Panel::Message(message) => {
                let _ = writeln!(screen, "{message}\n");
            }
        }
        if let (Some(at), Status::Passed(_) | Status::Failed(_)) = (&self.graded_at, &self.status) {
            let _ = writeln!(
                screen,
                "Last graded at {at} (grading {} of this session).",
                self.gradings
            );
        }
        let _ = writeln!(screen, "{}", render_progress(&self.exercises, &self.state));
        if let Some(notice) = &self.notice {
            let _ = writeln!(screen, "{notice}");
        }
        let next = if matches!(self.status, Status::Passed(_)) {
            "n next / "
        } else {
            ""
        };
        let _ = writeln!(screen, "Keys: h hint / l list / {next}r re-run / q quit");
        screen
    }

    fn congratulations(&self) -> String {
        let points: u32 = self.exercises.iter().map(|exercise| exercise.points).sum();
        format!(
            "Congratulations! All {} exercises pass ({points}/{points} points).\n\
             You created, attached, shared, synchronised, sized and removed System V shared memory.\n\
             Before you go, check that you left nothing behind: `ipcs -m` should not list your keys.\n",
            self.exercises.len()
        )
    }
}

fn push_report(screen: &mut String, report: &str) {
    screen.push_str(report.trim_end());
    screen.push_str("\n\n");
}

/// The first exercise, in course order, that has not passed.
fn first_pending(exercises: &[ExerciseInfo], state: &State) -> Option<usize> {
    exercises
        .iter()
        .position(|exercise| !state.has_passed(&exercise.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::student::Hints;

    fn exercises() -> Vec<ExerciseInfo> {
        ["create", "attach", "remove"]
            .into_iter()
            .enumerate()
            .map(|(index, name)| ExerciseInfo {
                name: name.to_owned(),
                dir: format!("{:02}-{name}", index + 1),
                hint: Hints(vec![
                    format!("the hint for {name}"),
                    format!("the calls for {name}"),
                ]),
                points: 10,
            })
            .collect()
    }

    fn machine_with_passed(passed: &[&str]) -> Machine {
        let mut state = State::fresh();
        for name in passed {
            state.record(name, true);
        }
        let mut machine = Machine::new(exercises(), state, None);
        machine.set_solutions(true);
        machine
    }

    fn done(passed: bool, report: &str) -> Event {
        Event::GradeDone {
            passed,
            report: report.to_owned(),
            at: "14:03:27".to_owned(),
        }
    }

    fn grade(name: &str) -> Action {
        Action::Grade(name.to_owned())
    }

    #[test]
    fn starts_by_grading_the_first_exercise_not_passed() {
        let mut machine = machine_with_passed(&["create"]);
        assert_eq!(machine.start(), vec![Action::Redraw, grade("attach")]);
        assert!(
            machine
                .screen()
                .contains("Exercise 2/3: attach (exercises/02-attach/src/main.rs)")
        );
        assert!(machine.screen().contains("Grading attach..."));
    }

    #[test]
    fn a_failure_is_shown_with_its_report_and_regraded_on_save_and_on_r() {
        let mut machine = machine_with_passed(&[]);
        machine.start();
        assert_eq!(
            machine.handle(done(false, "check 1: FAILED")),
            vec![Action::SaveProgress, Action::Redraw]
        );
        let screen = machine.screen();
        assert!(screen.contains("check 1: FAILED"), "{screen}");
        assert!(screen.contains("create does not pass yet"), "{screen}");
        assert!(
            !screen.contains("n next"),
            "n is offered only after a pass: {screen}"
        );
        assert_eq!(
            machine.handle(Event::FileChanged),
            vec![Action::Redraw, grade("create")]
        );
        assert_eq!(
            machine.handle(Event::Key('r')),
            vec![Action::Redraw, grade("create")]
        );
        assert!(!machine.state().has_passed("create"));
    }

    #[test]
    fn the_time_of_the_last_grading_shows_so_a_regrade_is_visible() {
        let mut machine = machine_with_passed(&[]);
        machine.start();
        assert!(!machine.screen().contains("Last graded"));
        machine.handle(done(false, "same report"));
        let first = machine.screen();
        assert!(
            first.contains("Last graded at 14:03:27 (grading 1 of this session)."),
            "{first}"
        );
        machine.handle(Event::FileChanged);
        assert!(!machine.screen().contains("Last graded"), "grading now");
        machine.handle(done(false, "same report"));
        let second = machine.screen();
        assert_ne!(first, second, "the same result still changes the screen");
        assert!(second.contains("(grading 2 of this session)"), "{second}");
    }

    #[test]
    fn n_is_refused_until_the_exercise_passes() {
        let mut machine = machine_with_passed(&[]);
        machine.start();
        machine.handle(done(false, "report"));
        assert_eq!(machine.handle(Event::Key('n')), vec![Action::Redraw]);
        assert!(
            machine
                .screen()
                .contains("create does not pass yet, so there is no moving on")
        );
        assert_eq!(
            machine
                .current_exercise()
                .map(|exercise| exercise.name.as_str()),
            Some("create")
        );
    }

    #[test]
    fn a_pass_is_recorded_shows_the_solution_then_n_moves_on() {
        let mut machine = machine_with_passed(&[]);
        machine.start();
        assert_eq!(
            machine.handle(done(true, "all checks pass")),
            vec![Action::SaveProgress, Action::Redraw]
        );
        assert!(machine.state().has_passed("create"));
        let screen = machine.screen();
        assert!(
            screen.contains("solutions/01-create/src/main.rs"),
            "{screen}"
        );
        assert!(screen.contains("n next"), "{screen}");
        assert!(screen.contains("1/3 exercises"), "{screen}");
        assert_eq!(
            machine.handle(Event::Key('n')),
            vec![Action::Redraw, grade("attach")]
        );
    }

    #[test]
    fn without_solutions_a_pass_points_to_the_chapter_not_to_a_missing_folder() {
        let mut machine = Machine::new(exercises(), State::fresh(), None);
        machine.start();
        machine.handle(done(true, "all checks pass"));
        let screen = machine.screen();
        assert!(!screen.contains("solutions/01-create"), "{screen}");
        assert!(
            screen.contains("create passes! Its chapter, docs/src/exercises/01-create.md,"),
            "{screen}"
        );
    }

    #[test]
    fn a_later_failure_forgets_the_pass() {
        let mut machine = machine_with_passed(&[]);
        machine.start();
        machine.handle(done(true, "ok"));
        machine.handle(Event::FileChanged);
        machine.handle(done(false, "broken again"));
        assert!(!machine.state().has_passed("create"));
        assert_eq!(machine.handle(Event::Key('n')), vec![Action::Redraw]);
    }

    #[test]
    fn n_skips_exercises_already_passed() {
        let mut machine = machine_with_passed(&["attach"]);
        machine.start();
        machine.handle(done(true, "ok"));
        assert_eq!(
            machine.handle(Event::Key('n')),
            vec![Action::Redraw, grade("remove")]
        );
    }

    #[test]
    fn the_last_pass_congratulates_and_n_then_ends_on_the_congratulations() {
        let mut machine = machine_with_passed(&["create", "attach"]);
        machine.start();
        machine.handle(done(true, "ok"));
        let screen = machine.screen();
        assert!(
            screen.contains("solutions/03-remove/src/main.rs"),
            "{screen}"
        );
        assert!(
            screen.contains("Congratulations! All 3 exercises pass (30/30 points)"),
            "{screen}"
        );
        assert_eq!(machine.handle(Event::Key('n')), vec![Action::Redraw]);
        assert_eq!(machine.current_exercise(), None);
        assert!(machine.screen().contains("Congratulations!"));
        // Nothing left to grade: saves and r do nothing, n says so, q still quits.
        assert_eq!(machine.handle(Event::FileChanged), Vec::new());
        assert_eq!(machine.handle(Event::Key('r')), Vec::new());
        assert_eq!(machine.handle(Event::Key('n')), vec![Action::Redraw]);
        assert!(machine.screen().contains("There is no next exercise"));
        assert_eq!(machine.handle(Event::Key('q')), vec![Action::Quit]);
    }

    #[test]
    fn everything_already_passed_starts_on_the_congratulations() {
        let mut machine = machine_with_passed(&["create", "attach", "remove"]);
        assert_eq!(machine.start(), vec![Action::Redraw]);
        assert!(machine.screen().contains("Congratulations!"));
    }

    #[test]
    fn h_and_l_toggle_the_hint_and_the_list() {
        let mut machine = machine_with_passed(&[]);
        machine.start();
        machine.handle(done(false, "report"));
        assert_eq!(
            machine.handle(Event::Key('h')),
            vec![Action::SaveProgress, Action::Redraw],
            "the first hint is recorded"
        );
        let screen = machine.screen();
        assert!(
            screen.contains("Hint 1 of 2 for create (press h again for the calls involved):\n\nthe hint for create"),
            "{screen}"
        );
        machine.handle(Event::Key('l'));
        let screen = machine.screen();
        assert!(!screen.contains("Hint 1 of 2"), "{screen}");
        assert!(screen.contains(">  1  create"), "{screen}");
        assert_eq!(screen.matches("Progress:").count(), 1, "{screen}");
        machine.handle(Event::Key('l'));
        assert!(!machine.screen().contains(">  1  create"));
        assert_eq!(
            machine.handle(Event::Key('h')),
            vec![Action::Redraw],
            "level 1 again: nothing new to record"
        );
        assert_eq!(
            machine.handle(Event::Key('h')),
            vec![Action::SaveProgress, Action::Redraw]
        );
        assert!(machine.screen().contains("Hint 2 of 2 for create"));
        assert!(machine.screen().contains("the calls for create"));
        assert_eq!(machine.state().hint_level("create"), 2);
        machine.handle(Event::Key('h'));
        assert!(
            !machine.screen().contains("Hint 2 of 2"),
            "h after the last level hides the hint"
        );
        machine.handle(Event::Key('h'));
        assert!(
            machine.screen().contains("Hint 2 of 2"),
            "and shows the level reached again"
        );
    }

    #[test]
    fn other_keys_are_ignored_and_q_quits() {
        let mut machine = machine_with_passed(&[]);
        machine.start();
        assert_eq!(machine.handle(Event::Key('x')), Vec::new());
        assert_eq!(machine.handle(Event::Key('q')), vec![Action::Quit]);
    }

    #[test]
    fn a_grader_error_is_shown_and_r_retries() {
        let mut machine = machine_with_passed(&[]);
        machine.start();
        assert_eq!(
            machine.handle(Event::GradeFailed {
                error: "cargo not found".to_owned()
            }),
            vec![Action::Redraw]
        );
        assert!(
            machine
                .screen()
                .contains("The grader could not grade create: cargo not found")
        );
        assert!(!machine.state().has_passed("create"));
        assert_eq!(
            machine.handle(Event::Key('r')),
            vec![Action::Redraw, grade("create")]
        );
    }

    #[test]
    fn the_welcome_stays_until_the_student_acts_and_the_notice_stays() {
        let mut machine = Machine::new(
            exercises(),
            State::fresh(),
            Some("Welcome to shmlab!\n".to_owned()),
        );
        machine.set_notice(Some(
            "File watching is off: press r after saving.".to_owned(),
        ));
        machine.start();
        machine.handle(done(false, "report"));
        assert!(machine.screen().starts_with("Welcome to shmlab!"));
        machine.handle(Event::Key('h'));
        let screen = machine.screen();
        assert!(!screen.contains("Welcome"), "{screen}");
        assert!(screen.contains("File watching is off"), "{screen}");
    }
}
