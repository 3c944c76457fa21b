#![cfg(feature = "instructor")]
//! The hostile fixtures (grader/fixtures/src/bin/hostile-*.rs), each run in both sandbox tiers:
//! as root (the dedicated uid range) and as an ordinary user (`nobody`, self-mapped). Every
//! test puts a *bystander* on the machine first — a segment in the machine's IPC namespace with
//! a random key and known bytes, a process blocked on a pipe with a secret in its environment,
//! a world-writable folder and file in the machine's `/tmp` — hands the attacker their real
//! pids, ids and paths, and checks afterwards that the bystander is exactly as it was, that the
//! grader's binary and the machine's `$HOME`, `/tmp` and working directory did not change, and
//! that nothing of the run is left running.
//!
//! These tests need root (to start the sandbox as `nobody`, and for the root tier); they fail,
//! never skip, without it.

mod grading_common;
mod sandbox_common;

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use grader::scenario::{Exit, Isolation, Observation, StepOutcome};
use sandbox_common::{
    grader_exe, processes_with, run_as_ordinary_user_with_env, run_with_env, shell,
};

/// Which tier a test runs in.
#[derive(Clone, Copy, Debug)]
enum As {
    /// The grader is root: the program runs as a uid of the dedicated range.
    Root,
    /// The grader is an ordinary user: the program runs as that user, self-mapped.
    OrdinaryUser,
}

/// A secret the sandbox's own environment carries: it must never reach the program.
const SANDBOX_SECRET: &str = "SHMLAB_SANDBOX_SECRET";

fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    u32::from_ne_bytes(bytes)
}

/// What the attacker must not touch.
struct Bystander {
    segment: sysv::ShmId,
    key: i32,
    bytes: Vec<u8>,
    process: Child,
    secret: String,
    folder: tempfile::TempDir,
    file: PathBuf,
    file_bytes: Vec<u8>,
    /// The grader's binary: length and modification time.
    grader: (u64, SystemTime),
    /// Names in the machine's folders that the attacker writes to.
    folders: Vec<(PathBuf, BTreeSet<String>)>,
}

impl Bystander {
    fn new() -> Self {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the hostile tests need root: they run the sandbox as root and as nobody"
        );
        // In the machine's IPC namespace, world-writable: only a namespace stands in the way.
        let (segment, key) = loop {
            let key = (random_u32() >> 1) as i32;
            let made = sysv::shmget(
                key,
                4096,
                sysv::ShmgetFlag::IPC_CREAT | sysv::ShmgetFlag::IPC_EXCL,
                sysv::Mode::from_bits_truncate(0o666),
            );
            match made {
                Ok(id) if key != 0 => break (id, key),
                Ok(id) => {
                    let _ = sysv::shmctl_rmid(id);
                }
                Err(sysv::Errno::EEXIST) => {}
                Err(errno) => panic!("shmget of the bystander segment: {errno}"),
            }
        };
        let bytes: Vec<u8> = (0..4096).map(|_| random_u32() as u8).collect();
        let attachment = sysv::shmat(segment, sysv::ShmatFlag::empty()).expect("shmat");
        attachment.write(0, &bytes);
        sysv::shmdt(attachment).expect("shmdt");

        let secret = format!("bystander-secret-{:08x}{:08x}", random_u32(), random_u32());
        let process = Command::new("cat")
            .env("SHMLAB_BYSTANDER_SECRET", &secret)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start the bystander process");

        let folder = tempfile::Builder::new()
            .prefix("shmlab-bystander-")
            .tempdir_in("/tmp")
            .expect("a folder in /tmp");
        std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod 777");
        let file = folder.path().join("bystander.txt");
        let file_bytes = format!("bystander file {:08x}\n", random_u32()).into_bytes();
        std::fs::write(&file, &file_bytes).expect("write the bystander file");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).expect("chmod 666");

        let grader = std::fs::metadata(grader_exe()).expect("the grader's binary");
        let mut bystander = Bystander {
            segment,
            key,
            bytes,
            process,
            secret,
            folder,
            file,
            file_bytes,
            grader: (grader.len(), grader.modified().expect("mtime")),
            folders: Vec::new(),
        };
        bystander.folders = bystander
            .watched_folders()
            .into_iter()
            .map(|folder| {
                let names = names_in(&folder);
                (folder, names)
            })
            .collect();
        bystander
    }

    fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The machine's folders an attacker would write to.
    fn watched_folders(&self) -> Vec<PathBuf> {
        let mut folders = vec![
            PathBuf::from("/tmp"),
            std::env::current_dir().expect("the tests' working directory"),
            self.folder.path().to_path_buf(),
        ];
        if let Some(home) = std::env::var_os("HOME") {
            folders.push(PathBuf::from(home));
        }
        folders
    }

    fn assert_untouched(&mut self) {
        let status = sysv::shmctl_stat(self.segment).expect("the bystander segment still exists");
        assert_eq!(status.key, self.key, "same key");
        assert_eq!(status.nattch, 0, "nobody attached it");
        let attachment =
            sysv::shmat(self.segment, sysv::ShmatFlag::SHM_RDONLY).expect("attach the bystander");
        let mut now = vec![0; self.bytes.len()];
        attachment.read(0, &mut now);
        sysv::shmdt(attachment).expect("shmdt");
        assert!(now == self.bytes, "the bystander segment's bytes changed");

        assert!(
            self.process.try_wait().expect("try_wait").is_none(),
            "the bystander process was killed"
        );
        let environ = std::fs::read(format!("/proc/{}/environ", self.pid())).expect("environ");
        assert!(String::from_utf8_lossy(&environ).contains(&self.secret));

        assert_eq!(
            std::fs::read(&self.file).expect("the bystander file"),
            self.file_bytes
        );
        let grader = std::fs::metadata(grader_exe()).expect("the grader's binary");
        assert_eq!(
            (grader.len(), grader.modified().expect("mtime")),
            self.grader,
            "the grader's binary changed"
        );
        for (folder, before) in &self.folders {
            let hostile: Vec<String> = names_in(folder)
                .difference(before)
                .filter(|name| name.contains(HOSTILE_NAME))
                .cloned()
                .collect();
            assert!(
                hostile.is_empty(),
                "written into {}: {hostile:?}",
                folder.display()
            );
        }
    }
}

impl Drop for Bystander {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = sysv::shmctl_rmid(self.segment);
    }
}

fn names_in(folder: &Path) -> BTreeSet<String> {
    std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The name hostile-writes gives its files.
const HOSTILE_NAME: &str = "shmlab-hostile-write";

/// Runs fixture `name` with `args` in tier `who`, with a secret and `RUST_BACKTRACE` in the
/// sandbox's environment; returns its one step, after checking the tier and that nothing of
/// the run is left.
fn attack(who: As, name: &str, args: &[String], timeout: Duration) -> StepOutcome {
    let fixture = grading_common::fixture(name);
    // The fixture's own folder is private to root; `nobody` must reach the binary.
    let folder = fixture.path.parent().expect("the fixture's folder");
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut scenario = shell(&[]);
    scenario.name = name.to_owned();
    scenario.program = fixture.path.clone();
    scenario.steps = vec![grader::scenario::Step {
        args: args.to_vec(),
        input: grader::scenario::Input::Closed,
    }];
    scenario.timeout = timeout;
    let environment = [
        (SANDBOX_SECRET, "sandbox-secret-value"),
        ("RUST_BACKTRACE", "1"),
    ];
    let started = Instant::now();
    let mut observations: Vec<Observation> = match who {
        As::Root => run_with_env(&scenario, &environment),
        As::OrdinaryUser => run_as_ordinary_user_with_env(&scenario, &environment),
    };
    eprintln!("[{name} as {who:?}] {:?}", started.elapsed());
    let observation = observations.remove(0);
    assert_eq!(observation.error, None, "{observation:#?}");
    let expected = Isolation::Namespaces {
        self_mapped: matches!(who, As::OrdinaryUser),
    };
    assert_eq!(observation.isolation, expected);
    assert_eq!(
        processes_with(&fixture.path.to_string_lossy()),
        Vec::<String>::new(),
        "processes of the run left on the machine"
    );
    let step = observation.steps.into_iter().next().expect("one step");
    let everything = format!("{}{}", step.stdout.text, step.stderr.text);
    assert!(
        !everything.contains("sandbox-secret-value"),
        "the sandbox's secret reached the program"
    );
    step
}

/// The lines of `stdout` that start with `attempt` must all say "refused".
fn assert_refused(stdout: &str, attempt: &str) {
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with(attempt))
        .collect();
    assert!(!lines.is_empty(), "no {attempt:?} attempt in:\n{stdout}");
    for line in lines {
        assert!(line.contains(": refused ("), "not refused: {line}");
    }
}

fn setns_into_the_machine(who: As) {
    let mut bystander = Bystander::new();
    let args = [
        bystander.pid().to_string(),
        bystander.segment.as_raw().to_string(),
        bystander.key.to_string(),
    ];
    let step = attack(who, "hostile-setns", &args, Duration::from_secs(5));
    let out = &step.stdout.text;
    eprintln!("{out}");
    assert_eq!(step.exit, Exit::Code(0), "{out}");
    assert_refused(out, "setns ");
    assert_refused(out, "unshare(");
    assert_refused(out, "shmctl(");
    assert_refused(out, "shmget(key");
    assert!(out.contains("segments removed by the sweep: 0"), "{out}");
    bystander.assert_untouched();
}

#[test]
fn setns_into_the_machines_ipc_namespace_is_refused_as_root() {
    setns_into_the_machine(As::Root);
}

#[test]
fn setns_into_the_machines_ipc_namespace_is_refused_as_an_ordinary_user() {
    setns_into_the_machine(As::OrdinaryUser);
}

fn cgroup_escape_and_fork_bomb(who: As) {
    let mut bystander = Bystander::new();
    let step = attack(who, "hostile-cgroup-escape", &[], Duration::from_secs(5));
    let out = &step.stdout.text;
    eprintln!("{out}");
    assert_eq!(step.exit, Exit::Code(0), "{out}");
    assert_refused(out, "write /sys/fs/cgroup");
    assert_refused(out, "mkdir /sys/fs/cgroup");
    assert_refused(out, "mount cgroup");
    let forked: u64 = out
        .lines()
        .find_map(|line| line.strip_prefix("forked "))
        .and_then(|rest| rest.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no fork count in {out}"));
    assert!(
        forked < grader::sandbox::MAX_TASKS,
        "forked {forked} processes, past the cap of {}",
        grader::sandbox::MAX_TASKS
    );
    bystander.assert_untouched();
}

#[test]
fn a_cgroup_escape_fails_and_the_fork_bomb_stops_at_the_cap_as_root() {
    cgroup_escape_and_fork_bomb(As::Root);
}

#[test]
fn a_cgroup_escape_fails_and_the_fork_bomb_stops_at_the_cap_as_an_ordinary_user() {
    cgroup_escape_and_fork_bomb(As::OrdinaryUser);
}

fn read_every_environ(who: As) {
    let mut bystander = Bystander::new();
    let step = attack(
        who,
        "hostile-environ",
        &[bystander.pid().to_string()],
        Duration::from_secs(5),
    );
    let out = &step.stdout.text;
    assert_eq!(step.exit, Exit::Code(0), "{out}");
    assert!(
        !out.contains(&bystander.secret),
        "the secret leaked:\n{out}"
    );
    assert!(
        out.contains(&format!("read /proc/{}/environ: refused", bystander.pid()))
            || bystander.pid() < 64,
        "{out}"
    );
    // Only the run's own processes: init (1) and the program (2).
    assert!(out.contains("visible pids: [1, 2]"), "{out}");
    assert_refused(out, "read /proc/1/environ");
    let mut environment: Vec<&str> = out
        .lines()
        .filter_map(|line| line.strip_prefix("env "))
        .collect();
    environment.sort_unstable();
    assert_eq!(
        environment,
        [
            "HOME=/run/scratch",
            "LANG=C.UTF-8",
            "PATH=/usr/local/bin:/usr/bin:/bin"
        ],
        "exactly the cleared environment (no RUST_BACKTRACE)"
    );
    bystander.assert_untouched();
}

#[test]
fn proc_environ_shows_nothing_of_the_machine_as_root() {
    read_every_environ(As::Root);
}

#[test]
fn proc_environ_shows_nothing_of_the_machine_as_an_ordinary_user() {
    read_every_environ(As::OrdinaryUser);
}

fn writes_outside_the_scratch(who: As) {
    let mut bystander = Bystander::new();
    let name = format!("{HOSTILE_NAME}-{:08x}", random_u32());
    let mut args = vec![name.clone()];
    args.extend(
        bystander
            .watched_folders()
            .iter()
            .map(|folder| folder.display().to_string()),
    );
    args.push("--".into());
    args.push(grader_exe().display().to_string());
    args.push(bystander.file.display().to_string());
    let step = attack(who, "hostile-writes", &args, Duration::from_secs(5));
    let out = &step.stdout.text;
    eprintln!("{out}");
    assert_eq!(step.exit, Exit::Code(0), "{out}");
    for folder in bystander.watched_folders() {
        assert_refused(out, &format!("create {}/{name}", folder.display()));
    }
    assert_refused(out, &format!("create //{name}"));
    assert_refused(out, &format!("create /usr/{name}"));
    assert_refused(out, "append to ");
    assert_refused(out, "remove ");
    // The scratch folder is the one place it may write: its HOME and working directory.
    assert!(
        out.contains(&format!("create /run/scratch/{name}: DONE"))
            && out.contains(&format!("create ./{name}: DONE")),
        "{out}"
    );
    bystander.assert_untouched();
}

#[test]
fn writes_reach_only_the_scratch_folder_as_root() {
    writes_outside_the_scratch(As::Root);
}

#[test]
fn writes_reach_only_the_scratch_folder_as_an_ordinary_user() {
    writes_outside_the_scratch(As::OrdinaryUser);
}

fn kill_everything(who: As) {
    let mut bystander = Bystander::new();
    let step = attack(
        who,
        "hostile-kill",
        &[bystander.pid().to_string()],
        Duration::from_secs(5),
    );
    let out = &step.stdout.text;
    assert_eq!(step.exit, Exit::Code(0), "{out}");
    // Init (pid 1) is the grader's: a signal from inside cannot end it, and the program's
    // uid may not signal it at all.
    assert!(
        !out.contains("kill 1: DONE") || matches!(who, As::OrdinaryUser),
        "{out}"
    );
    bystander.assert_untouched();
}

#[test]
fn kill_minus_one_stays_in_the_run_as_root() {
    kill_everything(As::Root);
}

#[test]
fn kill_minus_one_stays_in_the_run_as_an_ordinary_user() {
    kill_everything(As::OrdinaryUser);
}

fn flood(who: As) {
    let mut bystander = Bystander::new();
    let started = Instant::now();
    let step = attack(who, "hostile-flood", &[], Duration::from_secs(10));
    assert_eq!(step.exit, Exit::Code(0));
    assert_eq!(step.stdout.total_bytes, 200 << 20, "every byte was read");
    assert!(step.stdout.truncated);
    assert!(
        step.stdout.text.len() < grader::sandbox::HEAD_BYTES + grader::sandbox::TAIL_BYTES + 100,
        "kept {} bytes",
        step.stdout.text.len()
    );
    eprintln!("200 MB read in {:?}", started.elapsed());
    bystander.assert_untouched();
}

#[test]
fn a_200_mb_flood_is_read_and_capped_as_root() {
    flood(As::Root);
}

#[test]
fn a_200_mb_flood_is_read_and_capped_as_an_ordinary_user() {
    flood(As::OrdinaryUser);
}

fn reach_the_network(who: As) {
    let mut bystander = Bystander::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a TCP port");
    let port = listener.local_addr().expect("its address").port();
    let abstract_name = format!("shmlab-hostile-{:08x}", random_u32());
    let unix_listener = {
        use std::os::linux::net::SocketAddrExt;
        let address = std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes())
            .expect("an abstract name");
        std::os::unix::net::UnixListener::bind_addr(&address).expect("listen")
    };
    let step = attack(
        who,
        "hostile-network",
        &[port.to_string(), abstract_name.clone()],
        Duration::from_secs(5),
    );
    let out = &step.stdout.text;
    assert_eq!(step.exit, Exit::Code(0), "{out}");
    assert_refused(out, "connect ");
    let interfaces: Vec<&str> = out
        .lines()
        .filter_map(|line| line.strip_prefix("interface "))
        .collect();
    assert_eq!(interfaces, ["lo"], "only a loopback of its own: {out}");
    assert!(out.contains("hostname shmlab-sandbox\n"), "{out}");
    // Nobody knocked on the machine's side.
    listener.set_nonblocking(true).expect("non-blocking");
    assert!(
        listener.accept().is_err(),
        "a connection reached the machine"
    );
    unix_listener.set_nonblocking(true).expect("non-blocking");
    assert!(
        unix_listener.accept().is_err(),
        "a connection reached the machine"
    );
    bystander.assert_untouched();
}

#[test]
fn the_network_is_out_of_reach_as_root() {
    reach_the_network(As::Root);
}

#[test]
fn the_network_is_out_of_reach_as_an_ordinary_user() {
    reach_the_network(As::OrdinaryUser);
}

fn refused_system_calls(who: As) {
    let mut bystander = Bystander::new();
    let step = attack(who, "hostile-syscalls", &[], Duration::from_secs(5));
    let out = &step.stdout.text;
    assert_eq!(step.exit, Exit::Code(0), "{out}");
    let answers: Vec<&str> = out.lines().collect();
    assert_eq!(answers.len(), 20, "{out}");
    for line in &answers[..19] {
        assert!(line.ends_with(": refused (EPERM)"), "{line}");
    }
    assert_eq!(answers[19], "clone3: refused (ENOSYS)");
    bystander.assert_untouched();
}

#[test]
fn the_seccomp_filter_refuses_its_system_calls_as_root() {
    refused_system_calls(As::Root);
}

#[test]
fn the_seccomp_filter_refuses_its_system_calls_as_an_ordinary_user() {
    refused_system_calls(As::OrdinaryUser);
}

fn hold_segment_memory(who: As) {
    let mut bystander = Bystander::new();
    let step = attack(
        who,
        "hostile-shm-memory",
        &["2048".to_string()],
        Duration::from_secs(20),
    );
    assert_eq!(step.exit, Exit::Code(0), "{step:#?}");
    let stdout = &step.stdout.text;
    eprintln!("{stdout}");
    assert_refused(stdout, "raise kernel.");
    assert_refused(stdout, "hold another segment");
    let held = number_after(stdout, "held ");
    assert!(
        held << 20 <= grader::sandbox::SEGMENT_MEMORY,
        "the run held {held} MiB of segments"
    );
    bystander.assert_untouched();
}

#[test]
fn segments_made_and_detached_hold_at_most_the_cap_as_root() {
    hold_segment_memory(As::Root);
}

#[test]
fn segments_made_and_detached_hold_at_most_the_cap_as_an_ordinary_user() {
    hold_segment_memory(As::OrdinaryUser);
}

/// The number in the line of `stdout` that starts with `prefix` (`held 64 MiB...`).
fn number_after(stdout: &str, prefix: &str) -> u64 {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(prefix)?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{stdout}"))
}

fn fill_queues_and_semaphores(who: As) {
    let mut bystander = Bystander::new();
    let step = attack(
        who,
        "hostile-ipc-memory",
        &["64".to_string(), "16".to_string()],
        Duration::from_secs(20),
    );
    assert_eq!(step.exit, Exit::Code(0), "{step:#?}");
    let stdout = &step.stdout.text;
    assert_refused(stdout, "make another queue");
    assert_refused(stdout, "make another semaphore set");
    let queues = number_after(stdout, "held ");
    assert!(queues < 1, "the run held {queues} MiB of messages");
    assert_eq!(number_after(stdout, "made "), 0, "{stdout}");
    bystander.assert_untouched();
}

#[test]
fn message_queues_and_semaphores_are_capped_as_root() {
    fill_queues_and_semaphores(As::Root);
}

#[test]
fn message_queues_and_semaphores_are_capped_as_an_ordinary_user() {
    fill_queues_and_semaphores(As::OrdinaryUser);
}
