#![cfg(feature = "instructor")]
//! `cargo grade watch` end to end, in a pseudo-terminal, with a fake grader.
//!
//! The test binary plays both sides: each test below re-runs this binary in a pty (rexpect)
//! with `SHMLAB_TEST_WATCH_CHILD` set, and `main` then runs the child side instead of the
//! tests: the real [`run_watch`] on a scratch checkout with a [`FakeLab`]. The fake passes an
//! exercise when its `src/main.rs` contains "solved", and numbers its reports, so that the test
//! sees each re-grade. Every step waits for the expected output (with a timeout), never for a
//! fixed time.
//!
//! The binary has its own `main` (`harness = false`, with `libtest-mimic` for the usual test
//! runner's options and output) so that the child side is not a test: as an ignored `#[test]`
//! it ran, and passed having tested nothing, under `cargo test -- --include-ignored`.

use std::env;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use grader::info::find_exercise;
use grader::student::state::State;
use grader::student::watch::run_watch;
use grader::student::{ExerciseInfo, Lab};
use libtest_mimic::{Arguments, Trial};
use nix::sys::termios::{LocalFlags, tcgetattr};
use nix::sys::wait::WaitStatus;
use rexpect::session::{PtySession, spawn_command};

/// The tests, each named after its function (a panic fails it, as under `#[test]`).
macro_rules! trials {
    ($($test:ident),* $(,)?) => {
        vec![$(Trial::test(stringify!($test), || {
            $test();
            Ok(())
        })),*]
    };
}

/// The child side when the parent asked for it; otherwise the tests.
fn main() -> ExitCode {
    if let Ok(mode) = env::var(CHILD_MODE) {
        watch_child(&mode);
        return ExitCode::SUCCESS;
    }
    let trials = trials![
        watch_regrades_on_save_points_to_the_chapter_moves_on_and_quits,
        watch_congratulates_when_everything_passes_and_then_skips_the_welcome,
        a_panicking_grader_leaves_the_terminal_usable,
        watch_without_a_terminal_refuses_politely,
        without_file_events_watch_says_so_and_r_still_grades,
        a_corrupt_progress_file_is_a_warning_and_a_fresh_start,
        a_resized_terminal_is_redrawn,
    ];
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}

/// Which scenario the child runs: `normal`, `panic` or `no-terminal`.
const CHILD_MODE: &str = "SHMLAB_TEST_WATCH_CHILD";
/// The scratch checkout the child watches.
const CHILD_ROOT: &str = "SHMLAB_TEST_WATCH_ROOT";
/// Per expectation: generous, since a loaded CI machine may be slow to start the child.
const TIMEOUT_MS: u64 = 30_000;

fn exercises() -> Vec<ExerciseInfo> {
    vec![
        ExerciseInfo {
            name: "create".into(),
            dir: "01-create".into(),
            hint: "call shmget".into(),
            points: 10,
        },
        ExerciseInfo {
            name: "attach".into(),
            dir: "02-attach".into(),
            hint: "call shmat".into(),
            points: 15,
        },
    ]
}

struct FakeLab {
    root: PathBuf,
    grades: u32,
    /// Panic on this grade (1 = the first), to test the way out on a panic.
    panic_on: Option<u32>,
}

impl Lab for FakeLab {
    fn grade(&mut self, name: &str) -> anyhow::Result<(bool, String)> {
        self.grades += 1;
        assert_ne!(
            self.panic_on,
            Some(self.grades),
            "fake grader panics on purpose"
        );
        let exercises = exercises();
        let exercise = find_exercise(&exercises, name)?;
        // A missing file is "not solved", so that a checkout without exercises/ can be graded.
        let code = fs::read_to_string(self.root.join(exercise.main_rs())).unwrap_or_default();
        let passed = code.contains("solved");
        let verdict = if passed {
            "all checks pass"
        } else {
            "not solved yet"
        };
        Ok((
            passed,
            format!("fake report #{} for {name}: {verdict}", self.grades),
        ))
    }
}

/// The child side, in the pty: `run_watch` with the fake lab, in one of the modes.
fn watch_child(mode: &str) {
    let root = PathBuf::from(env::var(CHILD_ROOT).expect("the parent sets the root"));
    let panic_on = (mode == "panic").then_some(2);
    let mut lab = FakeLab {
        root: root.clone(),
        grades: 0,
        panic_on,
    };
    match mode {
        "normal" => {
            run_watch(&mut lab, &exercises(), &root).expect("run_watch ends without error on q");
            report_terminal_mode();
        }
        "panic" => {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                run_watch(&mut lab, &exercises(), &root)
            }));
            assert!(outcome.is_err(), "the fake grader panicked");
            report_terminal_mode();
        }
        "no-terminal" => {
            let err =
                run_watch(&mut lab, &exercises(), &root).expect_err("refuses without a terminal");
            println!("refused: {err:#}");
            assert_eq!(lab.grades, 0, "nothing graded");
        }
        other => panic!("unknown mode {other:?}"),
    }
}

/// Says whether the terminal is back in its normal (canonical) mode after `run_watch`.
fn report_terminal_mode() {
    let termios = tcgetattr(std::io::stdin()).expect("read the terminal's mode");
    let normal = termios
        .local_flags
        .contains(LocalFlags::ICANON | LocalFlags::ISIG);
    println!(
        "terminal after watch: {}",
        if normal { "restored" } else { "STILL RAW" }
    );
}

/// A scratch checkout with two unsolved exercises.
fn checkout() -> tempfile::TempDir {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    for exercise in exercises() {
        let main_rs = checkout.path().join(exercise.main_rs());
        fs::create_dir_all(main_rs.parent().expect("a parent"))
            .expect("create the exercise folder");
        fs::write(&main_rs, "fn main() { todo!() }\n").expect("write the stub");
    }
    checkout
}

fn child(mode: &str, root: &Path) -> Command {
    let mut command = Command::new(env::current_exe().expect("the test binary's path"));
    command.env(CHILD_MODE, mode).env(CHILD_ROOT, root);
    command
}

fn spawn_in_pty(mode: &str, root: &Path) -> PtySession {
    spawn_command(child(mode, root), Some(TIMEOUT_MS)).expect("start the child in a pty")
}

fn expect(session: &mut PtySession, text: &str) {
    if let Err(err) = session.exp_string(text) {
        panic!("waiting for {text:?}: {err}");
    }
}

fn press(session: &mut PtySession, key: char) {
    // The session's writer is line-buffered: a key without Enter needs a flush.
    session
        .send(&key.to_string())
        .and_then(|_| session.flush())
        .expect("press a key");
}

/// Waits for the child to end (its side of the pty closes), then checks it exited with 0.
fn expect_success(session: &mut PtySession) {
    session.exp_eof().expect("the child ends");
    let status = session.process().wait().expect("reap the child");
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "the child failed: {status:?}"
    );
}

fn watch_regrades_on_save_points_to_the_chapter_moves_on_and_quits() {
    let checkout = checkout();
    let root = checkout.path();
    let mut session = spawn_in_pty("normal", root);

    // First run in this checkout: the welcome, then the first exercise's first grade.
    expect(&mut session, "Welcome to shmlab!");
    expect(&mut session, "Exercise 1/2: create");
    expect(&mut session, "fake report #1 for create: not solved yet");
    expect(&mut session, "Progress: [");
    expect(&mut session, "0/2 exercises, 0/25 points");
    expect(&mut session, "Keys: h hint / l list / r re-run / q quit");

    press(&mut session, 'h');
    expect(&mut session, "Hint 1 of 1 for create");
    expect(&mut session, "call shmget");

    press(&mut session, 'n');
    expect(
        &mut session,
        "create does not pass yet, so there is no moving on",
    );

    // A save re-grades, through the file watcher.
    fs::write(
        root.join("exercises/01-create/src/main.rs"),
        "fn main() {} // solved\n",
    )
    .expect("save");
    expect(&mut session, "fake report #2 for create: all checks pass");
    // The scratch checkout, like a student's handout, has no solutions/.
    expect(
        &mut session,
        "create passes! Its chapter, docs/src/exercises/01-create.md, says what the grader checked",
    );
    expect(&mut session, "1/2 exercises, 10/25 points");
    expect(
        &mut session,
        "Keys: h hint / l list / n next / r re-run / q quit",
    );

    press(&mut session, 'r');
    expect(&mut session, "fake report #3 for create: all checks pass");

    press(&mut session, 'n');
    expect(&mut session, "Exercise 2/2: attach");
    expect(&mut session, "fake report #4 for attach: not solved yet");

    press(&mut session, 'l');
    session
        .exp_regex(r"1  create +done +10/10")
        .expect("the list shows create done");
    session
        .exp_regex(r">  2  attach +not done +0/15")
        .expect("the list shows attach current");

    press(&mut session, 'q');
    expect(&mut session, "Your progress is saved");
    expect(&mut session, "terminal after watch: restored");
    expect_success(&mut session);

    let saved = State::load(root);
    assert_eq!(saved.warning, None);
    assert!(saved.state.welcome_shown);
    assert!(saved.state.has_passed("create"));
    assert!(!saved.state.has_passed("attach"));
}

fn watch_congratulates_when_everything_passes_and_then_skips_the_welcome() {
    let checkout = checkout();
    let root = checkout.path();
    fs::write(root.join("exercises/02-attach/src/main.rs"), "// solved\n").expect("solve attach");
    let mut state = State::fresh();
    state.welcome_shown = true;
    state.record("create", true);
    state.save(root).expect("save the progress");

    let mut session = spawn_in_pty("normal", root);
    expect(&mut session, "fake report #1 for attach: all checks pass");
    expect(
        &mut session,
        "Congratulations! All 2 exercises pass (25/25 points).",
    );
    press(&mut session, 'q');
    let rest = session
        .exp_string("terminal after watch: restored")
        .expect("the child ends");
    assert!(
        !rest.contains("Welcome"),
        "the welcome is shown once per checkout: {rest}"
    );
    expect_success(&mut session);
}

fn a_panicking_grader_leaves_the_terminal_usable() {
    let checkout = checkout();
    let mut session = spawn_in_pty("panic", checkout.path());
    expect(&mut session, "fake report #1 for create: not solved yet");
    press(&mut session, 'r');
    // "\r\n": the message was printed after raw mode was left (in raw mode a bare "\n" arrives).
    expect(&mut session, "fake grader panics on purpose\r\n");
    expect(&mut session, "terminal after watch: restored");
    expect_success(&mut session);
}

fn watch_without_a_terminal_refuses_politely() {
    let checkout = checkout();
    let output = child("no-terminal", checkout.path())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("refused: `cargo grade watch` needs a terminal"),
        "{stdout}"
    );
    assert!(stdout.contains("cargo grade NAME"), "{stdout}");
    assert!(
        !State::path(checkout.path()).exists(),
        "a refusal writes no progress"
    );
}

fn without_file_events_watch_says_so_and_r_still_grades() {
    // No exercises/ folder: nothing to watch, so the watcher cannot start.
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    let mut session = spawn_in_pty("normal", checkout.path());
    expect(&mut session, "fake report #1 for create: not solved yet");
    expect(&mut session, "File watching is off (");
    expect(&mut session, "press r after saving to grade again.");
    press(&mut session, 'r');
    expect(&mut session, "fake report #2 for create: not solved yet");
    press(&mut session, 'q');
    expect(&mut session, "terminal after watch: restored");
    expect_success(&mut session);
}

fn a_corrupt_progress_file_is_a_warning_and_a_fresh_start() {
    let checkout = checkout();
    fs::write(State::path(checkout.path()), "{ half written").expect("write a corrupt file");
    let mut session = spawn_in_pty("normal", checkout.path());
    expect(&mut session, "Welcome to shmlab!");
    expect(&mut session, "fake report #1 for create: not solved yet");
    expect(&mut session, "warning: ignoring the progress file");
    press(&mut session, 'q');
    expect(&mut session, "terminal after watch: restored");
    expect_success(&mut session);
    assert_eq!(State::load(checkout.path()).warning, None, "rewritten");
}

// `ioctl(fd, TIOCSWINSZ, &winsize)`, checked, as nix's typed wrapper.
nix::ioctl_write_ptr_bad!(set_window_size, libc::TIOCSWINSZ, libc::winsize);

fn a_resized_terminal_is_redrawn() {
    let checkout = checkout();
    let mut session = spawn_in_pty("normal", checkout.path());
    expect(&mut session, "fake report #1 for create: not solved yet");
    expect(&mut session, "Keys: h hint / l list / r re-run / q quit");
    let master = session
        .process()
        .get_file_handle()
        .expect("the pty's master side");
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` from the pointer, which is valid for the call,
    // and the descriptor is the pty's master side, open for the whole session.
    unsafe { set_window_size(std::os::fd::AsRawFd::as_raw_fd(&master), &size) }
        .expect("set the window size (TIOCSWINSZ)");
    // The kernel sends SIGWINCH; the same screen is drawn again, with no new grade.
    expect(&mut session, "Exercise 1/2: create");
    expect(&mut session, "fake report #1 for create: not solved yet");
    press(&mut session, 'q');
    expect(&mut session, "terminal after watch: restored");
    expect_success(&mut session);
}
