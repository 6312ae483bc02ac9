//! The `cicd` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cicd::cli::Cli::parse();
    match cicd::run(&cli) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(err) => {
            // Error text quotes user input (paths, references): no line of it may open a
            // workflow command on the runner, which reads stderr too.
            eprint!(
                "{}",
                cicd::report::escape::plain_lines(&format!("error: {err}\n"))
            );
            ExitCode::from(err.exit() as u8)
        }
    }
}
