//! `cicd init`: flags → pins (offline or resolved) → plan → print (`--dry-run`) or write.

use std::io::Write;
use std::path::PathBuf;

use crate::cli::{Cli, InitArgs};
use crate::error::{Error, Exit};
use crate::init::{self, ActionArg, InitError, Plan};

pub fn run(cli: &Cli, args: &InitArgs) -> Result<Exit, Error> {
    let action: ActionArg = args
        .action
        .as_deref()
        .ok_or_else(|| {
            Error::Usage(
                "cicd init needs --action OWNER/NAME[@SHA] (or CICD_ACTION): the repository of the cicd action the workflows use"
                    .into(),
            )
        })?
        .parse()
        .map_err(|e: String| Error::Usage(format!("--action {e}")))?;
    let pins = if cli.offline || args.offline {
        init::pins::offline(&action)
    } else {
        init::pins::online(&action, &args.server_url)
    }
    .map_err(to_error)?;
    let plan = init::plan(&args.dir, &pins).map_err(to_error)?;
    let mut out = Vec::new();
    if args.dry_run {
        for file in &plan.files {
            let _ = writeln!(out, "# --- {} ---", file.path.display());
            out.extend_from_slice(file.contents.as_bytes());
        }
    } else {
        init::write(&args.dir, &plan, args.force).map_err(to_error)?;
        summary(&plan, &mut out);
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(|source| Error::Write {
            path: PathBuf::from("<stdout>"),
            source,
        })?;
    notes(&plan);
    Ok(Exit::Ok)
}

fn summary(plan: &Plan, out: &mut Vec<u8>) {
    for file in &plan.files {
        let _ = writeln!(out, "wrote {}", file.path.display());
    }
}

/// What was found, on stderr (so `--dry-run` output stays the files alone).
fn notes(plan: &Plan) {
    let text = if plan.images.is_empty() {
        let compose = if plan.compose.is_empty() {
            String::new()
        } else {
            format!(
                " ({} names images to run, not to build)",
                plan.compose.join(", ")
            )
        };
        format!(
            "note: no Dockerfile found{compose}: release.yml and promote.yml not written; add images to cicd.yaml and run `cicd init --force`\n"
        )
    } else {
        let names: Vec<_> = plan
            .images
            .iter()
            .map(|i| format!("{} ({}/{})", i.name, i.context, i.file))
            .collect();
        format!("images: {}\n", names.join(", "))
    };
    eprint!("{}", crate::report::escape::plain_lines(&text));
}

fn to_error(e: InitError) -> Error {
    match e {
        InitError::Write { path, source } => Error::Write { path, source },
        InitError::Resolve(_) | InitError::Template(_) => Error::Runtime(e.to_string()),
        InitError::Exists(_) | InitError::Escape(_) | InitError::Usage(_) => {
            Error::Usage(e.to_string())
        }
    }
}
