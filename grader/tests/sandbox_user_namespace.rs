//! The two namespace tiers and who gets which: root gets the dedicated uid range (the program
//! runs as uid 1000 inside, `RANGE_BASE + 1000` on the machine), an ordinary user the
//! self-mapping (the program runs as that user). Both isolate IPC and PIDs alike.
//!
//! These tests need root (to start the sandbox as `nobody`); they fail, never skip, without it.

mod sandbox_common;

use std::time::{Duration, Instant};

use grader::sandbox::{PROGRAM_ID, RANGE_BASE, Tier};
use grader::scenario::{Exit, Isolation};
use sandbox_common::*;

fn assert_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests need root: they start the sandbox as root and as nobody"
    );
}

#[test]
fn as_root_the_program_runs_as_a_uid_of_the_dedicated_range() {
    assert_root();
    let marker = Marker::new(100);
    let mut scenario = shell(&[
        "id -u; id -g; cat /proc/self/uid_map; ipcmk -M 100 >/dev/null; ipcrm -M 9990; ipcrm --all=shm; echo $$",
    ]);
    scenario.setup = vec![segment(9990, 64, 0o600, b"setup", true)];
    let observation = run_with(&scenario, Tier::Namespaces).remove(0);
    assert_eq!(observation.error, None);
    assert_eq!(
        observation.isolation,
        Isolation::Namespaces { self_mapped: false }
    );
    let map = format!("{:>10} {:>10} {:>10}", 0, RANGE_BASE, 65536);
    assert_eq!(
        observation.steps[0].stdout.text,
        format!("{PROGRAM_ID}\n{PROGRAM_ID}\n{map}\n2\n"),
        "uid and gid 1000 inside, the range mapped, pid 2"
    );
    assert_eq!(
        observation.segments.len(),
        1,
        "the held one, marked for destruction: the program owns the setup segment"
    );
    assert!(observation.segments[0].entry.marked_for_destruction());
    assert_eq!(observation.segments[0].entry.uid, PROGRAM_ID);
    assert_eq!(&observation.segments[0].contents[..5], b"setup");
    assert_eq!(marker.current_bytes(), marker.bytes);
}

#[test]
fn the_self_mapped_tier_is_refused_to_the_machines_root() {
    assert_root();
    let error = grader::sandbox::run_with(&shell(&["exit 0"]), grader_exe(), Tier::UserNamespace)
        .expect_err("refused");
    assert!(
        format!("{error:#}").contains("would run the program as this machine's root"),
        "{error:#}"
    );
}

#[test]
fn an_ordinary_user_gets_the_self_mapped_tier() {
    assert_root();
    let mut scenario = shell(&["id -u; exec ipcmk -M 64"]);
    scenario.setup = vec![segment(9990, 64, 0o600, b"x", false)];
    let observations = run_as_ordinary_user(&scenario);
    let observation = &observations[0];
    assert_eq!(observation.error, None);
    assert_eq!(
        observation.isolation,
        Isolation::Namespaces { self_mapped: true }
    );
    assert_eq!(
        observation.steps[0].stdout.text,
        format!("{NOBODY}\nShared memory id: 1\n"),
        "the user's own uid inside"
    );
    assert_eq!(observation.segments.len(), 2);
    for segment in &observation.segments {
        assert_eq!(
            (segment.entry.uid, segment.entry.cuid, segment.entry.gid),
            (NOBODY, NOBODY, NOBODY),
            "the user's own uid and gid own both segments"
        );
    }
    assert_eq!(observation.segments[1].entry.cpid, 2);
}

#[test]
fn an_ordinary_users_run_still_sees_orphans_and_processes_left_running() {
    assert_root();
    let token = token();
    let scenario = shell(&[
        "x=$( (/bin/true &) ); exit 0",
        &format!("sleep 30 & exit 0; : {token}"),
    ]);
    let observations = run_as_ordinary_user(&scenario);
    let steps = &observations[0].steps;
    let orphans: Vec<&str> = steps[0]
        .not_waited_for
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(orphans, ["true"], "{:#?}", steps[0]);
    assert_eq!(steps[1].left_running.len(), 1, "{:#?}", steps[1]);
    assert_eq!(processes_with(&token), Vec::<String>::new());
}

#[test]
fn an_ordinary_users_fork_bomb_is_capped_by_rlimit_nproc() {
    assert_root();
    let token = token();
    let mut scenario = shell(&[&format!("bomb() {{ bomb | bomb & }}; bomb; : {token}")]);
    scenario.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let observations = run_as_ordinary_user(&scenario);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let step = &observations[0].steps[0];
    assert!(matches!(step.exit, Exit::TimedOut | Exit::Code(_)));
    assert_eq!(processes_with(&token), Vec::<String>::new());
}

/// Root without CAP_SYS_ADMIN (a common container setup) still gets the dedicated range: the
/// new user namespace gives the jail every capability it needs inside, and mapping the range
/// needs only CAP_SETUID and CAP_SETGID.
#[test]
fn root_without_cap_sys_admin_still_gets_the_dedicated_range() {
    assert_root();
    let wrapper = [
        "setpriv",
        "--inh-caps=-sys_admin",
        "--bounding-set=-sys_admin",
    ];
    let observations = run_wrapped(&wrapper, &shell(&["exec ipcmk -M 100"]));
    let observation = &observations[0];
    assert_eq!(observation.error, None);
    assert_eq!(
        observation.isolation,
        Isolation::Namespaces { self_mapped: false }
    );
    assert_eq!(observation.segments.len(), 1);
}

/// An ordinary user following the test instructions (`unshare --user --map-root-user ...`):
/// uid 0 inside that namespace, but not the machine's root, so the dedicated range cannot be
/// mapped (it is not mapped in the caller's namespace) and the self-mapped tier runs the program
/// as that namespace's root, with no capabilities; RLIMIT_NPROC caps the bomb.
#[test]
fn a_fork_bomb_as_mapped_root_is_capped_and_times_out() {
    assert_root();
    let token = token();
    // The program forks once, before the bomb can fill the cap, then execs: it keeps running
    // (it cannot fail a fork), so the run must end at the timeout.
    let mut scenario = shell(&[&format!(
        "sh -c 'bomb() {{ bomb | bomb & }}; bomb; : {token}' & exec sleep 30"
    )]);
    scenario.timeout = Duration::from_secs(1);
    let wrapper = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "unshare",
        "--user",
        "--map-root-user",
    ];
    let started = Instant::now();
    let observations = run_wrapped(&wrapper, &scenario);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        observations[0].isolation,
        Isolation::Namespaces { self_mapped: true }
    );
    assert_eq!(observations[0].steps[0].exit, Exit::TimedOut);
    assert_eq!(processes_with(&token), Vec::<String>::new());
}
