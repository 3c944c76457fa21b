//! The orderings of the ring's atomic accesses, read from its compiled code (LLVM IR).
//!
//! On x86-64 a ring whose counters are all `Relaxed` delivers every message: the processor
//! keeps stores in order whatever the program asked. Running it proves nothing, and the
//! machine code does not say either (a Release store and a Relaxed one are the same `mov`).
//! The IR does: every atomic instruction carries its ordering, after the compiler resolved
//! the names (`use Ordering::Relaxed as Release` is still `monotonic`), the helper functions
//! and the constants. [`crate::build::compiled`] puts it beside the executable.
//!
//! What the check asks is the lesson's minimum: at least one publishing access (a store,
//! read-modify-write or fence with Release or stronger) and at least one waiting one (a load,
//! read-modify-write or fence with Acquire or stronger). A `compiler_fence` orders nothing
//! between processes and does not count. What it cannot see: *which* counter each access is
//! for. A program that publishes one counter with Release and the other with Relaxed passes
//! this check; the chapter says so.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

/// LLVM's names of the orderings (`Relaxed` is `monotonic`).
const ORDERINGS: [&str; 6] = [
    "unordered",
    "monotonic",
    "acquire",
    "release",
    "acq_rel",
    "seq_cst",
];

/// The atomic accesses of one program, by what they do for ordering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Orderings {
    /// Stores, read-modify-writes and fences that publish (Release, AcqRel, SeqCst).
    pub releasing: usize,
    /// Loads, read-modify-writes and fences that wait (Acquire, AcqRel, SeqCst).
    pub acquiring: usize,
    /// Atomic accesses with no ordering (Relaxed or Unordered).
    pub relaxed: usize,
}

impl Orderings {
    /// Reads the IR at `path`. The check asks once per run of the program, for the same file:
    /// the last file read is remembered, by path, size and time of modification (the student
    /// loop rebuilds it in place).
    pub fn of_file(path: &Path) -> std::io::Result<Orderings> {
        type Key = (std::path::PathBuf, u64, Option<std::time::SystemTime>);
        static LAST: Mutex<Option<(Key, Orderings)>> = Mutex::new(None);
        let metadata = std::fs::metadata(path)?;
        let key = (path.to_path_buf(), metadata.len(), metadata.modified().ok());
        let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((known, orderings)) = last.as_ref()
            && *known == key
        {
            return Ok(*orderings);
        }
        let orderings = Orderings::of_ir(&std::fs::read_to_string(path)?);
        *last = Some((key, orderings));
        Ok(orderings)
    }

    /// Counts the atomic instructions of LLVM IR text.
    pub fn of_ir(ir: &str) -> Orderings {
        let mut found = Orderings::default();
        for line in ir.lines() {
            // Most of the text is metadata (`!12 = ...`), comments and declarations; only
            // instructions are indented.
            if !line.starts_with("  ") {
                continue;
            }
            // A fence or access scoped to one thread (`compiler_fence`) orders nothing
            // between processes.
            if line.contains("syncscope(\"singlethread\")") {
                continue;
            }
            let mut words = line.split_whitespace().peekable();
            // `%x = load atomic ...`: skip the result's name.
            if words.peek().is_some_and(|word| word.starts_with('%')) {
                words.next();
                if words.next() != Some("=") {
                    continue;
                }
            }
            let (Some(instruction), Some(next)) = (words.next(), words.next()) else {
                continue;
            };
            let kind = match (instruction, next) {
                ("store", "atomic") => Kind::Store,
                ("load", "atomic") => Kind::Load,
                ("atomicrmw" | "cmpxchg", _) => Kind::ReadModifyWrite,
                ("fence", _) => Kind::Fence,
                _ => continue,
            };
            // The first ordering on the line is the access's (a cmpxchg's success ordering).
            let ordering = std::iter::once(next)
                .chain(words)
                .map(|word| word.trim_end_matches(','))
                .find(|word| ORDERINGS.contains(word));
            let Some(ordering) = ordering else {
                continue;
            };
            let releases = matches!(ordering, "release" | "acq_rel" | "seq_cst");
            let acquires = matches!(ordering, "acquire" | "acq_rel" | "seq_cst");
            let counted = match kind {
                Kind::Store => (releases, false),
                Kind::Load => (false, acquires),
                Kind::ReadModifyWrite | Kind::Fence => (releases, acquires),
            };
            match counted {
                (false, false) => found.relaxed += 1,
                (releasing, acquiring) => {
                    found.releasing += usize::from(releasing);
                    found.acquiring += usize::from(acquiring);
                }
            }
        }
        found
    }
}

enum Kind {
    Store,
    Load,
    ReadModifyWrite,
    Fence,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_stores_and_acquire_loads_are_told_from_relaxed_ones() {
        let ir = "
  %19 = load atomic i32, ptr %written.i acquire, align 4, !dbg !797
  store atomic i32 %39, ptr %read.i release, align 4, !dbg !902
  store atomic i32 %40, ptr %slot monotonic, align 4
  %5 = load atomic i32, ptr %p monotonic, align 4
  %6 = load atomic i32, ptr %p seq_cst, align 4
";
        assert_eq!(
            Orderings::of_ir(ir),
            Orderings {
                releasing: 1,
                acquiring: 2,
                relaxed: 2
            }
        );
    }

    #[test]
    fn a_store_is_never_acquiring_and_a_load_never_releasing() {
        let ir = "
  store atomic i32 1, ptr %p acquire, align 4
  %1 = load atomic i32, ptr %p release, align 4
";
        assert_eq!(Orderings::of_ir(ir).releasing, 0);
        assert_eq!(Orderings::of_ir(ir).acquiring, 0);
    }

    #[test]
    fn fences_and_read_modify_writes_count_for_what_they_order() {
        let ir = r#"
  fence release
  fence acquire
  fence syncscope("singlethread") seq_cst
  %2 = atomicrmw add ptr %p, i32 1 acq_rel, align 4
  %3 = cmpxchg ptr %p, i32 0, i32 1 monotonic monotonic, align 4
  %4 = cmpxchg ptr %p, i32 0, i32 1 acquire monotonic, align 4
"#;
        assert_eq!(
            Orderings::of_ir(ir),
            Orderings {
                releasing: 2,
                acquiring: 3,
                relaxed: 1
            }
        );
    }

    #[test]
    fn other_lines_are_not_accesses() {
        let ir = "
; call core::sync::atomic::AtomicU32::store
declare void @release(ptr)
  %x = call i32 @acquire(ptr %p)
  store i32 %v, ptr %release, align 4
!7 = !{!\"seq_cst\"}
";
        assert_eq!(Orderings::of_ir(ir), Orderings::default());
    }
}
