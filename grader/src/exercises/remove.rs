//! 06 remove: find a segment by key (default 9990), print its status, remove it.

use super::spec::remove::{KEY, MARKED, REMOVED, STATUS};
use super::spec::{fill, fill_key, value};
use crate::checks::{Failure, Test, describe_segments, ensure, unpredictable};

/// The other key of the "key as an argument" test.
const OTHER_KEY: i32 = 0x1234;

fn removed_line(id: i32) -> String {
    fill(REMOVED, &[("id", &id)])
}

fn marked_line(id: i32) -> String {
    fill(MARKED, &[("id", &id)])
}

/// The status line of segment `id` (key [`KEY`], 1024 bytes) with `nattch` attachments, its
/// creator's pid still to fill.
fn status_line(id: i32, nattch: u64) -> String {
    fill(
        &fill_key(STATUS, KEY),
        &[("id", &id), ("size", &1024), ("nattch", &nattch)],
    )
}

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("removes the segment made by create", &[KEY])
            // Not id 0: removing a guessed id fails.
            .burn_ids(1 + unpredictable(8))
            .setup(KEY, 1024, 0o666, &[])
            .run(&[])
            .check(
                2,
                "exits with status 0",
                "check what it printed on stderr",
                |run| run.exited(0, 0),
            )
            .tidy()
            .check(
                4,
                "prints the segment's status",
                "print `Segment ID <id> (key 0x2706): <size> bytes, created by PID <cpid>, attached <nattch> time(s)` from shmctl_stat",
                |run| {
                    let id = run.setup_id(0)?;
                    let lines = run.output_lines(0)?;
                    let first = lines.first().cloned().unwrap_or_default();
                    let status = status_line(id, 0);
                    let cpid = value(&status, &first, "pid").and_then(|pid| pid.parse::<i32>().ok());
                    ensure(cpid.is_some_and(|pid| pid > 0), || {
                        Failure::new("the first line is not the segment's status")
                            .expected(fill(&status, &[("pid", &"<cpid>")]))
                            .actual(first.clone())
                            .step(0)
                    })
                },
            )
            .check(
                2,
                "says it removed the segment",
                "after shmctl_rmid, print `Removed segment ID <id>.` when nattch was 0",
                |run| {
                    let id = run.setup_id(0)?;
                    let lines = run.output_lines(0)?;
                    ensure(lines.get(1) == Some(&removed_line(id)) && lines.len() == 2, || {
                        Failure::new("the output does not end with the removal line")
                            .expected(removed_line(id))
                            .actual(lines.join("\n"))
                            .step(0)
                    })
                },
            )
            .check(3, "the segment is gone", "call shmctl_rmid on the id shmget returned", |run| {
                ensure(run.segments().is_empty(), || {
                    Failure::new("the segment is still there").expected("no segment").actual(describe_segments(run.segments()))
                })
            }),
        Test::new("a segment still attached", &[KEY])
            .held(KEY, 1024, 0o666, &[])
            .run(&[])
            .check(
                2,
                "prints the real creator and one attachment",
                "print cpid and nattch from shmctl_stat",
                |run| {
                    let segment = run.setup_segment(0)?;
                    let id = segment.entry.shmid;
                    let line = fill(&status_line(id, 1), &[("pid", &segment.entry.cpid)]);
                    let lines = run.output_lines(0)?;
                    ensure(lines.first() == Some(&line), || {
                        Failure::new("the status line does not match the kernel's")
                            .expected(line.clone())
                            .actual(lines.first().cloned().unwrap_or_default())
                            .step(0)
                    })
                },
            )
            .check(
                2,
                "says the segment is only marked for destruction",
                "when nattch was above 0, print `Segment ID <id> is marked for destruction: ...`",
                |run| {
                    let id = run.setup_id(0)?;
                    let lines = run.output_lines(0)?;
                    ensure(lines.get(1) == Some(&marked_line(id)) && lines.len() == 2, || {
                        Failure::new("the second line does not say the segment is marked for destruction")
                            .expected(marked_line(id))
                            .actual(lines.join("\n"))
                            .step(0)
                    })
                },
            )
            .check(
                1,
                "the kernel marked it for destruction",
                "call shmctl_rmid even when the segment is attached",
                |run| run.setup_segment_removed(0),
            ),
        Test::new("no segment with the key", &[KEY])
            .run(&[])
            .check(
                2,
                "reports the missing segment",
                "on ENOENT print `error: shmget (key 0x2706): no segment has this key (ENOENT)` and exit 1",
                |run| {
                    run.exited(0, 1)?;
                    run.stderr_mentions(0, &["error: shmget (key 0x2706)", "ENOENT"])
                },
            ),
        Test::new("a key given in hexadecimal", &[KEY, OTHER_KEY])
            .setup(KEY, 1024, 0o666, &[])
            .setup(OTHER_KEY, 100, 0o600, &[])
            .run(&["0x1234"])
            .check(
                1,
                "removes the segment of the key given, and only it",
                "parse the first argument as decimal, or as hexadecimal after 0x (u32::from_str_radix(.., 16))",
                |run| {
                    run.exited(0, 0)?;
                    let lines = run.output_lines(0)?;
                    ensure(lines.first().is_some_and(|line| line.contains("(key 0x1234): 100 bytes")), || {
                        Failure::new("the status line is not about key 0x1234")
                            .actual(lines.join("\n"))
                            .step(0)
                    })?;
                    let left: Vec<i32> = run.segments().iter().map(|segment| segment.entry.key).collect();
                    ensure(left == [KEY], || {
                        Failure::new("the segments left are not just key 0x2706")
                            .expected(format!("only the segment with key {KEY:#x}"))
                            .actual(describe_segments(run.segments()))
                    })
                },
            ),
        Test::new("a key that is not a number, and too many arguments", &[KEY])
            .setup(KEY, 1024, 0o666, &[])
            .run(&["twelve"])
            .run(&["9990", "9990"])
            .check(
                1,
                "rejects a bad key or a second argument, removing nothing",
                "print `error: parsing the key \"<arg>\": not a decimal or 0x-hexadecimal number` and exit 2; more than one argument is a usage error (exit 2)",
                |run| {
                    run.exited(0, 2)?;
                    run.stderr_mentions(0, &["parsing the key \"twelve\""])?;
                    run.exited(1, 2)?;
                    let stderr = run.error_text(1)?;
                    ensure(stderr.to_lowercase().contains("usage"), || {
                        Failure::new("no usage message for two arguments").expected("a line with \"usage\"").actual(stderr.clone()).step(1)
                    })?;
                    ensure(run.segments().len() == 1, || {
                        Failure::new("a segment was removed anyway").actual(describe_segments(run.segments()))
                    })
                },
            ),
    ]
}
