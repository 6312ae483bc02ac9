//! `dockerfile-root-user`: the image's final stage runs as root (no `USER`, or `USER root`).

use super::{Context, Rule, RuleMeta};
use crate::inputs::dockerfile::Instruction;
use crate::inputs::document::{Document, Kind};
use crate::report::Severity;

pub struct DockerfileRootUser;

static META: RuleMeta = RuleMeta {
    id: "dockerfile-root-user",
    summary: "final image stage runs as root",
    help: "A process that runs as root in the container is root on the host the moment it \
           escapes (a kernel bug, a mounted socket, a privileged flag), and can rewrite its \
           own image files. Create an unprivileged user in the final stage and switch to it: \
           `RUN useradd --system --uid 10001 app` then `USER 10001`, or start from an image \
           that runs as non-root (`…:nonroot`). The user a base image sets cannot be known \
           offline, so a final stage without `USER` is flagged; add `USER` even when the base \
           image already sets one, so the Dockerfile says it.",
    help_url: "https://docs.docker.com/build/building/best-practices/#user",
    default_severity: Severity::Medium,
    online: false,
};

/// A stage: its `FROM` instruction, name, base and the last `USER`.
struct Stage<'a> {
    from: &'a Instruction,
    name: String,
    base: String,
    user: Option<&'a Instruction>,
}

fn stages(instructions: &[Instruction]) -> Vec<Stage<'_>> {
    let mut out: Vec<Stage<'_>> = Vec::new();
    for ins in instructions {
        match ins.keyword.as_str() {
            "FROM" => {
                let words: Vec<&str> = ins
                    .args
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let base = words.first().copied().unwrap_or("").to_ascii_lowercase();
                let name = match words.as_slice() {
                    [_, kw, name, ..] if kw.eq_ignore_ascii_case("as") => name.to_ascii_lowercase(),
                    _ => String::new(),
                };
                out.push(Stage {
                    from: ins,
                    name,
                    base,
                    user: None,
                });
            }
            "USER" => {
                if let Some(stage) = out.last_mut() {
                    stage.user = Some(ins);
                }
            }
            _ => {}
        }
    }
    out
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user).trim();
    name == "root" || name == "0"
}

impl Rule for DockerfileRootUser {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        if doc.source.kind != Kind::Dockerfile {
            return;
        }
        let stages = stages(&doc.instructions);
        let Some(last) = stages.last() else { return };
        // The final stage inherits the user of the stage it starts from.
        let mut stage = last;
        let mut hops = 0;
        let user = loop {
            if let Some(user) = stage.user {
                break Some(user);
            }
            match stages
                .iter()
                .find(|s| !s.name.is_empty() && s.name == stage.base)
            {
                Some(parent) if hops < stages.len() => {
                    stage = parent;
                    hops += 1;
                }
                _ => break None,
            }
        };
        let index = stages.len() - 1;
        match user {
            Some(user) if is_root(&user.args) => {
                let pos = user.pos(0);
                let location = doc.line_location(
                    pos.line,
                    pos.column,
                    user.args.trim_end().chars().count(),
                    format!("stages[{index}].user"),
                );
                cx.report(
                    Severity::Medium,
                    &location,
                    user.args.trim(),
                    format!("the final stage switches to `USER {}`: the container runs as root", user.args.trim()),
                    "switch to an unprivileged user last: `USER 10001` (create it with `useradd --system --uid 10001 app`)".into(),
                );
            }
            Some(_) => {}
            None => {
                if stage.base.contains("nonroot") {
                    return;
                }
                let from = last.from;
                let pos = from.pos(0);
                let location = doc.line_location(
                    pos.line,
                    pos.column,
                    from.args.trim_end().chars().count(),
                    format!("stages[{index}].from"),
                );
                cx.report(
                    Severity::Medium,
                    &location,
                    &last.base,
                    format!(
                        "the final stage (`FROM {}`) sets no `USER`: it runs as the base image's user, which cannot be known offline and is root for most images",
                        from.args.trim()
                    ),
                    "add `USER 10001` (an unprivileged uid; create it with `useradd --system --uid 10001 app`) at the end of the final stage".into(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::input::parse;
    use crate::policy::rules::{Context, Settings};
    use std::path::Path;

    fn findings(text: &str) -> Vec<String> {
        let docs = parse(
            Path::new("Dockerfile"),
            None,
            text.as_bytes().to_vec(),
            None,
        )
        .expect("parse");
        let mut out = Vec::new();
        let settings = Settings::enabled();
        let mut cx = Context::new(&META, &settings, &mut out, None);
        DockerfileRootUser.check(&docs[0], &mut cx);
        out.into_iter()
            .map(|f| {
                format!(
                    "{}:{}",
                    f.location.map_or(0, |l| l.start.line),
                    f.subject.unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn final_stage_user() {
        assert_eq!(findings("FROM a AS b\nUSER 1000\nFROM c\n"), ["3:c"]);
        assert_eq!(
            findings("FROM a AS b\nUSER root\nFROM c\nUSER 1000\n"),
            Vec::<String>::new()
        );
        assert_eq!(
            findings("FROM a AS base\nUSER 1000\nFROM base\n"),
            Vec::<String>::new()
        );
        assert_eq!(
            findings("FROM a AS base\nFROM base AS x\nUSER 0:0\n"),
            ["3:0:0"]
        );
        assert_eq!(findings("FROM a AS x\nFROM x AS y\nFROM y AS x\n"), ["3:y"]);
        assert_eq!(
            findings("FROM gcr.io/distroless/static:nonroot\n"),
            Vec::<String>::new()
        );
    }
}
