//! `cargo grade`: see the library's docs (`grader::app`) for what each command does.
//!
//! Grading needs Linux (namespaces, `/proc/sysvipc/shm`). On another system the library is
//! empty and this prints how to get a Linux to grade in, instead of failing to compile.

use std::process::ExitCode;

#[cfg(not(target_os = "linux"))]
fn main() -> ExitCode {
    eprintln!(
        "cargo grade needs Linux: it runs your programs in Linux namespaces and reads the \
         kernel's /proc/sysvipc/shm, which {} does not have.\n\
         \n\
         Ways to get a Linux to work in, all with this checkout:\n\
         - a dev container: open the folder in VS Code with the Dev Containers extension and \
         choose \"Reopen in Container\", or open the repository in GitHub Codespaces \
         (.devcontainer/devcontainer.json sets it up);\n\
         - on Windows, WSL 2 (`wsl --install`), then clone and run cargo grade inside it;\n\
         - any Linux virtual machine (on macOS e.g. OrbStack, Lima or UTM).\n\
         Then run `cargo grade` there.",
        std::env::consts::OS
    );
    ExitCode::from(2)
}

#[cfg(target_os = "linux")]
fn main() -> ExitCode {
    use clap::Parser;

    // The sandbox re-runs this executable as `grader __sandbox`; it must start single-threaded,
    // before clap or anything else, to be able to unshare its namespaces.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == "__sandbox")
    {
        return grader::sandbox::serve();
    }
    // The same for the build jail (`grader::build::jail`), which builds submissions.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == grader::build::jail::SUBCOMMAND)
    {
        return grader::build::jail::serve();
    }
    // The benchmark's made-up class (hidden: not for users).
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == grader::batch::sample::SUBCOMMAND)
    {
        return grader::batch::sample::serve();
    }
    let cli = grader::cli::Cli::parse();
    match grader::app::run(&cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(grader::report::EXIT_GRADER_ERROR)
        }
    }
}
