//! Helpers shared by the sandbox tests: scenarios of shell one-liners, and checks that a run
//! left nothing behind.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use grader::proc_shm::{self, ShmEntry};
use grader::sandbox::{self, Tier};
use grader::scenario::{Input, Observation, Scenario, SetupSegment, Step};

pub fn grader_exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_grader"))
}

/// A scenario running `/bin/sh -c SCRIPT` once per script, 5 s timeout, no setup.
pub fn shell(scripts: &[&str]) -> Scenario {
    Scenario {
        name: "sandbox test".into(),
        program: PathBuf::from("/bin/sh"),
        setup: Vec::new(),
        steps: scripts
            .iter()
            .map(|script| Step {
                args: vec!["-c".into(), (*script).into()],
                input: Input::Closed,
            })
            .collect(),
        timeout: Duration::from_secs(5),
        pin_cpu: None,
        repeat: 1,
        keys: Vec::new(),
        lens: Default::default(),
    }
}

pub fn segment(
    key: i32,
    size: usize,
    mode: u32,
    contents: &[u8],
    hold_attached: bool,
) -> SetupSegment {
    SetupSegment {
        key,
        size,
        mode,
        contents: contents.to_vec(),
        hold_attached,
    }
}

/// Runs the scenario with the given tier; prints how long it took.
pub fn run_with(scenario: &Scenario, tier: Tier) -> Vec<Observation> {
    let started = Instant::now();
    let observations = sandbox::run_with(scenario, grader_exe(), tier).expect("the sandbox runs");
    eprintln!(
        "[{}] {:?} for {} repeat(s)",
        scenario.name,
        started.elapsed(),
        scenario.repeat
    );
    observations
}

/// Runs once, best isolation; the single observation, checked to have no sandbox error.
pub fn run_once(scenario: &Scenario) -> Observation {
    let mut observations = run_with(scenario, Tier::Best);
    assert_eq!(observations.len(), 1);
    let observation = observations.remove(0);
    assert_eq!(observation.error, None, "sandbox error in {observation:#?}");
    observation
}

/// A word no other process on the machine has in its command line: put it in a script, and
/// [`processes_with`] finds every process of that run.
pub fn token() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "shmlab-token-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Pids of the machine's processes whose command line contains `token`.
pub fn processes_with(token: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.parse::<u32>().is_err() {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmdline).contains(token)
        {
            found.push(name);
        }
    }
    found
}

/// The calling thread's segment table, without the times (reading a segment changes them).
pub fn table() -> Vec<ShmEntry> {
    proc_shm::read().expect("reads /proc/sysvipc/shm")
}

/// A segment made by the test (IPC_PRIVATE: nobody else can find it) with random-ish bytes.
pub struct Marker {
    pub id: sysv::ShmId,
    pub bytes: Vec<u8>,
}

impl Marker {
    pub fn new(size: usize) -> Self {
        let id = sysv::shmget(
            sysv::IPC_PRIVATE,
            size,
            sysv::ShmgetFlag::IPC_CREAT,
            sysv::Mode::from_bits_truncate(0o600),
        )
        .expect("shmget(IPC_PRIVATE)");
        let seed = std::process::id() as usize ^ id.as_raw() as usize;
        let bytes: Vec<u8> = (0..size)
            .map(|i| (i.wrapping_mul(31) ^ seed) as u8)
            .collect();
        let attachment = sysv::shmat(id, sysv::ShmatFlag::empty()).expect("shmat");
        attachment.write(0, &bytes);
        sysv::shmdt(attachment).expect("shmdt");
        // Attachments belong to the process, not the thread: a child that another test's
        // thread forked while ours was attached holds a copy until it execs. Wait for those
        // copies to go, or a table read now would differ from one read later.
        let deadline = Instant::now() + Duration::from_secs(30);
        while table()
            .iter()
            .any(|entry| entry.shmid == id.as_raw() && entry.nattch > 0)
        {
            assert!(
                Instant::now() < deadline,
                "the marker is still attached by a forked child"
            );
            std::thread::yield_now();
        }
        Marker { id, bytes }
    }

    pub fn current_bytes(&self) -> Vec<u8> {
        let attachment =
            sysv::shmat(self.id, sysv::ShmatFlag::SHM_RDONLY).expect("the marker still exists");
        let mut bytes = vec![0; self.bytes.len()];
        attachment.read(0, &mut bytes);
        sysv::shmdt(attachment).expect("shmdt");
        bytes
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = sysv::shmctl_rmid(self.id);
    }
}

/// The uid of `nobody`, as which the tests run the sandbox the way an ordinary user would.
pub const NOBODY: u32 = 65534;

/// Runs `grader __sandbox` the way an ordinary user would: as `nobody` when the tests run as
/// root, else as the user running them (already an ordinary one). It must succeed.
pub fn run_as_ordinary_user(scenario: &Scenario) -> Vec<Observation> {
    run_as_ordinary_user_with_env(scenario, &[])
}

/// [`run_as_ordinary_user`], with these variables added to the sandbox's environment.
pub fn run_as_ordinary_user_with_env(
    scenario: &Scenario,
    environment: &[(&str, &str)],
) -> Vec<Observation> {
    use std::os::unix::process::CommandExt;
    let mut command = sandbox_command(environment);
    if nix::unistd::geteuid().is_root() {
        command.uid(NOBODY).gid(NOBODY).current_dir("/");
    }
    exchange(command.spawn().expect("start the sandbox"), scenario)
}

/// Runs `grader __sandbox` as the tests' own user (root: the dedicated-range tier), with these
/// variables added to its environment. It must succeed.
pub fn run_with_env(scenario: &Scenario, environment: &[(&str, &str)]) -> Vec<Observation> {
    exchange(
        sandbox_command(environment)
            .spawn()
            .expect("start the sandbox"),
        scenario,
    )
}

fn sandbox_command(environment: &[(&str, &str)]) -> std::process::Command {
    use std::process::{Command, Stdio};
    let mut command = Command::new(grader_exe());
    command
        .arg(sandbox::SUBCOMMAND)
        .envs(environment.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `grader __sandbox` under a wrapper command (e.g. `setpriv ...`, `unshare ...`: util-linux
/// is a prerequisite of the tests), the wrapper's arguments first.
pub fn run_wrapped(wrapper: &[&str], scenario: &Scenario) -> Vec<Observation> {
    use std::process::{Command, Stdio};
    let (program, args) = wrapper.split_first().expect("a wrapper command");
    let mut command = Command::new(program);
    command
        .args(args)
        .arg(grader_exe())
        .arg(sandbox::SUBCOMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {program} (util-linux): {error}"));
    exchange(child, scenario)
}

/// Sends the scenario to a started `grader __sandbox` (stdin, stdout and stderr piped) and
/// decodes its observations; the sandbox must succeed.
pub fn exchange(mut child: std::process::Child, scenario: &Scenario) -> Vec<Observation> {
    use std::io::Write;
    let input = serde_json::to_vec(scenario).expect("encode the scenario");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("send the scenario");
    let output = child.wait_with_output().expect("wait for the sandbox");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("decode the observations")
}
