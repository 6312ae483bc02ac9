//! The checked view of one input file: every `uses:` reference and every container image it
//! names, each with its location. Parsers produce it; rules only read it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::inputs::dockerfile::Instruction;
use crate::inputs::uses::{ActionRef, RefKind, classify};
use crate::inputs::yaml::{Node, Pos, Style, Value};
use crate::report::Location;
use crate::text::Text;

/// What kind of file an input is; decides which parser reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Workflow,
    Action,
    Dockerfile,
    Compose,
    /// A Traefik static configuration (`traefik.yml`, `traefik.yaml`, `traefik.toml`).
    Traefik,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Workflow => "workflow",
            Kind::Action => "action",
            Kind::Dockerfile => "Dockerfile",
            Kind::Compose => "compose file",
            Kind::Traefik => "Traefik static config",
        }
    }
}

/// An input file's text, shared with the reporter for snippets.
#[derive(Debug)]
pub struct Source {
    /// Path as shown to users.
    pub path: PathBuf,
    pub text: Arc<Text>,
    pub kind: Kind,
}

/// Where a `uses:` appears; reusable workflows are called from a job, not a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsesContext {
    Step,
    ReusableWorkflow,
    CompositeStep,
}

#[derive(Clone, Debug)]
pub struct Uses {
    pub raw: String,
    pub target: ActionRef,
    pub location: Location,
    /// A trailing `# comment` on the same line, without the `#`.
    pub comment: Option<String>,
    pub context: UsesContext,
}

impl Uses {
    /// `(owner, repo, sha)` when this pins another repository by full commit SHA.
    pub fn sha_pin(&self) -> Option<(&str, &str, &str)> {
        match &self.target {
            ActionRef::Repository {
                owner,
                repo,
                git_ref: Some(r),
                ..
            } if classify(r) == RefKind::FullSha => Some((owner, repo, r)),
            _ => None,
        }
    }
}

/// Where an image reference was found; decides the wording of messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageOrigin {
    StepDocker,
    JobContainer,
    Service,
    ActionImage,
    DockerfileFrom,
    DockerfileCopyFrom,
    DockerfileSyntax,
    DockerfileRunMount,
    Compose,
}

impl ImageOrigin {
    pub fn describe(self) -> &'static str {
        match self {
            ImageOrigin::StepDocker => "step image",
            ImageOrigin::JobContainer => "job container image",
            ImageOrigin::Service => "service container image",
            ImageOrigin::ActionImage => "action image",
            ImageOrigin::DockerfileFrom => "base image",
            ImageOrigin::DockerfileCopyFrom => "`COPY --from` image",
            ImageOrigin::DockerfileSyntax => "BuildKit frontend (`# syntax=`)",
            ImageOrigin::DockerfileRunMount => "`RUN --mount=from=` image",
            ImageOrigin::Compose => "compose service image",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Image {
    /// The reference after expanding `${{ matrix.x }}`, `ARG` or `${VAR:-default}`.
    pub value: String,
    pub origin: ImageOrigin,
    pub location: Location,
    /// What the value was expanded from, e.g. `matrix.image` or `ARG BASE`.
    pub via: Option<String>,
    /// A variable the value depends on that has no value or default in the file; `value` is
    /// then the reference as written.
    pub unresolved: Option<String>,
    /// A workflow expression the value depends on that only the run knows (`inputs.image`,
    /// `fromJSON(…)`, a step output); `value` is then the node as written. Such an image is
    /// `unverifiable-image`'s, not `unpinned-image`'s.
    pub dynamic: Option<String>,
}

/// Everything the rules look at in one file.
#[derive(Debug)]
pub struct Document {
    pub source: Arc<Source>,
    pub uses: Vec<Uses>,
    pub images: Vec<Image>,
    /// The YAML documents of a workflow, action, compose file or Traefik config, for the
    /// rules that judge more than references (ports, permissions, scanner steps).
    pub yaml: Vec<Node>,
    /// A Dockerfile's instructions, continuation lines joined.
    pub instructions: Vec<Instruction>,
}

impl Document {
    pub fn new(source: Arc<Source>) -> Self {
        Self {
            source,
            uses: Vec::new(),
            images: Vec::new(),
            yaml: Vec::new(),
            instructions: Vec::new(),
        }
    }

    /// The location of a YAML scalar, narrowed to inside its quotes when it is quoted.
    pub fn location(&self, node: &Node, symbolic: impl Into<String>) -> Location {
        let (mut start, mut end) = (node.span().start, node.span().end);
        if let Value::Scalar(_, Style::Quoted) = node.value
            && start.line == end.line
            && end.column > start.column + 1
        {
            start.column += 1;
            end.column -= 1;
        }
        Location {
            file: self.source.path.clone(),
            start,
            end,
            symbolic: symbolic.into(),
        }
    }

    /// A location on one line, for line-based formats (Dockerfiles).
    pub fn line_location(
        &self,
        line: usize,
        column: usize,
        len: usize,
        symbolic: String,
    ) -> Location {
        Location {
            file: self.source.path.clone(),
            start: Pos { line, column },
            end: Pos {
                line,
                column: column + len,
            },
            symbolic,
        }
    }

    /// The `# comment` after a scalar on its last line, where version comments of SHA pins
    /// live (`uses: o/r@<sha> # v4.2.2`); kept for the rules that compare them.
    pub fn trailing_comment(&self, node: &Node) -> Option<String> {
        let end = node.span().end;
        let line = self.source.text.line(end.line)?;
        let rest: String = line.chars().skip(end.column.saturating_sub(1)).collect();
        let rest = rest.trim_start();
        let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest).trim_start();
        let comment = rest.strip_prefix('#')?.trim().trim_end_matches('\r').trim();
        (!comment.is_empty()).then(|| comment.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::yaml;

    #[test]
    fn trailing_comments() {
        let text = "a: o/r@abc # v4.2.2\nb: \"o/r@abc\"   #v1\r\nc: o/r@abc\nd: 'x' # \n";
        let source = Arc::new(Source {
            path: PathBuf::from("w.yml"),
            text: Arc::new(Text::new(text)),
            kind: Kind::Workflow,
        });
        let doc = Document::new(source);
        let root = &yaml::parse(text).expect("yaml")[0];
        let comment = |k: &str| doc.trailing_comment(root.get(k).expect(k));
        assert_eq!(comment("a").as_deref(), Some("v4.2.2"));
        assert_eq!(comment("b").as_deref(), Some("v1"));
        assert_eq!(comment("c"), None);
        assert_eq!(comment("d"), None);
    }
}
