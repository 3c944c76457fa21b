//! Runs the `sized` solution under a pseudo-terminal (rexpect), as a student would: wait for the
//! prompt, type the size, read the answer. Each test has a private IPC namespace; stderr goes to
//! a file of its own so that it can be checked apart from the terminal's output.

use std::io::Read;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use grader::exercises::spec::sized::{ACCESSED, BAD_SIZE, KEY, PROMPT};
use grader::exercises::spec::{fill, fill_key, prefix, value};
use rexpect::process::wait::WaitStatus;
use sysv::testing::{assert_no_segment, make_segment};
use sysv::{ShmId, ShmatFlag};

/// rexpect starts the program with a real fork() of this test process, and a forked child gets
/// a copy of every segment attached in the process, also those another test holds, until it
/// execs. A test that detaches its segment at that moment would see it stay. So these tests
/// run one at a time: each holds this lock for its whole duration.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    // A test that failed while holding the lock poisons it; the next test can go on anyway.
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the user does at the prompt.
enum Input<'a> {
    /// Types a line and presses Enter.
    Line(&'a str),
    /// Types some text (maybe none) and ends the input with Ctrl-D.
    EndOfInput(&'a str),
}

struct Run {
    /// The terminal's output after the prompt, with the terminal's "\r\n" turned back into "\n".
    after_prompt: String,
    stderr: String,
    exit_code: i32,
}

fn run_sized(input: Input) -> Run {
    let mut stderr_file = tempfile::tempfile().expect("a temporary file for stderr");
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("sized-solution"));
    command.stderr(
        stderr_file
            .try_clone()
            .expect("a second handle to the file"),
    );

    let mut session =
        rexpect::session::spawn_command(command, Some(10_000)).expect("spawn under a pty");
    session.exp_string(PROMPT).expect("the prompt, flushed");
    match input {
        Input::Line(text) => {
            session.send_line(text).expect("type the size");
        }
        Input::EndOfInput(text) => {
            session.send(text).expect("type");
            // Ctrl-D ends the pending text (if any); a second one, on an empty line, is the end
            // of input.
            session.send_control('d').expect("Ctrl-D");
            if !text.is_empty() {
                session.send_control('d').expect("Ctrl-D");
            }
        }
    }
    let after_prompt = session
        .exp_eof()
        .expect("the program ends")
        .replace("\r\n", "\n");
    let exit_code = match session.process().wait().expect("waitpid") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("sized-solution did not exit normally: {other:?}"),
    };

    let mut stderr = String::new();
    std::io::Seek::rewind(&mut stderr_file).expect("rewind");
    stderr_file
        .read_to_string(&mut stderr)
        .expect("read stderr");
    Run {
        after_prompt,
        stderr,
        exit_code,
    }
}

/// A segment with the program's key, made and attached by the test, so that the test can look at
/// what the program wrote after the program removed it. Filled with 0xff.
fn held_segment(size: usize) -> (ShmId, sysv::Attachment) {
    let id = make_segment(KEY, size, 0o666);
    let attachment = sysv::shmat(id, ShmatFlag::empty()).expect("attach");
    attachment.write(0, &vec![0xff; size]);
    (id, attachment)
}

#[test]
fn a_good_size_gets_the_message_and_the_segment_is_removed() {
    let _serial = one_at_a_time();
    sysv::testing::private_ipc_namespace();

    let run = run_sized(Input::Line("64"));
    assert_eq!(run.exit_code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.stderr, "");
    let id = run
        .after_prompt
        .strip_suffix('\n')
        .and_then(|line| value(ACCESSED, line, "id"))
        .unwrap_or_else(|| panic!("unexpected output {:?}", run.after_prompt));
    assert!(id.parse::<i32>().is_ok(), "the id is a number: {id:?}");
    assert_no_segment(KEY);
}

#[test]
fn the_message_goes_through_the_segment() {
    let _serial = one_at_a_time();
    sysv::testing::private_ipc_namespace();
    let (id, attachment) = held_segment(64);

    let run = run_sized(Input::Line("  64 "));
    assert_eq!(run.exit_code, 0, "stderr: {}", run.stderr);
    let message = fill(ACCESSED, &[("id", &id)]);
    assert_eq!(run.after_prompt, format!("{message}\n"));
    assert_eq!(attachment.read_c_string(0), message.as_bytes());
    let mut nul = [0xff];
    attachment.read(message.len(), &mut nul);
    assert_eq!(nul, [0], "the message ends with a NUL");

    let status = sysv::shmctl_stat(id).expect("still attached here");
    assert!(status.marked_for_destruction(), "the program removed it");
    sysv::shmdt(attachment).expect("detach");
    assert_no_segment(KEY);
}

#[test]
fn a_small_segment_gets_a_truncated_message_never_an_overflow() {
    let _serial = one_at_a_time();
    sysv::testing::private_ipc_namespace();

    // The message cut to what fits with its NUL: nothing, and 9 bytes.
    for size in [1, 10] {
        let expected = &prefix(ACCESSED)[..size - 1];
        // The program's own segment: nothing may be written past its end.
        let run = run_sized(Input::Line(&size.to_string()));
        assert_eq!(run.exit_code, 0, "size {size}, stderr: {}", run.stderr);
        assert_eq!(run.after_prompt, format!("{expected}\n"), "size {size}");
        assert_no_segment(KEY);

        // The same with a segment the test holds, to see the bytes: message cut, then the NUL.
        let (_, attachment) = held_segment(size);
        let run = run_sized(Input::Line(&size.to_string()));
        assert_eq!(run.exit_code, 0, "size {size}, stderr: {}", run.stderr);
        let mut bytes = vec![0xff; size];
        attachment.read(0, &mut bytes);
        assert_eq!(bytes, [expected.as_bytes(), &[0]].concat(), "size {size}");
        sysv::shmdt(attachment).expect("detach");
        assert_no_segment(KEY);
    }
}

#[test]
fn every_bad_size_is_refused_with_a_clear_message_and_creates_nothing() {
    let _serial = one_at_a_time();
    sysv::testing::private_ipc_namespace();

    let cases = [
        (Input::Line(""), "no size given"),
        (Input::Line("   "), "no size given"),
        (Input::EndOfInput(""), "no size given"),
        (
            Input::EndOfInput("abc"),
            "\"abc\" is not a whole number of bytes",
        ),
        (Input::Line("abc"), "\"abc\" is not a whole number of bytes"),
        (
            Input::Line("12abc"),
            "\"12abc\" is not a whole number of bytes",
        ),
        (Input::Line("1 2"), "\"1 2\" is not a whole number of bytes"),
        (Input::Line("1.5"), "\"1.5\" is not a whole number of bytes"),
        (Input::Line("-5"), "the size must be positive"),
        (Input::Line("0"), "the size must be at least 1 byte"),
        (
            Input::Line("99999999999999999999999"),
            "\"99999999999999999999999\" is too large",
        ),
    ];
    for (input, reason) in cases {
        let run = run_sized(input);
        assert_eq!(run.exit_code, 1, "{reason}");
        assert_eq!(
            run.stderr,
            format!(
                "{}\n",
                fill(&fill_key(BAD_SIZE, KEY), &[("reason", &reason)])
            )
        );
        assert_eq!(run.after_prompt, "", "nothing on stdout after the prompt");
        assert_no_segment(KEY);
    }
}

#[test]
fn a_size_the_kernel_refuses_is_an_error_and_leaves_nothing() {
    let _serial = one_at_a_time();
    sysv::testing::private_ipc_namespace();

    let run = run_sized(Input::Line("1000000000000000000"));
    assert_eq!(run.exit_code, 1);
    assert!(
        run.stderr.starts_with(
            "error: shmget (key 0x7d4): the kernel refused a segment of 1000000000000000000 bytes ("
        ),
        "{:?}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with(")\n") && run.stderr.lines().count() == 1,
        "{:?}",
        run.stderr
    );
    assert_eq!(run.after_prompt, "");
    assert_no_segment(KEY);
}
