//! [`Handover::abandoned`]: after init's wait, a traced child whose real parent was another
//! process is told apart as handed on (still there), reaped by that parent (gone, the parent
//! alive) or abandoned (gone, the parent ended), with real processes.

use std::process::{Child, Command};

use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

use super::Handover;
use crate::sandbox::procs;

fn start(program: &str, args: &[&str]) -> Child {
    Command::new(program)
        .args(args)
        .spawn()
        .unwrap_or_else(|error| panic!("{program} starts: {error}"))
}

/// Blocks until `child` is a zombie, without reaping it.
fn until_zombie(child: &Child) {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
    waitid(Id::Pid(Pid::from_raw(child.id() as i32)), flags).expect("waitid");
}

fn handover(child: &Child, parent: i32) -> Handover {
    let (_, pidfd) = procs::proc_pid(child.id() as i32).expect("a pidfd (Linux 5.3+)");
    Handover {
        child: pidfd,
        parent,
    }
}

#[test]
fn a_child_still_there_was_handed_on_to_its_parent() {
    let me = std::process::id() as i32;
    let mut child = start("sleep", &["30"]);
    let running = handover(&child, me);
    assert!(!running.abandoned(), "running");
    child.kill().expect("kill");
    until_zombie(&child);
    assert!(!running.abandoned(), "a zombie for its parent");
    child.wait().expect("reap");
}

#[test]
fn a_child_gone_while_its_parent_lives_was_reaped_by_that_parent() {
    let mut child = start("true", &[]);
    let reaped = handover(&child, std::process::id() as i32);
    child.wait().expect("reap");
    assert!(!reaped.abandoned());
}

#[test]
fn a_child_gone_after_its_parent_ended_was_abandoned() {
    let mut parent = start("true", &[]);
    until_zombie(&parent);
    let mut child = start("true", &[]);
    let abandoned = handover(&child, parent.id() as i32);
    child.wait().expect("reap");
    assert!(abandoned.abandoned(), "the parent is a zombie");
    parent.wait().expect("reap");
    assert!(abandoned.abandoned(), "the parent is gone");
}
