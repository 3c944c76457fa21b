//! The build jail, probed with a shell in the place of cargo, as root and as an ordinary user
//! (`nobody`): what a build could do if a submission ever ran code in it (a build script, a
//! proc macro). It must not read root-only files, write outside its target folder and
//! scratch space, reach the network, see the machine's processes, or keep any capability.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use grader::build::jail::{self, Jail, Mount};

const NOBODY: u32 = 65534;

/// What the probe can reach: a root-only file, a read-only folder, an overlay target.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    /// Everything owned by `owner` where the jail must write, by root elsewhere.
    fn new(owner: u32) -> Setup {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path();
        let open = |path: &Path| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod")
        };
        open(path);
        for folder in ["lab", "lower", "layers/upper", "layers/work"] {
            std::fs::create_dir_all(path.join(folder)).expect("mkdir");
            open(&path.join(folder));
        }
        std::fs::write(path.join("lab/Cargo.toml"), "[workspace]\n").expect("write");
        std::fs::write(path.join("lower/cached"), "built once\n").expect("write");
        std::fs::write(path.join("root-only"), "the machine's secret\n").expect("write");
        std::fs::set_permissions(
            path.join("root-only"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod");
        for writable in [
            "lower",
            "lower/cached",
            "layers",
            "layers/upper",
            "layers/work",
        ] {
            std::os::unix::fs::chown(path.join(writable), Some(owner), Some(owner)).expect("chown");
        }
        Setup { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn jail(&self, script: &str, timeout: Duration) -> Jail {
        Jail {
            mounts: vec![
                Mount::Tmpfs {
                    target: "/tmp".into(),
                    megabytes: 8,
                },
                Mount::Bind {
                    source: self.path("lab"),
                    target: "/lab".into(),
                    writable: false,
                },
                Mount::Bind {
                    source: self.path("root-only"),
                    target: "/secret".into(),
                    writable: false,
                },
                Mount::Overlay {
                    lower: self.path("lower"),
                    layers: self.path("layers"),
                    upper: "upper".into(),
                    work: "work".into(),
                    target: "/target".into(),
                },
            ],
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            cwd: "/lab".into(),
            timeout,
        }
    }
}

/// Each line: what was tried, and whether it worked.
const PROBE: &str = r#"
try() { if eval "$2" >/dev/null 2>&1; then echo "$1: yes"; else echo "$1: no"; fi; }
echo "uid: $(id -u)"
try "read the root-only file" "cat /secret"
try "see /etc/shadow" "test -e /etc/shadow"
try "see /root" "test -e /root"
try "see /home" "test -e /home"
try "read the cache" "grep -q 'built once' /target/cached"
try "write the cache" "echo changed > /target/cached"
try "write the target" "echo built > /target/new"
try "write /tmp" "echo scratch > /tmp/scratch"
try "write the lab" "touch /lab/new"
try "write the root" "touch /new"
try "write /usr" "touch /usr/new"
try "remount the lab" "mount -o remount,rw /lab"
try "reach the network" "grep -v -q -E '^ *(lo|Inter|face)' /proc/net/dev"
echo "processes: $(ls /proc | grep -c -E '^[0-9]+$')"
grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/self/status
"#;

/// Runs the helper (`grader __build-jail`) as `uid` (root: as it is) and returns its stdout.
fn run_as(uid: u32, jail: &Jail) -> (String, std::process::ExitStatus) {
    use std::io::Write as _;
    let mut command = Command::new(env!("CARGO_BIN_EXE_grader"));
    command
        .arg(jail::SUBCOMMAND)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if uid != 0 {
        command.uid(uid).gid(uid);
    }
    let mut child = command.spawn().expect("start the jail");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&serde_json::to_vec(jail).expect("encode"))
        .expect("send");
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(
        output.status.code(),
        Some(jail::EXIT_JAIL_FAILED),
        "the jail could not be set up: {stderr}"
    );
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status,
    )
}

fn probe(uid: u32, outside_uid: u32) {
    let setup = Setup::new(outside_uid);
    let (report, status) = run_as(uid, &setup.jail(PROBE, Duration::from_secs(20)));
    assert!(status.success(), "{report}");
    for line in [
        "uid: 0",
        "read the root-only file: no",
        "see /etc/shadow: no",
        "see /root: no",
        "see /home: no",
        "read the cache: yes",
        "write the target: yes",
        "write /tmp: yes",
        "write the lab: no",
        "write the root: no",
        "write /usr: no",
        "remount the lab: no",
        "reach the network: no",
        "CapEff:\t0000000000000000",
        "CapPrm:\t0000000000000000",
        "CapBnd:\t0000000000000000",
        "NoNewPrivs:\t1",
    ] {
        assert!(
            report.lines().any(|reported| reported == line),
            "expected {line:?} in:\n{report}"
        );
    }
    let processes: usize = report
        .lines()
        .find_map(|line| line.strip_prefix("processes: "))
        .and_then(|count| count.parse().ok())
        .expect("a process count");
    assert!(processes <= 4, "the jail sees {processes} processes");
    // On the machine: the cache is as it was (a write went to the upper layer), the new file
    // belongs to the jail's outside uid, and nothing else was written.
    assert_eq!(
        std::fs::read_to_string(setup.path("lower/cached")).expect("the cache"),
        "built once\n"
    );
    let upper = setup.path("layers/upper");
    let new = upper.join("new");
    assert_eq!(std::fs::read_to_string(&new).expect("written"), "built\n");
    assert_eq!(std::fs::metadata(&new).expect("stat").uid(), outside_uid);
    let mut written: Vec<String> = std::fs::read_dir(&upper)
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    written.sort();
    assert!(
        written == ["cached", "new"] || written == ["new"],
        "{written:?}"
    );
    let lab: Vec<_> = std::fs::read_dir(setup.path("lab"))
        .expect("list")
        .collect();
    assert_eq!(lab.len(), 1, "the lab is unchanged");
}

#[test]
fn as_root_the_build_runs_as_the_dedicated_uid_and_reaches_nothing() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: the ordinary user's test covers this run");
        return;
    }
    probe(0, jail::BUILD_UID);
}

#[test]
fn as_an_ordinary_user_the_build_runs_in_a_user_namespace_and_reaches_nothing() {
    if !nix::unistd::geteuid().is_root() {
        // The tests run as this user: the probe is the same.
        let uid = nix::unistd::geteuid().as_raw();
        return probe(uid, uid);
    }
    probe(NOBODY, NOBODY);
}

#[test]
fn a_build_past_its_time_is_killed_with_everything_it_started() {
    let setup = Setup::new(if nix::unistd::geteuid().is_root() {
        jail::BUILD_UID
    } else {
        nix::unistd::geteuid().as_raw()
    });
    let token = format!("shmlab-jail-{}", std::process::id());
    let script = format!("sleep 60 & sleep 61; : {token}");
    let started = Instant::now();
    let (_, status) = run_as(0, &setup.jail(&script, Duration::from_secs(1)));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status.code(), Some(128 + 9), "killed");
    let left: Vec<i32> = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter(|pid: &i32| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|line| String::from_utf8_lossy(&line).contains(&token))
        })
        .collect();
    assert_eq!(
        left,
        Vec::<i32>::new(),
        "processes of the jail left running"
    );
}
