//! One step's standard streams, from the sandbox's side: what the program reads and writes,
//! captured without ever blocking the event loop that also reaps processes and drives the lens.
//!
//! Input is either closed (stdin at end of file, stdout and stderr to pipes) or a dialog: the
//! three streams on a pseudo-terminal with no echo and no `\n` → `\r\n`, where the reply is
//! typed (followed by VEOF when it has no final newline) once the prompt shows. Our ends are
//! non-blocking; [`Streams::wait`] polls them together with the signalfd of child events.

use std::os::fd::{AsFd, OwnedFd};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signalfd::SignalFd;
use nix::sys::termios::{self, LocalFlags, OutputFlags, SetArg, SpecialCharacterIndices};
use nix::unistd::pipe2;

use super::capture::Capture;
use super::spawn::Stdio;
use crate::scenario::{Captured, Input};

/// The most read from a pipe at once.
const READ_BYTES: usize = 64 * 1024;

/// One step's standard streams: our ends, the child's ends (until it has them), the captures.
pub(super) struct Streams {
    /// Read ends (the terminal's master for a dialog); `None` once at end of file.
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    stdout_capture: Capture,
    stderr_capture: Capture,
    child: ChildSide,
    dialog: Option<Dialog>,
    /// Where reads land before they are captured.
    buffer: Vec<u8>,
}

enum ChildSide {
    Pipes {
        stdin: OwnedFd,
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
    Terminal {
        slave: OwnedFd,
    },
    Closed,
}

struct Dialog {
    prompt: Vec<u8>,
    /// What to type: the reply, then end of file (VEOF) when the reply has no final newline.
    keys: Vec<u8>,
    sent: bool,
    /// The output so far, to look for the prompt in.
    seen: Vec<u8>,
}

impl Streams {
    pub(super) fn open(input: &Input) -> Result<Self> {
        match input {
            Input::Closed => {
                let (stdin, stdin_writer) =
                    pipe2(OFlag::O_CLOEXEC).context("Failed to create a pipe")?;
                drop(stdin_writer); // the program reads end of file at once
                let (stdout_reader, stdout) =
                    pipe2(OFlag::O_CLOEXEC).context("Failed to create a pipe")?;
                let (stderr_reader, stderr) =
                    pipe2(OFlag::O_CLOEXEC).context("Failed to create a pipe")?;
                set_nonblocking(&stdout_reader)?;
                set_nonblocking(&stderr_reader)?;
                Ok(Streams {
                    stdout: Some(stdout_reader),
                    stderr: Some(stderr_reader),
                    stdout_capture: Capture::default(),
                    stderr_capture: Capture::default(),
                    child: ChildSide::Pipes {
                        stdin,
                        stdout,
                        stderr,
                    },
                    dialog: None,
                    buffer: vec![0; READ_BYTES],
                })
            }
            Input::Dialog { prompt, reply } => {
                let pty =
                    nix::pty::openpty(None, None).context("Failed to open a pseudo-terminal")?;
                for fd in [&pty.master, &pty.slave] {
                    fcntl(fd, FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
                        .context("Failed to set FD_CLOEXEC on the pseudo-terminal")?;
                }
                // No echo and no "\n" -> "\r\n": the transcript is exactly what the program
                // wrote, as the spec's expected stdout is written.
                let mut settings = termios::tcgetattr(&pty.slave)
                    .context("Failed to read the terminal's settings")?;
                settings.local_flags.remove(
                    LocalFlags::ECHO
                        | LocalFlags::ECHOE
                        | LocalFlags::ECHOK
                        | LocalFlags::ECHONL
                        | LocalFlags::ECHOCTL,
                );
                settings.output_flags.remove(OutputFlags::ONLCR);
                termios::tcsetattr(&pty.slave, SetArg::TCSANOW, &settings)
                    .context("Failed to set the terminal's settings")?;
                let end_of_file = settings.control_chars[SpecialCharacterIndices::VEOF as usize];
                let mut keys = reply.as_bytes().to_vec();
                if !reply.ends_with('\n') {
                    // In canonical mode VEOF hands over a partial line; a second one, at the
                    // start of a line, is end of file.
                    if !reply.is_empty() {
                        keys.push(end_of_file);
                    }
                    keys.push(end_of_file);
                }
                set_nonblocking(&pty.master)?;
                Ok(Streams {
                    stdout: Some(pty.master),
                    stderr: None,
                    stdout_capture: Capture::default(),
                    stderr_capture: Capture::default(),
                    child: ChildSide::Terminal { slave: pty.slave },
                    dialog: Some(Dialog {
                        prompt: prompt.as_bytes().to_vec(),
                        keys,
                        sent: false,
                        seen: Vec::new(),
                    }),
                    buffer: vec![0; READ_BYTES],
                })
            }
        }
    }

    pub(super) fn child_side(&self) -> Stdio<'_> {
        match &self.child {
            ChildSide::Pipes {
                stdin,
                stdout,
                stderr,
            } => Stdio::Pipes {
                stdin,
                stdout,
                stderr,
            },
            ChildSide::Terminal { slave } => Stdio::Terminal { slave },
            ChildSide::Closed => unreachable!("the child side is used once, before it is closed"),
        }
    }

    /// Our copies of the child's ends must go, or we would never see end of file.
    pub(super) fn close_child_side(&mut self) {
        self.child = ChildSide::Closed;
    }

    /// Waits up to `timeout` for output or a child event, and takes in the output.
    pub(super) fn wait(
        &mut self,
        child_events: &SignalFd,
        timeout: std::time::Duration,
    ) -> Result<()> {
        // Rounded up: a wait cut short would spin until the deadline.
        let millis = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let mut fds = vec![PollFd::new(child_events.as_fd(), PollFlags::POLLIN)];
        for fd in [&self.stdout, &self.stderr].into_iter().flatten() {
            fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
        }
        match poll(
            &mut fds,
            PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => bail!("Failed to poll the program's output: {errno}"),
        }
        drop(fds);
        self.read_available();
        Ok(())
    }

    fn read_available(&mut self) {
        let buffer = &mut self.buffer;
        if let Some(got) = read_some(&mut self.stdout, buffer) {
            self.stdout_capture.push(got);
            if let Some(dialog) = &mut self.dialog {
                dialog.seen.extend_from_slice(got);
            }
        }
        if let Some(got) = read_some(&mut self.stderr, buffer) {
            self.stderr_capture.push(got);
        }
        if let (Some(dialog), Some(master)) = (&mut self.dialog, &self.stdout)
            && !dialog.sent
            && contains(&dialog.seen, &dialog.prompt)
        {
            dialog.sent = true;
            dialog.seen = Vec::new();
            type_keys(master, &dialog.keys);
        }
        if let Some(dialog) = &mut self.dialog {
            // Only a prompt that straddles two reads needs older bytes.
            let keep = if dialog.sent { 0 } else { dialog.prompt.len() };
            let cut = dialog.seen.len().saturating_sub(keep);
            dialog.seen.drain(..cut);
        }
    }

    /// Reads what is left; called once every writer has ended.
    pub(super) fn drain(&mut self) {
        for _ in 0..1024 {
            if self.stdout.is_none() && self.stderr.is_none() {
                break;
            }
            let before = self.stdout_capture.total_bytes() + self.stderr_capture.total_bytes();
            let open_before = (self.stdout.is_some(), self.stderr.is_some());
            self.read_available();
            let after = self.stdout_capture.total_bytes() + self.stderr_capture.total_bytes();
            if after == before && open_before == (self.stdout.is_some(), self.stderr.is_some()) {
                break; // nothing more now (a writer we could not kill): stop rather than spin
            }
        }
    }

    pub(super) fn finish(self) -> (Captured, Captured) {
        (self.stdout_capture.finish(), self.stderr_capture.finish())
    }
}

/// One non-blocking read; closes the stream at end of file (or EIO: a terminal whose other
/// side is closed by everyone).
fn read_some<'b>(stream: &mut Option<OwnedFd>, buffer: &'b mut [u8]) -> Option<&'b [u8]> {
    let fd = stream.as_ref()?;
    match nix::unistd::read(fd, buffer) {
        Ok(0) | Err(Errno::EIO) => {
            *stream = None;
            None
        }
        Ok(n) => Some(&buffer[..n]),
        Err(Errno::EAGAIN) | Err(Errno::EINTR) => None,
        Err(_) => {
            *stream = None;
            None
        }
    }
}

/// Types `keys` on the terminal. Short replies fit the terminal's input buffer at once; a
/// longer one is cut off rather than blocking the event loop.
fn type_keys(master: &OwnedFd, mut keys: &[u8]) {
    for _ in 0..100 {
        if keys.is_empty() {
            return;
        }
        match nix::unistd::write(master, keys) {
            Ok(n) => keys = &keys[n..],
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => {
                let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLOUT)];
                let _ = poll(&mut fds, PollTimeout::from(100u8));
            }
            Err(_) => return,
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

fn set_nonblocking(fd: &OwnedFd) -> Result<()> {
    let flags =
        OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL).context("Failed to read fd flags")?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))
        .context("Failed to make a pipe non-blocking")?;
    Ok(())
}
