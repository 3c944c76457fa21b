//! 01 create: `shmget(9990, 1024, IPC_CREAT, 0o666)`, print the id; `--exclusive` adds IPC_EXCL.

use super::spec::create::{CREATED, KEY, SIZE};
use super::spec::{self, fill};
use crate::checks::{
    Failure, Run, Test, Verdict, describe_bytes, describe_segments, ensure, unpredictable,
};

/// What the grader writes into its own segment with key 9990, to see that `--exclusive` keeps it.
const GRADERS_DATA: &[u8] = b"the grader's own data\0";

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("a first run creates the segment, a second run finds it", &[KEY])
            // A fresh namespace hands out id 0 first: use up a few ids, so that only the id
            // shmget returned is right.
            .burn_ids(1 + unpredictable(8))
            .run(&[])
            .run(&[])
            .check(
                1,
                "exits with status 0",
                "return Ok from main: an error path was taken, or it crashed",
                |run| {
                    run.all_exited(0)
                },
            )
            .tidy()
            .check(
                1,
                "prints the id of the segment it created",
                "print exactly `Shared memory segment created with ID: <id>` with the id shmget returned",
                printed_real_id,
            )
            .check(
                1,
                "the segment has key 0x2706 and 1024 bytes",
                "call shmget(9990, 1024, ...)",
                |run| {
                    let segment = run.segment_with_key(KEY)?;
                    ensure(segment.entry.size == SIZE as u64, || {
                        Failure::new(format!("the segment has {} bytes; expected {SIZE}", segment.entry.size))
                            .expected(format!("{SIZE} bytes"))
                            .actual(format!("{} bytes", segment.entry.size))
                    })
                },
            )
            .check(
                1,
                "the segment has mode 0666",
                "give shmget the permission bits 0666 (sysv's `Mode`): without mode bits the segment gets mode 000",
                |run| {
                    let segment = run.segment_with_key(KEY)?;
                    let mode = segment.entry.permissions();
                    ensure(mode == 0o666, || {
                        Failure::new(format!("the segment has mode {mode:04o}; expected 0666"))
                            .expected("mode 0666")
                            .actual(format!("mode {mode:04o}"))
                    })
                },
            )
            .check(
                1,
                "the program created it and left it unattached",
                "create the segment in the program itself; if you attach it, detach it before exiting",
                |run| {
                    let segment = run.segment_with_key(KEY)?;
                    let pid = run.step(0)?.pid;
                    ensure(segment.entry.cpid == pid, || {
                        Failure::new(format!("the segment's creator (cpid) is {}, not the program ({pid})", segment.entry.cpid))
                    })?;
                    ensure(segment.entry.nattch == 0, || {
                        Failure::new(format!("{} attachment(s) remain after the program exited", segment.entry.nattch))
                    })
                },
            )
            .check(
                1,
                "a second run finds the same segment",
                "without IPC_EXCL, shmget with IPC_CREAT returns the existing segment's id",
                |run| {
                    // The same line as the first run (whether that id is right is the check
                    // above's business), and still one segment.
                    let first = run.output_lines(0)?;
                    let first = first.first().filter(|line| spec::value(CREATED, line, "id").is_some()).cloned().ok_or_else(|| {
                        Failure::new("the first run printed no id to compare with").step(0)
                    })?;
                    run.printed(1, &[first])?;
                    ensure(run.segments().len() == 1, || {
                        Failure::new(format!("{} segments after two runs; expected one", run.segments().len()))
                            .actual(describe_segments(run.segments()))
                    })
                },
            ),
        Test::new("--exclusive creates the segment when there is none", &[KEY])
            .run(&["--exclusive"])
            .check(
                1,
                "--exclusive creates a fresh segment",
                "with --exclusive, pass ShmgetFlag::IPC_CREAT | ShmgetFlag::IPC_EXCL",
                |run| {
                    run.exited(0, 0)?;
                    let segment = run.segment_with_key(KEY)?;
                    run.printed(0, &[fill(CREATED, &[("id", &segment.entry.shmid)])])
                },
            ),
        Test::new("--exclusive refuses an existing segment", &[KEY])
            .setup(KEY, SIZE, 0o666, GRADERS_DATA)
            .run(&["--exclusive"])
            .check(
                1,
                "--exclusive fails with \"already exists\"",
                "with --exclusive, shmget fails with EEXIST when the key is taken: print `error: shmget (key 0x2706): a segment with this key already exists (EEXIST); remove it first (cargo run -p remove) or leave out --exclusive`; exit 1",
                |run| {
                    run.exited(0, 1)?;
                    run.stderr_mentions(0, &["0x2706", "already exists"])
                },
            )
            .check(
                1,
                "--exclusive leaves the existing segment untouched",
                "on EEXIST do nothing to the segment: it is not yours to remove",
                exclusive_left_segment_alone,
            )
            .tidy(),
        Test::new("an unknown argument", &[KEY])
            .run(&["--bogus"])
            .check(
                1,
                "an unknown argument is a usage error",
                "print a usage message on stderr and exit with status 2, before creating anything",
                |run| {
                    run.exited(0, 2)?;
                    let stderr = run.error_text(0)?;
                    ensure(stderr.to_lowercase().contains("usage"), || {
                        Failure::new("no usage message on stderr").expected("a line with \"usage\"").actual(stderr.clone()).step(0)
                    })?;
                    run.no_segment_left()
                },
            ),
    ]
}

fn printed_real_id(run: &Run) -> Verdict {
    let id = run.segment_with_key(KEY)?.entry.shmid;
    let printed_id = || run.printed_number(0, spec::prefix(CREATED));
    run.printed(0, &[fill(CREATED, &[("id", &id)])])
        .map_err(|failure| match printed_id() {
            Ok(printed) if printed != i64::from(id) && !run.observation.burnt_ids.is_empty() => {
                Failure {
                    message: format!(
                        "the program printed id {printed}, but shmget returned {id}: print the \
                         id shmget returns (the grader used up {} ids first, so a fixed number \
                         is wrong)",
                        run.observation.burnt_ids.len()
                    ),
                    ..failure
                }
            }
            _ => failure,
        })
}

fn exclusive_left_segment_alone(run: &Run) -> Verdict {
    let segment = run.setup_segment(0)?;
    ensure(
        segment.entry.key == KEY && !segment.entry.marked_for_destruction(),
        || {
            Failure::new("the existing segment was removed")
                .actual(describe_segments(run.segments()))
        },
    )?;
    let start = segment
        .contents
        .get(..GRADERS_DATA.len())
        .unwrap_or(&segment.contents);
    ensure(start == GRADERS_DATA, || {
        Failure::new("the existing segment's contents changed")
            .expected(describe_bytes(GRADERS_DATA))
            .actual(describe_bytes(start))
    })?;
    ensure(run.segments().len() == 1, || {
        Failure::new("a second segment appeared").actual(describe_segments(run.segments()))
    })
}
