//! The compiled code of the programs whose checks read it: LLVM IR, beside the executable.
//!
//! Some mistakes never show at run time on the grading machine. A ring buffer whose counters
//! are all `Ordering::Relaxed` delivers every message on x86-64, whose processor keeps stores
//! in order whatever the program asked for; the same program loses messages on ARM. The
//! machine code cannot tell them apart either (on x86-64 a Release store is the same `mov` as
//! a Relaxed one). The compiler's intermediate code can: LLVM IR keeps each atomic access's
//! ordering (`store atomic i32 %n, ptr %p release`), after every name, alias, helper function
//! and constant of the source has been resolved. So the exercises listed in [`INSPECTED`] are
//! built by `cargo rustc -- --emit=link,llvm-ir` ([`build_args`]) rather than with the others:
//! one compile writes both the executable and its IR, which is then linked to [`ir_path`] of
//! the executable, where the checks read it (`crate::exercises::ring`). Compiled apart, the
//! ring's build went from about 1.7 s to 1.0 s for a submission on the quiet 2-core machine:
//! the IR used to cost a second optimised compile of the package.
//!
//! The IR is optimised (the dev profile sets `opt-level = 3` for these packages), so it holds
//! the atomic instructions themselves, with their orderings folded in, rather than calls into
//! the standard library's generic code, which holds every ordering. A package that cargo
//! built some other way (the one-by-one fallback of [`super::build`]) gets its IR from a
//! second compile, [`emit_for`], which runs only when the IR beside the executable is older
//! than the executable (`ir_is_current`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{BuildRequest, Built, Message};

/// Exercises whose checks read the compiled code, by name.
pub const INSPECTED: &[&str] = &["ring"];

/// Where the IR of `program` is: the executable's path with `.ll` added.
pub fn ir_path(program: &Path) -> PathBuf {
    let mut path = program.as_os_str().to_owned();
    path.push(".ll");
    PathBuf::from(path)
}

/// True for the package of an inspected exercise (`ring`) or of its solution (`ring-solution`).
pub fn inspected(package: &str) -> bool {
    let exercise = package.strip_suffix("-solution").unwrap_or(package);
    INSPECTED.contains(&exercise)
}

/// For every inspected package that built, compiles it to LLVM IR too and puts the IR at
/// [`ir_path`] of its executable.
pub fn emit_for(
    request: &BuildRequest,
    built: &std::collections::BTreeMap<String, Built>,
) -> Result<()> {
    for (package, outcome) in built {
        if let Built::Binary(executable) = outcome
            && inspected(package)
            && !ir_is_current(executable)
        {
            emit(request, package, package, executable)?;
        }
    }
    Ok(())
}

/// True when the IR beside `executable` was compiled after it. Cargo has just built the
/// executable, so it is of the sources as they are; it compiles a package again whenever a
/// source changed after its last compile. So an IR compiled later than the executable was
/// compiled from the same sources, and a change since would have made the executable newer.
fn ir_is_current(executable: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|metadata| metadata.modified());
    match (modified(&ir_path(executable)), modified(executable)) {
        (Ok(ir), Ok(program)) => ir >= program,
        _ => false,
    }
}

/// The cargo arguments that build `package` (whose binary has its name) and write its LLVM IR
/// in the same compile: `cargo rustc` passes the `--emit` to that package's compile only.
pub fn build_args(package: &str) -> Vec<String> {
    [
        "rustc",
        "--message-format=json",
        "--package",
        package,
        "--bin",
        package,
        "--",
        "--emit=link,llvm-ir",
    ]
    .map(String::from)
    .to_vec()
}

/// After a build by [`build_args`]: links the IR rustc wrote to [`ir_path`] of `executable`,
/// marked as made now (rustc wrote it before it linked the executable, and an IR older than
/// its executable is taken for a stale one).
pub fn adopt_ir(executable: &Path) -> Result<PathBuf> {
    let destination = link_beside(&ir_of(executable)?, executable)?;
    std::fs::File::options()
        .write(true)
        .open(&destination)
        .and_then(|file| file.set_modified(std::time::SystemTime::now()))
        .with_context(|| format!("Failed to mark {} as current", destination.display()))?;
    Ok(destination)
}

/// Compiles binary `bin` of `package` to LLVM IR and links the IR to [`ir_path`] of
/// `executable` (where the caller will run the program from; the IR build's own executable
/// is the same program). Returns that path.
pub fn emit(
    request: &BuildRequest,
    package: &str,
    bin: &str,
    executable: &Path,
) -> Result<PathBuf> {
    let args = [
        "rustc",
        "--message-format=json",
        "--package",
        package,
        "--bin",
        bin,
        "--",
        "--emit=llvm-ir",
        "-C",
        "opt-level=3",
    ]
    .map(String::from)
    .to_vec();
    let output = super::cargo_output(request, args)?;
    let failed = || {
        format!(
            "Failed to compile {package} to LLVM IR for the checks that read it (`cargo rustc -- \
             --emit=llvm-ir`):\n{}",
            String::from_utf8_lossy(&output.stderr).trim_end()
        )
    };
    if !output.status.success() {
        bail!(failed());
    }
    // rustc writes the IR beside its own copy of the executable, `deps/<crate>-<hash>`, which
    // cargo hard-links to the executable's usual path: the IR is `deps/<crate>-<hash>.ll`.
    let built = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .filter(|message| message.reason == "compiler-artifact")
        .find_map(|message| message.executable)
        .with_context(failed)?;
    let built = match &request.jail {
        Some(jailed) => jailed.outside(&built),
        None => built,
    };
    let ir = ir_of(&built).with_context(failed)?;
    link_beside(&ir, executable)
}

/// Links (or copies) `ir` to [`ir_path`] of `executable`, replacing what was there.
fn link_beside(ir: &Path, executable: &Path) -> Result<PathBuf> {
    let destination = ir_path(executable);
    match std::fs::remove_file(&destination) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error)
                .with_context(|| format!("Failed to remove the old {}", destination.display()));
        }
    }
    std::fs::hard_link(ir, &destination)
        .or_else(|_| std::fs::copy(ir, &destination).map(|_| ()))
        .with_context(|| {
            format!(
                "Failed to link {} to {}",
                ir.display(),
                destination.display()
            )
        })?;
    Ok(destination)
}

/// The `.ll` rustc wrote for the executable at `executable`: in `deps/`, beside the file that
/// is the same inode as the executable.
fn ir_of(executable: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(executable)
        .with_context(|| format!("Failed to read {}", executable.display()))?
        .ino();
    let deps = executable
        .parent()
        .context("an executable in a folder")?
        .join("deps");
    // `ring-solution` is the crate `ring_solution`, and its files `ring_solution-<hash>`.
    let prefix = executable
        .file_name()
        .context("an executable with a name")?
        .to_string_lossy()
        .replace('-', "_")
        + "-";
    let entries =
        std::fs::read_dir(&deps).with_context(|| format!("Failed to list {}", deps.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("Failed to list {}", deps.display()))?
            .path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let is_it = name.starts_with(&prefix)
            && path.extension().is_none()
            && std::fs::metadata(&path).is_ok_and(|metadata| metadata.ino() == inode);
        if is_it {
            let ir = ir_path(&path);
            if ir.is_file() {
                return Ok(ir);
            }
            bail!("rustc wrote no {}", ir.display());
        }
    }
    bail!(
        "no file in {} is the executable {}",
        deps.display(),
        executable.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ir_sits_beside_the_executable() {
        assert_eq!(
            ir_path(Path::new("/t/debug/ring")),
            Path::new("/t/debug/ring.ll")
        );
        assert_eq!(
            ir_path(Path::new("/t/debug/ring-solution")),
            Path::new("/t/debug/ring-solution.ll")
        );
    }

    #[test]
    fn only_the_ring_and_its_solution_are_inspected() {
        assert!(inspected("ring"));
        assert!(inspected("ring-solution"));
        assert!(!inspected("guard"));
        assert!(!inspected("ring-buffer"));
    }
}
