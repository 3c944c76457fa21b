//! `cargo grade watch`: grade the current exercise, and again on every save.
//!
//! This is the terminal side of the loop; the decisions are in [`machine`]. Three sources feed
//! one channel, so that the loop itself is a plain `recv` → [`Machine::handle`] → actions:
//!
//! - a key reader thread (crossterm, raw mode so that single keys arrive without Enter; it
//!   also passes on terminal resizes, which redraw the screen);
//! - a file watcher on `exercises/` (notify), whose edits are batched until 200 ms pass
//!   without one: an editor's save is often several events (write a temporary file, rename
//!   it, ...), which should cause one re-grade. Only edits of the current exercise count, and
//!   reads never do: the grader opens the files itself when it builds them;
//! - the grader's results, which the loop feeds back itself: grading runs on the loop's thread,
//!   one exercise at a time, and whatever the student does meanwhile waits in the channel.
//!
//! Raw mode is restored on every way out: a guard's `Drop` on return and on unwinding, and a
//! panic hook that leaves raw mode *before* the panic message is printed (in raw mode, `\n`
//! does not return the carriage and the message would be smeared over the screen). The one
//! way out that cannot restore it is a fatal signal from outside (`kill`): `reset` in the
//! shell mends the terminal then. `Ctrl-C` is not one: in raw mode it arrives as a key, `q`.
//!
//! Without file events (the watcher could not start, e.g. the inotify watch limit is reached)
//! the loop still works: it says so, and the student presses `r` after saving. Without a
//! terminal it refuses: keys cannot be read one by one from a pipe, and a screen redrawn on
//! every save makes no sense in a log.

pub mod machine;

use std::io::{self, IsTerminal as _, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use crossterm::event::{self, Event as TerminalEvent, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::{cursor, queue, terminal};
use notify::event::{EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};

use self::machine::{Action, Event, Machine};
use super::state::State;
use super::welcome::take_welcome;
use super::{ExerciseInfo, Lab};

/// How long the file watcher waits for a burst of events to settle.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// The longest a burst of file events may delay a re-grade.
const DEBOUNCE_MAX: Duration = Duration::from_secs(1);

/// How often the key reader checks whether the loop has ended. Bounds how long `run_watch`
/// waits for it on the way out.
const KEY_POLL: Duration = Duration::from_millis(50);

/// What the input threads send to the loop.
enum Input {
    Key(char),
    /// Paths that changed under `exercises/` (absolute, or relative to the working directory if
    /// the root was given relative).
    Files(Vec<PathBuf>),
    /// The terminal was resized: draw the screen again.
    Resized,
    /// The watcher reported an error after starting (shown, and the loop goes on).
    WatchError(String),
    /// The terminal could not be read: nothing more will come from the keyboard.
    KeyError(String),
}

/// Runs the watch loop on the checkout at `root` until the student presses `q` (or `Ctrl-C`).
///
/// Needs a terminal on stdin and stdout, and refuses otherwise with a message saying what to
/// run instead. `lab` must not write to the terminal itself (see [`Lab::grade`]).
pub fn run_watch(lab: &mut dyn Lab, exercises: &[ExerciseInfo], root: &Path) -> anyhow::Result<()> {
    if !(io::stdin().is_terminal() && io::stdout().is_terminal()) {
        bail!(
            "`cargo grade watch` needs a terminal: it reads single key presses and redraws the \
             screen. Run it in a terminal, or grade once with `cargo grade NAME` \
             (see `cargo grade list` for the names)."
        );
    }

    let loaded = State::load(root);
    let mut state = loaded.state;
    let welcome = take_welcome(&mut state, exercises);
    let mut notices: Vec<String> = loaded
        .warning
        .into_iter()
        .map(|warning| format!("warning: {warning}"))
        .collect();
    if welcome.is_some()
        && let Err(err) = state.save(root)
    {
        notices.push(format!("warning: {err:#}"));
    }

    let (sender, inputs) = mpsc::channel();
    let exercises_dir = root.join("exercises");
    // Kept alive until the loop ends: dropping it stops the watching.
    let watcher = match watch_files(&exercises_dir, sender.clone()) {
        Ok(watcher) => Some(watcher),
        Err(err) => {
            notices.push(format!(
                "File watching is off ({err:#}): press r after saving to grade again."
            ));
            None
        }
    };

    let mut machine = Machine::new(exercises.to_vec(), state, welcome);
    machine.set_solutions(root.join("solutions").is_dir());
    if !notices.is_empty() {
        machine.set_notice(Some(notices.join("\n")));
    }

    let terminal = RawTerminal::enter()?;
    let keys = KeyReader::start(sender);
    let result = drive(&mut machine, lab, root, &exercises_dir, &inputs);
    // In this order (also when unwinding, as locals drop in reverse): stop reading keys before
    // leaving raw mode, so that nothing is left reading the terminal after us.
    drop(keys);
    drop(watcher);
    drop(terminal);
    result?;
    println!(
        "Your progress is saved in {}. Run `cargo grade watch` to go on.",
        State::path(root).display()
    );
    Ok(())
}

/// The loop proper: events in, actions out, until `Quit`.
fn drive(
    machine: &mut Machine,
    lab: &mut dyn Lab,
    root: &Path,
    exercises_dir: &Path,
    inputs: &Receiver<Input>,
) -> anyhow::Result<()> {
    let mut stdout = io::stdout();
    let mut pending = machine.start();
    loop {
        // Actions may lead to more events (a grade leads to its result), handled right away.
        while !pending.is_empty() {
            let mut follow_ups = Vec::new();
            for action in pending {
                match action {
                    Action::Redraw => draw(&mut stdout, &machine.screen())?,
                    Action::Quit => return Ok(()),
                    Action::SaveProgress => {
                        let notice = machine
                            .state()
                            .save(root)
                            .err()
                            .map(|err| format!("warning: {err:#}"));
                        if notice.is_some() {
                            machine.set_notice(notice);
                        }
                    }
                    Action::Grade(name) => {
                        let event = match lab.grade(&name) {
                            Ok((passed, report)) => Event::GradeDone {
                                passed,
                                report,
                                at: clock_time_now(),
                            },
                            Err(err) => Event::GradeFailed {
                                error: format!("{err:#}"),
                            },
                        };
                        follow_ups.extend(machine.handle(event));
                    }
                }
            }
            pending = follow_ups;
        }

        let input = inputs
            .recv()
            .context("Failed to read events: the key reader and the file watcher are gone")?;
        pending = match input {
            Input::Key(key) => machine.handle(Event::Key(key)),
            Input::Files(paths) => {
                let current_dir = machine
                    .current_exercise()
                    .map(|exercise| exercises_dir.join(&exercise.dir));
                let relevant = current_dir
                    .is_some_and(|dir| paths.iter().any(|path| is_relevant_change(path, &dir)));
                if relevant {
                    machine.handle(Event::FileChanged)
                } else {
                    Vec::new()
                }
            }
            Input::Resized => vec![Action::Redraw],
            Input::WatchError(error) => {
                machine.set_notice(Some(format!(
                    "The file watcher reported an error ({error}): if saves stop being graded, press r."
                )));
                vec![Action::Redraw]
            }
            Input::KeyError(error) => bail!("Failed to read the keyboard: {error}"),
        };
    }
}

/// Whether a changed `path` is a real edit of the exercise in `exercise_dir`: inside it, not
/// in a build folder, and not an editor's scratch file (`.main.rs.swp`, `main.rs~`, vim's
/// `4913` probe), which would re-grade on every keystroke of some editors.
pub fn is_relevant_change(path: &Path, exercise_dir: &Path) -> bool {
    let Ok(inside) = path.strip_prefix(exercise_dir) else {
        return false;
    };
    if inside
        .components()
        .any(|component| component == Component::Normal("target".as_ref()))
    {
        return false;
    }
    let Some(name) = inside.file_name().and_then(|name| name.to_str()) else {
        // The folder itself (e.g. its metadata changed), or a name that is not UTF-8.
        return inside.file_name().is_some();
    };
    !(name.starts_with('.') || name.ends_with('~') || name == "4913")
}

/// Starts watching `exercises_dir` recursively; batches of edits arrive as [`Input::Files`].
/// Watching stops when the returned watcher is dropped.
fn watch_files(exercises_dir: &Path, sender: Sender<Input>) -> anyhow::Result<RecommendedWatcher> {
    let (raw_sender, raw_events) = mpsc::channel();
    let mut watcher =
        notify::recommended_watcher(raw_sender).context("Failed to start the file watcher")?;
    watcher
        .watch(exercises_dir, RecursiveMode::Recursive)
        .with_context(|| format!("Failed to watch {}", exercises_dir.display()))?;
    // Ends by itself when the watcher is dropped, which closes the raw channel.
    thread::spawn(move || debounce(&raw_events, &sender));
    Ok(watcher)
}

/// Turns raw file events into batches: a batch ends after [`DEBOUNCE`] without an edit (or
/// after [`DEBOUNCE_MAX`], so that a file rewritten non-stop still gets graded).
fn debounce(raw_events: &Receiver<notify::Result<notify::Event>>, sender: &Sender<Input>) {
    let mut batch = Vec::new();
    while let Ok(first) = raw_events.recv() {
        let started = Instant::now();
        let mut next = Some(first);
        while let Some(raw) = next.take() {
            match raw {
                Ok(event) if is_edit(&event.kind) => batch.extend(event.paths),
                Ok(_) => {}
                Err(err) => {
                    if sender.send(Input::WatchError(err.to_string())).is_err() {
                        return;
                    }
                }
            }
            let quiet_until = DEBOUNCE.min(DEBOUNCE_MAX.saturating_sub(started.elapsed()));
            next = match raw_events.recv_timeout(quiet_until) {
                Ok(raw) => Some(raw),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
        }
        if !batch.is_empty()
            && sender
                .send(Input::Files(std::mem::take(&mut batch)))
                .is_err()
        {
            return;
        }
    }
}

/// Whether a file event is an edit. Reads are not: the grader itself opens the exercise's
/// files to build it, and re-grading on that would loop forever. Metadata changes (`touch`,
/// `chmod`) are not either.
pub fn is_edit(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(modify) => !matches!(modify, ModifyKind::Metadata(_)),
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// Reads keys on a thread of its own, until dropped. `Ctrl-C` and `Ctrl-D` are read as `q`: in
/// raw mode the terminal no longer turns them into signals.
struct KeyReader {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl KeyReader {
    fn start(sender: Sender<Input>) -> KeyReader {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::spawn({
            let stop = Arc::clone(&stop);
            move || read_keys(&sender, &stop)
        });
        KeyReader {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for KeyReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // The thread notices within KEY_POLL. Joined, so that it cannot eat keystrokes meant for
        // whatever reads the terminal after us; a panic in it has already been reported.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn read_keys(sender: &Sender<Input>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        // Polling with a timeout, not a blocking read, so that the thread can be told to end.
        let ready = match event::poll(KEY_POLL) {
            Ok(ready) => ready,
            Err(err) => {
                let _ = sender.send(Input::KeyError(err.to_string()));
                return;
            }
        };
        if !ready {
            continue;
        }
        let key = match event::read() {
            Ok(TerminalEvent::Key(key)) if key.kind == KeyEventKind::Press => key,
            Ok(TerminalEvent::Resize(..)) => {
                if sender.send(Input::Resized).is_err() {
                    return;
                }
                continue;
            }
            Ok(_) => continue,
            Err(err) => {
                let _ = sender.send(Input::KeyError(err.to_string()));
                return;
            }
        };
        let character = match key.code {
            KeyCode::Char('c' | 'd') if key.modifiers.contains(KeyModifiers::CONTROL) => 'q',
            KeyCode::Char(character) => character.to_ascii_lowercase(),
            KeyCode::Esc => 'q',
            _ => continue,
        };
        if sender.send(Input::Key(character)).is_err() {
            return;
        }
    }
}

/// The local time of day, `14:03:27` (UTC if the local time zone cannot be read).
fn clock_time_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let seconds = libc::time_t::try_from(now).unwrap_or(0);
    // SAFETY: `localtime_r` reads `seconds` and writes only into `parts`, a plain C struct for
    // which all-zero bytes are a valid value; it is the thread-safe variant (no static buffer).
    let parts = unsafe {
        let mut parts: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&seconds, &mut parts).is_null() {
            let day = now % 86_400;
            return format!(
                "{:02}:{:02}:{:02} UTC",
                day / 3600,
                day % 3600 / 60,
                day % 60
            );
        }
        parts
    };
    format!(
        "{:02}:{:02}:{:02}",
        parts.tm_hour, parts.tm_min, parts.tm_sec
    )
}

/// Clears the terminal and draws `screen` (with `\n` line ends) from the top left.
fn draw(stdout: &mut io::Stdout, screen: &str) -> anyhow::Result<()> {
    let mut out = stdout.lock();
    queue!(
        out,
        terminal::Clear(terminal::ClearType::All),
        cursor::MoveTo(0, 0)
    )
    .context("Failed to clear the terminal")?;
    // Raw mode: the terminal does not turn "\n" into "\r\n" any more.
    out.write_all(screen.replace('\n', "\r\n").as_bytes())
        .context("Failed to write to the terminal")?;
    out.flush().context("Failed to write to the terminal")
}

/// Whether raw mode is on, for the panic hook.
static RAW_MODE_ON: AtomicBool = AtomicBool::new(false);

/// Raw mode for as long as it lives. See the module docs for why both `Drop` and a panic hook.
struct RawTerminal;

impl RawTerminal {
    fn enter() -> anyhow::Result<RawTerminal> {
        static INSTALL_HOOK: Once = Once::new();
        INSTALL_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                leave_raw_mode();
                previous(info);
            }));
        });
        terminal::enable_raw_mode().context("Failed to switch the terminal to raw mode")?;
        RAW_MODE_ON.store(true, Ordering::SeqCst);
        Ok(RawTerminal)
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        leave_raw_mode();
    }
}

fn leave_raw_mode() {
    if RAW_MODE_ON.swap(false, Ordering::SeqCst) {
        // Nothing better to do if this fails: we are on the way out.
        let _ = terminal::disable_raw_mode();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_count_and_reads_do_not() {
        use notify::event::{
            AccessKind, CreateKind, DataChange, MetadataKind, RemoveKind, RenameMode,
        };
        assert!(is_edit(&EventKind::Modify(ModifyKind::Data(
            DataChange::Any
        ))));
        assert!(is_edit(&EventKind::Modify(ModifyKind::Name(
            RenameMode::To
        ))));
        assert!(is_edit(&EventKind::Create(CreateKind::File)));
        assert!(is_edit(&EventKind::Remove(RemoveKind::File)));
        assert!(!is_edit(&EventKind::Access(AccessKind::Any)));
        assert!(!is_edit(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::Any
        ))));
    }

    #[test]
    fn only_real_edits_of_the_current_exercise_count() {
        let dir = Path::new("/course/exercises/01-create");
        assert!(is_relevant_change(
            Path::new("/course/exercises/01-create/src/main.rs"),
            dir
        ));
        assert!(is_relevant_change(
            Path::new("/course/exercises/01-create/Cargo.toml"),
            dir
        ));
        assert!(!is_relevant_change(
            Path::new("/course/exercises/02-attach/src/main.rs"),
            dir
        ));
        assert!(!is_relevant_change(
            Path::new("/course/exercises/01-create/src/.main.rs.swp"),
            dir
        ));
        assert!(!is_relevant_change(
            Path::new("/course/exercises/01-create/src/main.rs~"),
            dir
        ));
        assert!(!is_relevant_change(
            Path::new("/course/exercises/01-create/src/4913"),
            dir
        ));
        assert!(!is_relevant_change(
            Path::new("/course/exercises/01-create/target/debug/create"),
            dir
        ));
        assert!(!is_relevant_change(
            Path::new("/course/exercises/01-create"),
            dir
        ));
        // A folder whose name merely starts like the exercise's is another folder.
        assert!(!is_relevant_change(
            Path::new("/course/exercises/01-create-old/src/main.rs"),
            dir
        ));
    }
}
