//! `cicd completions bash|zsh|fish` and `cicd man`: shell completions and roff man pages
//! generated from the clap definitions (clap_complete, clap_mangen), so they never drift from
//! the flags the binary accepts.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, CompletionsArgs, ManArgs, Shell};
use crate::error::{Error, Exit};

pub fn run_completions(args: &CompletionsArgs) -> Result<Exit, Error> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut command, "cicd", &mut out);
    stdout(&out)
}

pub fn run_man(args: &ManArgs) -> Result<Exit, Error> {
    let command = Cli::command();
    match &args.out_dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut out)
                .map_err(|source| write_error(Path::new("<stdout>"), source))?;
            stdout(&out)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| write_error(dir, source))?;
            write_pages(command, dir, "cicd")?;
            Ok(Exit::Ok)
        }
    }
}

/// `NAME.1` for `command` and each visible subcommand, recursively (`cicd-check-trivy.1`).
fn write_pages(command: clap::Command, dir: &Path, name: &str) -> Result<(), Error> {
    let command = command
        .display_name(name.to_owned())
        .bin_name(name.replace('-', " "));
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .map_err(|source| write_error(&path, source))?;
    super::write_atomically(&path, &page)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let sub_name = format!("{name}-{}", sub.get_name());
        write_pages(sub.clone(), dir, &sub_name)?;
    }
    Ok(())
}

fn stdout(bytes: &[u8]) -> Result<Exit, Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|source| write_error(Path::new("<stdout>"), source))?;
    Ok(Exit::Ok)
}

fn write_error(path: &Path, source: std::io::Error) -> Error {
    Error::Write {
        path: PathBuf::from(path),
        source,
    }
}
