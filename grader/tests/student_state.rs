//! The progress file: fresh when missing, fresh with a warning when corrupt, atomic saves.

use std::fs;

use grader::student::state::{STATE_FILE, State};

#[test]
fn a_missing_file_is_a_fresh_start_without_warning() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    let loaded = State::load(checkout.path());
    assert!(!loaded.existed);
    assert_eq!(loaded.warning, None);
    assert_eq!(loaded.state, State::fresh());
    assert!(!loaded.state.welcome_shown);
}

#[test]
fn saved_progress_loads_back() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    let mut state = State::fresh();
    state.welcome_shown = true;
    state.record("create", true);
    state.record("attach", false);
    state.save(checkout.path()).expect("save");

    let loaded = State::load(checkout.path());
    assert!(loaded.existed);
    assert_eq!(loaded.warning, None);
    assert_eq!(loaded.state, state);
    assert!(loaded.state.has_passed("create"));
    assert!(!loaded.state.has_passed("attach"));
    assert!(
        loaded.state.passed["create"].at_unix_seconds > 1_600_000_000,
        "a real timestamp"
    );
}

#[test]
fn the_file_is_readable_json_at_the_checkout_root() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    let mut state = State::fresh();
    state.record("create", true);
    state.save(checkout.path()).expect("save");
    let text = fs::read_to_string(checkout.path().join(STATE_FILE)).expect("read the file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(json["version"], 1);
    assert_eq!(json["welcome_shown"], false);
    assert!(
        json["passed"]["create"]["at_unix_seconds"].is_u64(),
        "{text}"
    );
}

#[test]
fn a_corrupt_file_is_a_fresh_start_with_a_warning_and_is_overwritten_by_the_next_save() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    let path = checkout.path().join(STATE_FILE);
    for corrupt in [
        "",
        "{\"version\": 1, \"passed\": ",
        "not json at all",
        "[1, 2, 3]",
    ] {
        fs::write(&path, corrupt).expect("write a corrupt file");
        let loaded = State::load(checkout.path());
        assert!(loaded.existed);
        assert_eq!(loaded.state, State::fresh(), "for {corrupt:?}");
        let warning = loaded.warning.expect("a warning for a corrupt file");
        assert!(
            warning.contains(STATE_FILE) && warning.contains("Starting afresh"),
            "{warning}"
        );
    }
    State::fresh()
        .save(checkout.path())
        .expect("save over the corrupt file");
    assert_eq!(State::load(checkout.path()).warning, None);
}

#[test]
fn a_file_of_another_format_version_is_a_fresh_start_with_a_warning() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    let future = r#"{"version": 99, "welcome_shown": true, "passed": {}}"#;
    fs::write(checkout.path().join(STATE_FILE), future).expect("write");
    let loaded = State::load(checkout.path());
    assert_eq!(loaded.state, State::fresh());
    assert!(
        loaded
            .warning
            .expect("a warning")
            .contains("format version 99")
    );
}

#[test]
fn an_unreadable_file_is_a_fresh_start_with_a_warning() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    // A folder where the file should be: reading fails (EISDIR) whoever runs the test, root too.
    fs::create_dir(checkout.path().join(STATE_FILE)).expect("create the folder");
    let loaded = State::load(checkout.path());
    assert_eq!(loaded.state, State::fresh());
    assert!(
        loaded
            .warning
            .expect("a warning")
            .contains("cannot be read")
    );
}

#[test]
fn saving_leaves_no_temporary_file_behind() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    State::fresh().save(checkout.path()).expect("first save");
    State::fresh()
        .save(checkout.path())
        .expect("second save, over the first");
    let names: Vec<String> = fs::read_dir(checkout.path())
        .expect("list the checkout")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, vec![STATE_FILE.to_owned()]);
}

#[test]
fn a_failed_save_is_an_error_that_names_the_file_and_leaves_the_old_one() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    let mut old = State::fresh();
    old.record("create", true);
    old.save(checkout.path()).expect("save the old progress");
    // Into a folder that does not exist: the temporary file cannot even be created.
    let missing_root = checkout.path().join("no-such-folder");
    let err = State::fresh()
        .save(&missing_root)
        .expect_err("saving into a missing folder fails");
    assert!(format!("{err:#}").contains(".shmlab-state.json"), "{err:#}");
    assert_eq!(State::load(checkout.path()).state, old);
    assert!(!missing_root.exists());
}

#[test]
fn a_failure_forgets_a_pass_and_a_repeated_pass_keeps_its_first_time() {
    let mut state = State::fresh();
    state.record("create", true);
    let first = state.passed["create"].clone();
    state.record("create", true);
    assert_eq!(state.passed["create"], first);
    state.record("create", false);
    assert!(!state.has_passed("create"));
}

#[test]
fn a_failed_rename_removes_the_temporary_file() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    // A non-empty folder where the file should be: writing the temporary file works, renaming
    // it over the folder fails.
    let blocker = checkout.path().join(STATE_FILE);
    fs::create_dir(&blocker).expect("create the folder");
    fs::write(blocker.join("keep"), "").expect("fill the folder");
    State::fresh()
        .save(checkout.path())
        .expect_err("cannot rename over a non-empty folder");
    let names: Vec<String> = fs::read_dir(checkout.path())
        .expect("list the checkout")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        vec![STATE_FILE.to_owned()],
        "the temporary file is gone"
    );
}

#[test]
fn results_graded_outside_watch_are_recorded_even_over_a_corrupt_file() {
    let checkout = tempfile::tempdir().expect("create a scratch checkout");
    fs::write(checkout.path().join(STATE_FILE), "{ truncated").expect("write a corrupt file");
    let warning =
        grader::student::record_results(checkout.path(), [("create", true), ("attach", false)])
            .expect("record");
    assert!(warning.is_some_and(|warning| warning.contains("Starting afresh")));
    let loaded = State::load(checkout.path());
    assert_eq!(loaded.warning, None);
    assert!(loaded.state.has_passed("create"));
    assert!(!loaded.state.has_passed("attach"));
}
