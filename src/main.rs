//! The `cicd` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cicd::cli::Cli::parse();
    match cicd::run(&cli) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit() as u8)
        }
    }
}
