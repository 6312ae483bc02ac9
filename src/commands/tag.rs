//! `cicd tag`: the next version's annotated tag at HEAD with its changelog, optionally pushed;
//! in Actions, the warning about tags pushed with `GITHUB_TOKEN`.

use serde::Serialize;

use super::version::{note, nothing_text, open, output};
use crate::cli::Cli;
use crate::cli::version::TagArgs;
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::release::changelog::{self, Links, Section};
use crate::release::commits::Commit;
use crate::release::{gittag, version};
use crate::report::escape;

#[derive(Serialize)]
struct TagJson<'a> {
    /// `""` when nothing is releasable (and no tag was made).
    tag: &'a str,
    version: String,
    previous_tag: Option<&'a str>,
    sha: Option<&'a str>,
    pushed: bool,
}

pub const TOKEN_WARNING: &str = "a tag pushed with the workflow's GITHUB_TOKEN starts no other workflow (`on: push: tags`): push with a GitHub App token or a personal access token (actions/checkout `token:`), or run `cicd release` in this same job";

pub fn run(cli: &Cli, args: &TagArgs) -> Result<Exit, Error> {
    let (repo, loaded) = open(cli)?;
    let config = &loaded.config.release;
    let runtime = Runtime::from_env();
    let next = match version::next(&repo, config, args.pre.map(|p| p.id()), "HEAD")? {
        Ok(n) => n,
        Err(nothing) => {
            note(&format!("{}; no tag created", nothing_text(&nothing)));
            output(&runtime, "version", "")?;
            output(&runtime, "tag", "")?;
            if args.json {
                print_json(&TagJson {
                    tag: "",
                    version: String::new(),
                    previous_tag: nothing.since.as_deref(),
                    sha: None,
                    pushed: false,
                })?;
            }
            return Ok(Exit::Ok);
        }
    };
    let previous = next.previous.as_ref().map(|p| p.tag.as_str());
    let commits: Vec<Commit> = repo
        .commits(previous, "HEAD")?
        .iter()
        .map(Commit::parse)
        .collect();
    let date = repo.date("HEAD")?;
    let title = next.version.to_string();
    let md = changelog::render(
        &Section {
            title: &title,
            date: Some(&date),
            previous_tag: previous,
            tag: &next.tag,
            commits: &commits,
        },
        Links::from_env().as_ref(),
    );
    let message = format!("{}\n\n{md}", next.tag);
    let request = gittag::Request {
        tag: &next.tag,
        message: &message,
        allow_branch: args.allow_branch,
    };
    let sha = gittag::create(&repo, &request)?;
    let mut text = format!(
        "created tag {} at {}\n",
        next.tag,
        crate::release::commits::short(&sha)
    );
    if args.push {
        if runtime.active && std::env::var("GITHUB_TOKEN").is_ok_and(|t| !t.is_empty()) {
            warn(&runtime, TOKEN_WARNING);
        }
        gittag::push(&repo, &next.tag, &args.remote)?;
        text.push_str(&format!("pushed {} to {}\n", next.tag, args.remote));
    } else {
        text.push_str(&format!(
            "not pushed: run `git push {} {}` or pass --push\n",
            args.remote, next.tag
        ));
    }
    output(&runtime, "version", &title)?;
    output(&runtime, "tag", &next.tag)?;
    if args.json {
        print_json(&TagJson {
            tag: &next.tag,
            version: title.clone(),
            previous_tag: previous,
            sha: Some(&sha),
            pushed: args.push,
        })?;
    } else {
        super::deliver(None, escape::plain_lines(&text).as_bytes())?;
    }
    Ok(Exit::Ok)
}

fn print_json(json: &TagJson<'_>) -> Result<(), Error> {
    let mut bytes = serde_json::to_vec_pretty(json).map_err(|e| Error::Runtime(e.to_string()))?;
    bytes.push(b'\n');
    super::deliver(None, &escape::json(bytes))
}

/// A warning on stderr, and as an annotation in Actions.
fn warn(runtime: &Runtime, text: &str) {
    note(&format!("warning: {text}"));
    if runtime.active {
        let line = format!("::warning title=cicd tag::{}\n", escape::command_data(text));
        let _ = super::deliver(None, line.as_bytes());
    }
}
