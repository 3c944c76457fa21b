//! `cargo grade merge DIR…`: the output folders of shards joined into one.
//!
//! Each shard's records and student reports are copied into the output folder, then the
//! gradebook and the class report are made from all the records, exactly as `batch` makes
//! them, so merged shards give the files one unsharded run gives. A student found in two
//! folders with different records is refused (two shards graded one student differently:
//! the shards were not of one class, or not of one grader).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::record::Record;
use super::{RECORDS, STUDENTS, read_records, write_gradebook};

/// Joins the output folders `shards` into `out`; returns the merged records, sorted.
pub fn merge(shards: &[PathBuf], out: &Path) -> Result<(Vec<Record>, (PathBuf, PathBuf))> {
    let mut merged: BTreeMap<String, (Record, &Path)> = BTreeMap::new();
    for shard in shards {
        if !shard.join(RECORDS).is_dir() {
            bail!(
                "{} is not the output of `cargo grade batch` (it has no {RECORDS}/ folder)",
                shard.display()
            );
        }
        for record in read_records(shard)? {
            if let Some((earlier, from)) = merged.get(&record.student) {
                if *earlier != record {
                    bail!(
                        "{} was graded differently in {} and in {}; grade the class again with one grader",
                        record.student,
                        from.display(),
                        shard.display()
                    );
                }
                continue;
            }
            merged.insert(record.student.clone(), (record, shard));
        }
    }
    for folder in [STUDENTS, RECORDS] {
        let path = out.join(folder);
        std::fs::create_dir_all(&path)
            .with_context(|| format!("Failed to create the output folder {}", path.display()))?;
    }
    for (student, (record, shard)) in &merged {
        let report = shard.join(STUDENTS).join(format!("{student}.json"));
        let target = out.join(STUDENTS).join(format!("{student}.json"));
        if report.is_file() && !same_file(&report, &target) {
            std::fs::copy(&report, &target).with_context(|| {
                format!(
                    "Failed to copy {} to {}",
                    report.display(),
                    target.display()
                )
            })?;
        }
        record.write(&out.join(RECORDS).join(format!("{student}.json")))?;
    }
    let records: Vec<Record> = merged.into_values().map(|(record, _)| record).collect();
    let written = write_gradebook(out, &records)?;
    Ok((records, written))
}

/// Merging into one of the shards' own folders must not copy a file onto itself.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
