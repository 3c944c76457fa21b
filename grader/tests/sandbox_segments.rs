//! The sandbox's view of the kernel: setup segments as asked, held segments that outlive
//! `IPC_RMID`, segments made by the program reported with their bytes — and the machine's own
//! IPC namespace untouched.

mod sandbox_common;

use grader::scenario::Exit;
use sandbox_common::*;

#[test]
fn setup_segments_have_the_key_size_mode_and_contents_asked_for() {
    let mut scenario = shell(&["cat /proc/sysvipc/shm"]);
    scenario.setup = vec![
        segment(9990, 1024, 0o600, b"hello", false),
        segment(24601, 8000, 0o644, b"", false),
    ];
    let observation = run_once(&scenario);
    assert_eq!(observation.setup_ids.len(), 2);
    assert_eq!(observation.segments.len(), 2);

    let first = &observation.segments[0];
    assert_eq!(first.entry.shmid, observation.setup_ids[0]);
    assert_eq!(
        (first.entry.key, first.entry.size, first.entry.perms),
        (9990, 1024, 0o600)
    );
    assert_eq!(
        (first.entry.cpid, first.entry.nattch),
        (1, 0),
        "made by init, not held"
    );
    assert_eq!(first.contents.len(), 1024);
    assert_eq!(&first.contents[..5], b"hello");
    assert!(first.contents[5..].iter().all(|&byte| byte == 0));
    assert!(!first.held_by_grader);

    let second = &observation.segments[1];
    assert_eq!(
        (second.entry.key, second.entry.size, second.entry.perms),
        (24601, 8000, 0o644)
    );
    assert_eq!(
        second.contents.len(),
        grader::sandbox::CONTENTS_BYTES,
        "at most 4096 bytes copied"
    );

    // The program saw them too, in its own namespace.
    let seen = grader::proc_shm::parse(&observation.steps[0].stdout.text)
        .expect("the program's view parses");
    let keys: Vec<i32> = seen.iter().map(|entry| entry.key).collect();
    assert_eq!(keys, [9990, 24601]);
}

#[test]
fn a_held_segment_survives_the_programs_removal_marked_for_destruction() {
    let mut scenario = shell(&["exec ipcrm -M 1001"]);
    scenario.setup = vec![segment(1001, 512, 0o666, b"turn", true)];
    let observation = run_once(&scenario);
    assert_eq!(
        observation.steps[0].exit,
        Exit::Code(0),
        "{:?}",
        observation.steps[0].stderr
    );
    assert_eq!(observation.segments.len(), 1);
    let held = &observation.segments[0];
    assert!(held.held_by_grader);
    assert!(held.entry.marked_for_destruction());
    assert_eq!(
        held.entry.key, 0,
        "the kernel frees the key of a removed segment"
    );
    assert_eq!(held.entry.permissions(), 0o666);
    assert_eq!(held.entry.nattch, 1, "only the grader's attachment");
    assert_eq!(&held.contents[..4], b"turn");
    assert_eq!(held.contents.len(), 512);
}

#[test]
fn a_held_segment_is_not_inherited_by_the_program() {
    // The program never touches the segment, so its last pid is init's own attach.
    let mut scenario = shell(&["exit 0"]);
    scenario.setup = vec![segment(9990, 1024, 0o666, b"", true)];
    let observation = run_once(&scenario);
    let held = &observation.segments[0];
    assert_eq!((held.entry.lpid, held.entry.nattch), (1, 1));
}

#[test]
fn segments_made_by_the_program_are_reported_then_gone_from_the_machine() {
    let before = table();
    let mut scenario = shell(&["exec ipcmk -M 2048 -p 0640", "ipcmk -M 100 >/dev/null"]);
    scenario.setup = vec![segment(2004, 64, 0o666, b"x", false)];
    let observation = run_once(&scenario);
    let entries: Vec<_> = observation
        .segments
        .iter()
        .map(|segment| &segment.entry)
        .collect();
    assert_eq!(entries.len(), 3, "{entries:#?}");
    let made = &observation.segments[1];
    assert_eq!(
        (made.entry.size, made.entry.perms, made.entry.cpid),
        (2048, 0o640, 2)
    );
    assert_eq!(made.contents, vec![0; 2048]);
    let by_child = &observation.segments[2];
    assert_eq!(
        (by_child.entry.size, by_child.entry.cpid),
        (100, 4),
        "sh is pid 3, ipcmk 4"
    );
    // Nothing of the run is in the machine's table (other tests may add their own meanwhile,
    // so look for the run's segments rather than compare whole tables).
    let after = table();
    for segment in &observation.segments {
        assert!(
            !after
                .iter()
                .any(|entry| entry.key == segment.entry.key && !before.contains(entry)),
            "segment {:?} leaked to the machine",
            segment.entry
        );
    }
}

/// The strongest check: a segment of the test's own, in the namespace the sandbox was started
/// from, survives a program that removes every segment it can see, byte for byte.
#[test]
fn the_machines_segments_are_untouched_even_by_ipcrm_all() {
    let marker = Marker::new(3000);
    let mut scenario = shell(&[
        "ipcmk -M 4096 >/dev/null; ipcrm --all=shm; echo removed",
        "cat /proc/sysvipc/shm",
    ]);
    scenario.setup = vec![segment(9990, 1024, 0o666, b"setup", false)];
    let observation = run_once(&scenario);
    assert_eq!(observation.steps[0].stdout.text, "removed\n");
    assert_eq!(
        grader::proc_shm::parse(&observation.steps[1].stdout.text).expect("parses"),
        Vec::new()
    );
    assert!(observation.segments.is_empty());
    assert_eq!(
        marker.current_bytes(),
        marker.bytes,
        "the marker segment changed"
    );
    let entry = table()
        .into_iter()
        .find(|entry| entry.shmid == marker.id.as_raw())
        .expect("marker listed");
    assert_eq!(
        (entry.size, entry.perms, entry.cpid),
        (3000, 0o600, std::process::id() as i32)
    );
}

/// In a namespace of the test's own (nothing else runs there), the whole table and the
/// process list are exactly the same before and after a run that does everything.
#[test]
fn the_parent_namespace_is_exactly_as_before() {
    sysv::testing::private_ipc_namespace();
    let marker = Marker::new(5000);
    let other = sysv::shmget(
        9990,
        100,
        sysv::ShmgetFlag::IPC_CREAT,
        sysv::Mode::from_bits_truncate(0o644),
    )
    .expect("a key 9990 segment in the test's namespace");
    let before = table();
    let token = token();
    let mut scenario = shell(&[
        &format!("ipcmk -M 100 >/dev/null; ipcrm -M 9990; sleep 30 & exit 0; : {token}"),
        "exec ipcmk -M 200",
    ]);
    scenario.setup = vec![
        segment(9990, 1024, 0o666, b"setup", true),
        segment(1001, 10, 0o600, b"", false),
    ];
    scenario.repeat = 2;
    let observations = run_with(&scenario, grader::sandbox::Tier::Best);
    for observation in &observations {
        assert_eq!(observation.error, None);
        assert_eq!(observation.steps[0].left_running.len(), 1);
        // The held setup segment (removed by the program, still attached), the other setup
        // segment, and one from each step.
        let entries: Vec<_> = observation
            .segments
            .iter()
            .map(|segment| &segment.entry)
            .collect();
        assert_eq!(entries.len(), 4, "{entries:#?}");
        assert!(entries[0].marked_for_destruction());
    }
    assert_eq!(table(), before, "the test's IPC namespace changed");
    assert_eq!(marker.current_bytes(), marker.bytes);
    assert_eq!(processes_with(&token), Vec::<String>::new());
    sysv::shmctl_rmid(other).expect("remove the test's key 9990 segment");
}
