//! Runs the `ring` solution as a process, in a private IPC namespace per test: every message
//! arrives (the checksum the child prints is recomputed here), through the ring and through the
//! pipe, also with both processes on one CPU; nothing is left behind; bad arguments are refused.

use assert_cmd::Command;
use grader::exercises::spec::ring::{RECEIVED, SENT};
use grader::exercises::spec::{fill, value};
use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;
use predicates::prelude::*;
use sysv::testing::{other_processes_in_this_namespace, segment_count};

/// The checksum of `count` intact messages of `size` bytes (the spec's words and fold).
fn checksum(count: u64, size: u64) -> u64 {
    let mut sum: u64 = 0;
    for seq in 0..count {
        for i in 0..size / 8 {
            let word = if i == 0 {
                seq
            } else {
                seq.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(i)
            };
            sum = (sum.rotate_left(5) ^ word).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    sum
}

/// Runs `ring ARGS N SIZE` and checks its two lines and that it left nothing.
fn transfers(mode: &[&str], count: u64, size: u64) {
    let checksum = format!("{:#018x}", checksum(count, size));
    let received = fill(
        RECEIVED,
        &[("count", &count), ("size", &size), ("checksum", &checksum)],
    );
    let sent = fill(SENT, &[("count", &count), ("size", &size)]);
    let output = Command::cargo_bin("ring-solution")
        .expect("built")
        .args(mode)
        .args([count.to_string(), size.to_string()])
        .assert()
        .success()
        .stderr("")
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(output).expect("UTF-8");
    let lines: Vec<&str> = stdout.lines().collect();
    let [first, second] = lines[..] else {
        panic!("two lines expected: {stdout:?}");
    };
    assert_eq!(first, received);
    let number = |name| {
        value(&sent, second, name)
            .is_some_and(|number| number.parse::<f64>().is_ok_and(|n| n >= 0.0))
    };
    assert!(number("ms") && number("rate"), "{second:?}");
    assert_eq!(segment_count(), 0, "a segment was left behind");
    assert_eq!(other_processes_in_this_namespace(), Vec::<String>::new());
}

#[test]
fn small_messages_wrap_the_ring_many_times_and_all_arrive() {
    sysv::testing::private_ipc_namespace();
    transfers(&[], 20_000, 64);
}

#[test]
fn large_messages_all_arrive() {
    sysv::testing::private_ipc_namespace();
    transfers(&[], 600, 65536);
}

#[test]
fn on_one_cpu_the_two_sides_still_take_turns() {
    sysv::testing::private_ipc_namespace();
    let allowed = sched_getaffinity(Pid::from_raw(0)).expect("sched_getaffinity");
    let cpu = (0..CpuSet::count())
        .find(|&cpu| allowed.is_set(cpu).unwrap_or(false))
        .expect("some CPU is allowed");
    let mut one = CpuSet::new();
    one.set(cpu).expect("a valid CPU number");
    // Pid 0: this test's thread only, and so the processes it starts.
    sched_setaffinity(Pid::from_raw(0), &one).expect("sched_setaffinity");
    transfers(&[], 5_000, 64);
}

#[test]
fn the_pipe_carries_the_same_messages() {
    sysv::testing::private_ipc_namespace();
    transfers(&["--pipe"], 5_000, 64);
}

#[test]
fn bad_arguments_are_refused_and_make_no_segment() {
    sysv::testing::private_ipc_namespace();
    for args in [
        &["0", "64"][..],
        &["10", "60"],
        &["10", "0"],
        &["10", "65544"],
        &["ten", "64"],
        &["10"],
        &["10", "64", "1"],
    ] {
        Command::cargo_bin("ring-solution")
            .expect("built")
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("usage: ring [--pipe] N SIZE"));
    }
    assert_eq!(segment_count(), 0);
}
