//! 03 parent-child: the child writes 37892 into key 24601, the parent waits, reads and removes.

use crate::checks::{Failure, Run, Test, Verdict, describe_bytes, ensure};

const KEY: i32 = 24601;
const VALUE: i32 = 37892;

fn expected_lines() -> Vec<String> {
    vec![format!("child: {VALUE}"), format!("parent: {VALUE}")]
}

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("the child's value reaches the parent", &[KEY])
            .held(KEY, 4, 0o644, &[0; 4])
            .run(&[])
            .race()
            .tidy_check(
                2,
                "exits with status 0",
                "check what it printed on stderr: every error path exits 1",
                |run| run.exited(0, 0),
            )
            .check(
                3,
                "prints the child's line, then the parent's",
                "the parent must waitpid for the child before it reads and prints",
                |run| run.printed(0, &expected_lines()),
            )
            .check(
                3,
                "the child wrote 37892 into the segment",
                "in the child: attach, write 37892i32.to_ne_bytes() at offset 0, detach",
                value_in_segment,
            )
            .check(
                2,
                "removes the segment",
                "the parent removes the segment with shmctl_rmid after reading it",
                |run| run.setup_segment_removed(0),
            )
            .tidy_check(
                2,
                "waits for its child",
                "call waitpid on the child's pid, and check that it exited with status 0",
                |run| run.children_waited_for(),
            )
            .tidy_check(
                1,
                "leaves no process running",
                "every process you fork must exit",
                |run| run.nothing_left_running(),
            ),
        Test::new("on its own, without a segment before", &[KEY])
            .run(&[])
            .check(
                1,
                "creates the segment itself and prints both lines",
                "shmget with IPC_CREAT (mode 0o644) before fork",
                |run| {
                    run.exited(0, 0)?;
                    run.printed(0, &expected_lines())
                },
            )
            .tidy_check(
                1,
                "leaves no segment behind",
                "remove the segment with shmctl_rmid once the parent has read it",
                |run| run.no_segment_left(),
            ),
    ]
}

fn value_in_segment(run: &Run) -> Verdict {
    let segment = run.setup_segment(0)?;
    let expected = VALUE.to_ne_bytes();
    let actual = segment.contents.get(..4).unwrap_or(&segment.contents);
    ensure(actual == expected, || {
        let shown = <[u8; 4]>::try_from(actual).map_or_else(
            |_| describe_bytes(actual),
            |bytes| i32::from_ne_bytes(bytes).to_string(),
        );
        Failure::new("the segment does not hold 37892")
            .expected(VALUE.to_string())
            .actual(shown)
    })
}
