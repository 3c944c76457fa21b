//! Where the sandbox makes its `pids` cgroup, for each kind of machine, on made-up cgroup
//! trees: the v2 branch cannot run for real on a machine whose `pids` controller is bound to
//! cgroup v1 (see `tests/sandbox_processes.rs` for the runs on the real hierarchy).

use std::fs;
use std::path::Path;

use super::{Location, locate_in};

/// A cgroup mount point with these files (path, contents).
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("a temporary folder");
    for (path, contents) in files {
        let path = root.path().join(path);
        fs::create_dir_all(path.parent().expect("a parent")).expect("create the folders");
        fs::write(path, contents).expect("write the file");
    }
    root
}

fn location(parent: &Path, home: &Path) -> Location {
    Location {
        parent: parent.to_path_buf(),
        home: home.to_path_buf(),
    }
}

#[test]
fn on_cgroup_v1_the_cgroup_goes_next_to_the_callers_in_the_pids_mount() {
    let root = tree(&[
        ("pids/cgroup.procs", ""),
        ("cgroup.subtree_control", "pids"),
    ]);
    let membership = "9:name=systemd:/\n8:pids:/ci/job\n4:memory:/other\n0::/\n";
    let home = root.path().join("pids/ci/job");
    assert_eq!(
        locate_in(membership, root.path()).expect("a hierarchy"),
        location(&home, &home),
        "the v1 line wins over the v2 one"
    );
}

#[test]
fn on_cgroup_v2_the_cgroup_goes_under_the_root_when_the_root_hands_pids_down() {
    let root = tree(&[("cgroup.subtree_control", "cpu memory pids\n")]);
    let membership = "0::/user.slice/session-1.scope\n";
    assert_eq!(
        locate_in(membership, root.path()).expect("a hierarchy"),
        location(root.path(), &root.path().join("user.slice/session-1.scope"))
    );
}

#[test]
fn on_cgroup_v2_without_pids_handed_down_there_is_no_hierarchy() {
    let root = tree(&[("cgroup.subtree_control", "cpu memory\n")]);
    let error = locate_in("0::/user.slice\n", root.path()).expect_err("no pids");
    assert!(
        error.to_string().contains("no writable pids cgroup"),
        "{error}"
    );
}

#[test]
fn a_pids_line_without_its_v1_mount_is_no_hierarchy() {
    // Hybrid machines list the v1 controller; a container may not mount it.
    let root = tree(&[("cgroup.subtree_control", "")]);
    assert!(locate_in("8:pids:/\n0::/\n", root.path()).is_err());
}
