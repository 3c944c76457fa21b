//! `cargo grade`: see the library's docs (`grader::app`) for what each command does.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
    let cli = grader::cli::Cli::parse();
    match grader::app::run(&cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(grader::app::EXIT_GRADER_ERROR)
        }
    }
}
