//! `SHMLAB_STATE` naming a progress file on another file system than the checkout (a read-only
//! checkout's case). A test binary of its own: it sets the variable, which is process-wide.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use grader::student::state::{STATE_FILE_ENV, State};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};

/// How many entries a folder has (a stray temporary file shows up here).
fn entries(folder: &Path) -> usize {
    fs::read_dir(folder).expect("list the folder").count()
}

/// The progress file lives on a tmpfs mounted in this test's private mount namespace (so the
/// mount vanishes with the test): the save must write its temporary file there, not beside the
/// checkout, or the rename fails with EXDEV (as it did) and the checkout gets a stray file.
#[test]
fn progress_on_another_file_system_is_saved_there_and_nothing_goes_into_the_checkout() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    let elsewhere = tempfile::tempdir().expect("create a mount point");
    unshare(CloneFlags::CLONE_NEWNS)
        .expect("a private mount namespace (unshare(CLONE_NEWNS) needs root)");
    // Our mounts must not propagate back to the machine's namespace.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .expect("make the mounts private");
    mount(
        Some("tmpfs"),
        elsewhere.path(),
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=1m"),
    )
    .expect("mount a tmpfs");
    let device = |path: &Path| fs::metadata(path).expect("stat").dev();
    assert_ne!(
        device(checkout.path()),
        device(elsewhere.path()),
        "the premise: two file systems"
    );

    let target = elsewhere.path().join("progress.json");
    // SAFETY: this binary has this one test, so no other thread reads the environment now.
    unsafe { std::env::set_var(STATE_FILE_ENV, &target) };
    let mut state = State::fresh();
    state.record("create", true);
    let saved = state.save(checkout.path());
    let again = State::fresh().save(checkout.path());
    let loaded = State::load(checkout.path());
    let (in_checkout, in_elsewhere) = (entries(checkout.path()), entries(elsewhere.path()));
    umount2(elsewhere.path(), MntFlags::MNT_DETACH).expect("unmount the tmpfs");

    saved.expect("save onto the other file system");
    again.expect("save over it");
    assert_eq!(loaded.warning, None);
    assert_eq!(loaded.state, State::fresh(), "the second save's contents");
    assert_eq!(in_checkout, 0, "nothing written into the checkout");
    assert_eq!(
        in_elsewhere, 1,
        "the progress file, and no temporary file left"
    );
}
