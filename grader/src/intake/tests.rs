//! Intake on hand-made submissions: every shape, every refusal. No cargo, no sandbox.

use std::io::Write as _;
use std::path::Path;

use super::*;

const CREATE: &[u8] = b"fn main() { println!(\"create\"); }\n";
const ATTACH: &[u8] = b"fn main() { println!(\"attach\"); }\n";

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

/// A checkout with two exercises done, and all that a checkout carries besides.
fn checkout(root: &Path) {
    write(&root.join("Cargo.toml"), b"[workspace]\n");
    write(&root.join("Cargo.lock"), b"");
    write(&root.join("exercises/01-create/Cargo.toml"), b"[package]\n");
    write(
        &root.join("exercises/01-create/build.rs"),
        b"fn main() {}\n",
    );
    write(&root.join("exercises/01-create/src/main.rs"), CREATE);
    write(&root.join("exercises/02-attach/src/main.rs"), ATTACH);
    write(&root.join("exercises/02-attach/src/notes.txt"), b"notes");
    write(
        &root.join("exercises/99-extra/src/main.rs"),
        b"fn main() {}\n",
    );
    write(&root.join("target/debug/create"), b"\x7fELF");
    write(&root.join(".cargo/config.toml"), b"[build]\n");
    write(&root.join("sysv/src/lib.rs"), b"");
}

fn sources_of<'a>(submission: &'a Submission, dir: &str) -> Vec<(String, &'a [u8])> {
    submission.sources[dir]
        .iter()
        .map(|(path, bytes)| (path.display().to_string(), bytes.as_slice()))
        .collect()
}

fn assert_create_and_attach(submission: &Submission) {
    assert_eq!(
        sources_of(submission, "01-create"),
        [("main.rs".to_string(), CREATE)]
    );
    assert_eq!(
        sources_of(submission, "02-attach"),
        [("main.rs".to_string(), ATTACH)]
    );
    // Every exercise of info.toml but the two given.
    let others: Vec<String> = crate::info::Info::builtin()
        .expect("info.toml")
        .exercises
        .into_iter()
        .map(|exercise| exercise.name)
        .filter(|name| name != "create" && name != "attach")
        .collect();
    assert_eq!(submission.missing, others);
}

fn zip_of(dir: &Path, prefix: &str) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("list") {
            let path = entry.expect("entry").path();
            let name = format!(
                "{prefix}{}",
                path.strip_prefix(dir).expect("inside").display()
            );
            if path.is_dir() {
                writer.add_directory(&name, options).expect("a folder");
                stack.push(path);
            } else {
                writer.start_file(&name, options).expect("a file");
                writer
                    .write_all(&std::fs::read(&path).expect("read"))
                    .expect("write");
            }
        }
    }
    writer.finish().expect("the zip").into_inner()
}

fn submit(bytes: &[u8], name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write the archive");
    (dir, path)
}

fn error_of(path: &Path) -> String {
    format!("{:#}", read(path).expect_err("refused"))
}

#[test]
fn a_checkout_gives_its_sources_and_lists_the_rest() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    checkout(dir.path());
    let submission = read(dir.path()).expect("read");
    assert_create_and_attach(&submission);
    assert_eq!(
        submission.ignored,
        [
            ".cargo/ (cargo configuration)",
            "Cargo.lock (the grader uses its own workspace)",
            "Cargo.toml (the grader uses its own workspace)",
            "exercises/*/Cargo.toml, README.md (the grader uses its own manifests)",
            "exercises/01-create/build.rs (build scripts never run)",
            "exercises/02-attach/src/notes.txt (only .rs files are sources)",
            "exercises/99-extra/ (not an exercise of this lab)",
            "sysv/ (the grader uses its own)",
            "target/ (prebuilt binaries)",
        ]
    );
}

#[test]
fn a_zip_a_wrapped_zip_and_tarballs_read_like_the_folder() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    checkout(dir.path());
    let from_folder = read(dir.path()).expect("read");
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_dir_all("alice", dir.path()).expect("tar");
    let tar = tar.into_inner().expect("the tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).expect("gzip");
    let tar_gz = gz.finish().expect("the gzip");
    for (bytes, name) in [
        (zip_of(dir.path(), ""), "alice.zip"),
        (zip_of(dir.path(), "alice/"), "wrapped.zip"),
        (tar.clone(), "alice.tar"),
        (tar_gz, "alice.tgz"),
    ] {
        let (keep, path) = submit(&bytes, name);
        // Also as the only file of a folder (an upload kept as it came).
        for path in [&path, &keep.path().to_path_buf()] {
            let submission = read(path).unwrap_or_else(|error| panic!("{name}: {error:#}"));
            assert_eq!(submission.sources, from_folder.sources, "{name}");
            assert_eq!(submission.ignored, from_folder.ignored, "{name}");
        }
    }
    // What macOS adds to a zip of a folder is not a second folder.
    let (_keep, path) = submit(
        &zip_entries(&[
            ("alice/create.rs", CREATE),
            ("__MACOSX/alice/._create.rs", CREATE),
        ]),
        "mac.zip",
    );
    let submission = read(&path).expect("read");
    assert_eq!(
        sources_of(&submission, "01-create"),
        [("main.rs".to_string(), CREATE)]
    );
}

#[test]
fn loose_files_are_named_by_exercise() {
    let shapes: [&[(&str, &[u8])]; 4] = [
        &[
            ("create.rs", CREATE),
            ("attach.rs", ATTACH),
            ("notes.md", b""),
        ],
        &[("01-create.rs", CREATE), ("02-attach.rs", ATTACH)],
        &[("create/main.rs", CREATE), ("02-attach/main.rs", ATTACH)],
        &[
            ("create/src/main.rs", CREATE),
            ("attach/src/main.rs", ATTACH),
        ],
    ];
    for files in shapes {
        let dir = tempfile::tempdir().expect("a temporary folder");
        for (name, bytes) in files {
            write(&dir.path().join(name), bytes);
        }
        let submission = read(dir.path()).expect("read");
        assert_create_and_attach(&submission);
        let (_keep, zipped) = submit(&zip_of(dir.path(), "upload/"), "upload.zip");
        assert_eq!(read(&zipped).expect("read").sources, submission.sources);
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    write(&dir.path().join("create.rs"), CREATE);
    let one = read(&dir.path().join("create.rs")).expect("one file");
    assert_eq!(
        sources_of(&one, "01-create"),
        [("main.rs".to_string(), CREATE)]
    );
}

#[test]
fn names_are_printed_without_their_control_characters() {
    let (_keep, path) = submit(
        &zip_entries(&[("create.rs", CREATE), ("notes\x1b[2J.md", b"")]),
        "escape.zip",
    );
    let submission = read(&path).expect("read");
    assert_eq!(submission.ignored, ["notes\\u{1b}[2J.md"]);
}

#[test]
fn two_sources_for_one_exercise_are_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write(&dir.path().join("create.rs"), CREATE);
    write(&dir.path().join("01-create/main.rs"), CREATE);
    assert!(error_of(dir.path()).contains("two sources for exercises/01-create/src/main.rs"));
}

#[test]
fn a_submission_without_sources_says_what_is_expected() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write(&dir.path().join("README.md"), b"hello");
    let error = error_of(dir.path());
    assert!(error.contains("holds no exercise sources"), "{error}");
    assert!(error.contains("create.rs, attach.rs"), "{error}");
    let (_keep, path) = submit(b"just text", "notes.txt");
    assert!(error_of(&path).contains("is neither a folder, a zip, a .tar nor a .tar.gz"));
}

/// A zip of these entries, named as given (the zip crate writes any name it is given).
fn zip_entries(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("a file");
        writer.write_all(bytes).expect("write");
    }
    writer.finish().expect("the zip").into_inner()
}

fn zip_with(name: &str, bytes: &[u8]) -> Vec<u8> {
    zip_entries(&[(name, bytes)])
}

#[test]
fn paths_out_of_the_archive_are_refused() {
    for (name, expected) in [
        (
            "../../etc/cron.d/evil.rs",
            "climbs out of the archive with `..`",
        ),
        ("exercises/01-create/src/../../../x.rs", "climbs out"),
        ("/etc/passwd", "is an absolute path"),
        ("..\\..\\evil.rs", "climbs out of the archive with `..`"),
    ] {
        let (_keep, path) = submit(&zip_with(name, CREATE), "evil.zip");
        let error = error_of(&path);
        assert!(error.contains(expected), "{name}: {error}");
        // Named as Rust writes strings: a control character in a name cannot reach a terminal.
        assert!(
            error.contains(&format!("{name:?}")),
            "names the entry: {error}"
        );
    }
    // Backslashes between folders (old Windows tools) are folders too.
    let (_keep, path) = submit(
        &zip_with("exercises\\01-create\\src\\main.rs", CREATE),
        "windows.zip",
    );
    assert_eq!(
        sources_of(&read(&path).expect("read"), "01-create"),
        [("main.rs".to_string(), CREATE)]
    );
    // tar refuses to write `..`; a hand-made header does.
    let mut header = tar::Header::new_gnu();
    header.as_gnu_mut().expect("gnu").name[..13].copy_from_slice(b"../outside.rs");
    header.set_size(CREATE.len() as u64);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut tar = tar::Builder::new(Vec::new());
    tar.append(&header, CREATE).expect("append");
    let (_keep, path) = submit(&tar.into_inner().expect("tar"), "evil.tar");
    assert!(error_of(&path).contains("\"../outside.rs\" climbs out"));
}

#[test]
fn links_in_an_archive_are_refused() {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .add_symlink(
            "exercises/01-create/src/main.rs",
            "/etc/shadow",
            zip::write::SimpleFileOptions::default(),
        )
        .expect("a link");
    let (_keep, path) = submit(&writer.finish().expect("zip").into_inner(), "link.zip");
    let error = error_of(&path);
    assert!(
        error.contains("\"exercises/01-create/src/main.rs\" is a symbolic link"),
        "{error}"
    );
    for (kind, expected) in [
        (tar::EntryType::Symlink, "is a symbolic link"),
        (tar::EntryType::Link, "is a hard link"),
        (tar::EntryType::Char, "is not a file or a folder"),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(0);
        let mut tar = tar::Builder::new(Vec::new());
        tar.append_link(&mut header, "create.rs", "/etc/shadow")
            .expect("a link");
        let (_keep, path) = submit(&tar.into_inner().expect("tar"), "link.tar");
        let error = error_of(&path);
        assert!(error.contains(expected), "{kind:?}: {error}");
    }
}

#[test]
fn a_link_in_a_folder_is_refused_where_it_would_be_taken_only() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    checkout(dir.path());
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("notes")).expect("a link");
    assert!(read(dir.path()).is_ok(), "a link that is not a source");
    let source = dir.path().join("exercises/02-attach/src/secret.rs");
    std::os::unix::fs::symlink("/etc/shadow", &source).expect("a link");
    let error = error_of(dir.path());
    assert!(
        error.contains("exercises/02-attach/src/secret.rs is a symbolic link; refused"),
        "{error}"
    );
    std::fs::remove_file(&source).expect("remove the link");
    // A folder on the way to the sources, as a link, is refused too.
    let elsewhere = tempfile::tempdir().expect("a temporary folder");
    let src = dir.path().join("exercises/02-attach/src");
    std::fs::rename(&src, elsewhere.path().join("src")).expect("move");
    std::os::unix::fs::symlink(elsewhere.path().join("src"), &src).expect("a link");
    let error = error_of(dir.path());
    assert!(
        error.contains("exercises/02-attach/src is a symbolic link; refused"),
        "{error}"
    );
    std::fs::remove_file(&src).expect("remove the link");
    std::fs::rename(elsewhere.path().join("src"), &src).expect("move back");
    std::fs::hard_link(dir.path().join("exercises/01-create/src/main.rs"), &source)
        .expect("a hard link");
    let error = error_of(dir.path());
    assert!(error.contains("is a hard link"), "{error}");
}

#[test]
fn bombs_and_oversized_submissions_are_refused_with_the_limit() {
    let limits = Limits {
        archive_bytes: 64 << 10,
        unpacked_bytes: 1 << 20,
        entries: 20,
        source_bytes: 4 << 10,
        sources_bytes: 6 << 10,
    };
    let zeros = vec![0u8; 2 << 20];
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            zip_with("bomb.bin", &zeros),
            "bomb.zip",
            "unpacks to more than 1 MiB",
        ),
        (
            zip_with("create.rs", &zeros[..8 << 10]),
            "big.zip",
            "create.rs is over the 4 KiB limit for one source file",
        ),
        (vec![b'P'; 100 << 10], "huge.zip", "over the 64 KiB limit"),
        (
            {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                let mut tar = tar::Builder::new(&mut gz);
                let mut header = tar::Header::new_gnu();
                header.set_size(zeros.len() as u64);
                header.set_entry_type(tar::EntryType::Regular);
                header.set_cksum();
                tar.append_data(&mut header, "bomb.bin", &zeros[..])
                    .expect("append");
                tar.finish().expect("tar");
                drop(tar);
                gz.finish().expect("gzip")
            },
            "bomb.tar.gz",
            "unpacks to more than 1 MiB: refused as an archive bomb",
        ),
    ];
    for (bytes, name, expected) in cases {
        let (_keep, path) = submit(&bytes, name);
        let error = format!("{:#}", read_with(&path, limits).expect_err(name));
        assert!(error.contains(expected), "{name}: {error}");
        assert!(error.contains(name), "names the file: {error}");
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    for index in 0..30 {
        write(&dir.path().join(format!("note-{index}.md")), b"");
    }
    let error = format!("{:#}", read_with(dir.path(), limits).expect_err("too many"));
    assert!(
        error.contains("holds more than 20 files and folders"),
        "{error}"
    );
    let dir = tempfile::tempdir().expect("a temporary folder");
    write(&dir.path().join("create.rs"), &[b' '; 4 << 10]);
    write(&dir.path().join("attach.rs"), &[b' '; 4 << 10]);
    let error = format!("{:#}", read_with(dir.path(), limits).expect_err("too much"));
    assert!(error.contains("come to more than 6 KiB"), "{error}");
}
