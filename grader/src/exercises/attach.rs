//! 02 attach: find key 9990 without creating it, write the sentence and a NUL, read it back.

use super::spec::attach::{ATTACHED, KEY, READ_BACK, SENTENCE};
use super::spec::fill;
use crate::checks::{
    Failure, Run, Test, Verdict, describe_bytes, describe_segments, ensure, unpredictable,
};
use crate::scenario::SyscallKind;

/// The grader fills its segment with this byte first, so a missing NUL terminator shows.
const FILLER: u8 = b'#';

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("with the segment made by create", &[KEY])
            // Ids used up first, so that the grader's segment is not id 0 and only the id
            // shmget returned is right.
            .burn_ids(1 + unpredictable(8))
            .setup(KEY, 1024, 0o666, &[FILLER; 64])
            .run(&[])
            .check(
                1,
                "exits with status 0",
                "return Ok from main; check which error it printed",
                |run| run.exited(0, 0),
            )
            .tidy()
            .check(
                3,
                "prints the id and the sentence read back",
                "print `Attached shared memory segment ID: <id>` then `Read back: <text read from the segment>`",
                |run| {
                    let id = run.setup_id(0)?;
                    run.printed(0, &[fill(ATTACHED, &[("id", &id)]), fill(READ_BACK, &[("sentence", &SENTENCE)])])
                },
            )
            .check(
                3,
                "the segment holds the sentence and its NUL",
                "write the sentence's bytes at offset 0 and a 0 byte after them (`Attachment::write`)",
                sentence_in_segment,
            )
            .check(
                2,
                "attaches and detaches the segment",
                "attach with shmat, then give the attachment back with shmdt (the address shmat returned) before exiting",
                |run| {
                    run.detached_before_exit(0)?;
                    let segment = run.setup_segment(0)?;
                    let pid = run.step(0)?.pid;
                    ensure(segment.entry.lpid == pid, || {
                        Failure::new(format!("the last process to attach or detach (lpid) is {}, not the program ({pid})", segment.entry.lpid))
                            .expected(format!("lpid {pid}"))
                            .actual(format!("lpid {}", segment.entry.lpid))
                    })?;
                    ensure(segment.entry.nattch == 0, || {
                        Failure::new(format!("{} attachment(s) left after the program exited", segment.entry.nattch))
                    })
                },
            )
            .check(
                1,
                "leaves the segment in place",
                "do not remove the segment: remove is a later exercise; and never create one here",
                |run| {
                    let segment = run.setup_segment(0)?;
                    ensure(!segment.entry.marked_for_destruction() && run.segments().len() == 1, || {
                        Failure::new("the segments after the run are not just the one it was given")
                            .expected(format!("the segment with key {KEY:#x}, not removed"))
                            .actual(describe_segments(run.segments()))
                    })
                },
            )
            .tidy(),
        Test::new("without a segment", &[KEY])
            .run(&[])
            .check(
                1,
                "reports the missing segment",
                "use shmget without IPC_CREAT; on ENOENT say that the key 0x2706 has no segment and to run create first; exit 1",
                |run| {
                    run.exited(0, 1)?;
                    run.stderr_mentions(0, &["0x2706", "create"])
                },
            )
            .check(
                1,
                "creates no segment",
                "never pass IPC_CREAT here: the segment is create's job",
                |run| run.no_segment_left(),
            )
            .tidy(),
        Test::new("a segment too small for the sentence", &[KEY])
            .setup(KEY, 16, 0o666, &[FILLER; 16])
            .run(&[])
            .check(
                1,
                "reports a segment too small for the sentence",
                "compare the attachment's length (`Attachment::len`) with the sentence's length (NUL included) before writing; if it does not fit, say so (key 0x2706) and exit 1",
                |run| {
                    run.exited(0, 1)?;
                    run.stderr_mentions(0, &["0x2706"])
                },
            )
            .check(
                1,
                "detaches on that path too",
                "on the too-small path, shmdt the attachment before returning the error",
                |run| run.detached_before_exit(0),
            )
            .tidy(),
        Test::new("the kernel refuses shmat", &[KEY])
            .setup(KEY, 1024, 0o666, &[FILLER; 64])
            .run(&[])
            .inject(SyscallKind::Shmat, libc::EACCES, None)
            .check(
                1,
                "reports a refused shmat and exits 1",
                "check shmat's result: print `error: shmat (key 0x2706): <reason> (<ERRNO>)` and exit 1",
                |run| run.refusal_reported(0, "shmat", "0x2706"),
            ),
    ]
}

fn sentence_in_segment(run: &Run) -> Verdict {
    let segment = run.setup_segment(0)?;
    let mut expected = SENTENCE.as_bytes().to_vec();
    expected.push(0);
    let actual = segment
        .contents
        .get(..expected.len())
        .unwrap_or(&segment.contents);
    ensure(actual == expected.as_slice(), || {
        let message = if actual.starts_with(SENTENCE.as_bytes()) {
            "the sentence is in the segment but no NUL byte ends it"
        } else {
            "the segment does not hold the sentence"
        };
        Failure::new(message)
            .expected(describe_bytes(&expected))
            .actual(describe_bytes(actual))
    })
}
