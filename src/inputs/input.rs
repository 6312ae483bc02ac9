//! One input ([`Input`], what discovery finds and `cicd check`/`cicd pin` read): refusing
//! binary and non-UTF-8 files with a position, telling which kind of file it is, and parsing
//! it into a [`Document`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::inputs::compose::{Follow, read_compose};
use crate::inputs::dockerfile::read_dockerfile;
use crate::inputs::document::{Document, Kind, Source};
use crate::inputs::workflow::{read_action, read_workflow};
use crate::inputs::yaml::{self, Pos};
use crate::report::InputProblem;
use crate::text::Text;

/// One file to check or pin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// Path to open.
    pub path: PathBuf,
    /// Path shown to users: relative to the working directory when under it.
    pub shown: PathBuf,
    /// `None` for a file named on the command line whose name says nothing; content decides.
    pub kind: Option<Kind>,
    /// The tree it was found in: the directory given, or the working directory for a file
    /// named on the command line. `cicd pin` writes nowhere else.
    pub tree: PathBuf,
}

impl Input {
    /// Reads and parses the file into documents (more than one when compose `extends` leads
    /// elsewhere).
    pub fn read(&self) -> Result<Vec<Document>, InputProblem> {
        let bytes = std::fs::read(&self.path).map_err(|e| {
            InputProblem::new(self.shown.clone(), None, format!("could not be read: {e}"))
        })?;
        let follow = self.path.parent().map(|dir| Follow {
            dir,
            tree: &self.tree,
        });
        parse(&self.shown, follow, bytes, self.kind)
    }
}

/// The kind a file's name says it is, if any.
pub fn kind_from_name(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let yaml_ext = lower.ends_with(".yml") || lower.ends_with(".yaml");
    let parent = path.parent();
    let in_workflows = parent.is_some_and(|p| p.ends_with(".github/workflows"));
    if in_workflows && yaml_ext {
        return Some(Kind::Workflow);
    }
    if lower == "action.yml" || lower == "action.yaml" {
        return Some(Kind::Action);
    }
    if name == "Dockerfile"
        || name == "Containerfile"
        || name.starts_with("Dockerfile.")
        || name.starts_with("Containerfile.")
        || name.ends_with(".Dockerfile")
        || name.ends_with(".Containerfile")
        || lower == "dockerfile"
    {
        return Some(Kind::Dockerfile);
    }
    if yaml_ext && (lower.starts_with("docker-compose") || lower.starts_with("compose")) {
        return Some(Kind::Compose);
    }
    if matches!(
        lower.as_str(),
        "traefik.yml" | "traefik.yaml" | "traefik.toml"
    ) {
        return Some(Kind::Traefik);
    }
    None
}

/// Line and column of byte `offset` (for UTF-8 errors).
pub fn utf8_error_pos(bytes: &[u8], offset: usize) -> Pos {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Pos { line, column }
}

/// Decodes a file as text or says why it is not.
pub fn decode(shown: &Path, bytes: Vec<u8>) -> Result<String, InputProblem> {
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return Err(InputProblem::new(
            shown.to_path_buf(),
            None,
            "is a binary file (it contains NUL bytes), not text",
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let byte = e.as_bytes().get(offset).copied().unwrap_or_default();
        let pos = utf8_error_pos(e.as_bytes(), offset);
        InputProblem::new(
            shown.to_path_buf(),
            Some(pos),
            format!("is not valid UTF-8 (byte 0x{byte:02X}); save it as UTF-8"),
        )
    })
}

/// Parses an input's bytes. `follow` is where compose `extends.file` is looked up (`None`:
/// not followed). Never panics, whatever the bytes.
pub fn parse(
    shown: &Path,
    follow: Option<Follow<'_>>,
    bytes: Vec<u8>,
    kind: Option<Kind>,
) -> Result<Vec<Document>, InputProblem> {
    let problem = |pos: Option<Pos>, msg: String| InputProblem::new(shown.to_path_buf(), pos, msg);
    // The one copy of the text kept: the tree, the documents and the report all read it.
    let shared = Arc::new(Text::new(decode(shown, bytes)?));
    let text = shared.as_str();
    let kind = kind.or_else(|| kind_from_name(shown));
    let toml = shown
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let is_yaml = !matches!(kind, Some(Kind::Dockerfile))
        && !toml
        && (kind.is_some() || {
            let lower = shown.to_string_lossy().to_ascii_lowercase();
            lower.ends_with(".yml") || lower.ends_with(".yaml")
        });
    let roots = if is_yaml {
        Some(
            yaml::parse_text(&shared)
                .map_err(|e| problem(Some(e.pos), format!("is not valid YAML: {}", e.message)))?,
        )
    } else {
        None
    };
    let kind = match (kind, &roots) {
        (Some(k), _) => k,
        (None, Some(roots)) => sniff(roots).ok_or_else(|| {
            problem(None, "is not a workflow (no `jobs:`), an action (no `runs:`) or a compose file (no `services:`)".into())
        })?,
        (None, None) => {
            let dockerfile = text.lines().any(|l| {
                let t = l.trim_start();
                t.get(..5).is_some_and(|w| w.eq_ignore_ascii_case("FROM ")) || t.eq_ignore_ascii_case("FROM")
            });
            if !dockerfile {
                return Err(problem(None, "is not a workflow, action, Dockerfile or compose file".into()));
            }
            Kind::Dockerfile
        }
    };
    let source = Arc::new(Source {
        path: shown.to_path_buf(),
        text: shared.clone(),
        kind,
    });
    let mut doc = Document::new(source);
    let mut extra = Vec::new();
    let roots = roots.unwrap_or_default();
    match kind {
        Kind::Workflow => {
            check_root_is_mapping(&roots, "workflow").map_err(|(p, m)| problem(p, m))?;
            read_workflow(&mut doc, &roots);
        }
        Kind::Action => {
            check_root_is_mapping(&roots, "action").map_err(|(p, m)| problem(p, m))?;
            read_action(&mut doc, &roots);
        }
        Kind::Compose => {
            check_root_is_mapping(&roots, "compose file").map_err(|(p, m)| problem(p, m))?;
            read_compose(&mut doc, &roots, follow, &mut extra)
                .map_err(|e| problem(Some(e.pos), e.message))?;
        }
        Kind::Dockerfile => {
            read_dockerfile(&mut doc, text).map_err(|e| problem(Some(e.pos), e.message))?;
        }
        Kind::Traefik => {}
    }
    doc.yaml = roots;
    let mut docs = vec![doc];
    docs.extend(extra);
    Ok(docs)
}

fn sniff(roots: &[yaml::Node]) -> Option<Kind> {
    let root = roots.iter().find(|r| r.is_map())?;
    if root.get("jobs").is_some() {
        Some(Kind::Workflow)
    } else if root.get("runs").is_some() {
        Some(Kind::Action)
    } else if root.get("services").is_some() {
        Some(Kind::Compose)
    } else {
        None
    }
}

/// Every document of a workflow, action or compose file must be a mapping (or empty).
fn check_root_is_mapping(roots: &[yaml::Node], what: &str) -> Result<(), (Option<Pos>, String)> {
    for root in roots {
        if !root.is_map() && root.as_str().is_some() || root.as_seq().is_some() {
            return Err((
                Some(root.span().start),
                format!("is not a {what}: the top level must be a mapping"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let k = |p: &str| kind_from_name(Path::new(p));
        assert_eq!(k(".github/workflows/ci.yml"), Some(Kind::Workflow));
        assert_eq!(k("x/.github/workflows/ci.yaml"), Some(Kind::Workflow));
        assert_eq!(k(".github/workflows/README.md"), None);
        assert_eq!(k("a/b/action.yaml"), Some(Kind::Action));
        assert_eq!(k("Dockerfile"), Some(Kind::Dockerfile));
        assert_eq!(k("docker/app.Dockerfile"), Some(Kind::Dockerfile));
        assert_eq!(k("Dockerfile.prod"), Some(Kind::Dockerfile));
        assert_eq!(k("Containerfile"), Some(Kind::Dockerfile));
        assert_eq!(k("deploy/docker-compose.prod.yml"), Some(Kind::Compose));
        assert_eq!(k("compose.yaml"), Some(Kind::Compose));
        assert_eq!(k("composer.json"), None);
        assert_eq!(k("values.yaml"), None);
        assert_eq!(k("deploy/traefik.toml"), Some(Kind::Traefik));
        assert_eq!(k("traefik.yml"), Some(Kind::Traefik));
    }

    proptest::proptest! {
        /// Cheap stable-toolchain complement to the cargo-fuzz targets in `fuzz/`.
        #[test]
        fn parse_never_panics(
            text in "[a-z:{}\\[\\],#&*!|>'\" \n\t$@/.-]{0,300}",
            kind in 0usize..4,
        ) {
            let kind = [Kind::Workflow, Kind::Action, Kind::Dockerfile, Kind::Compose][kind];
            let _ = parse(Path::new("x.yml"), None, text.into_bytes(), Some(kind));
        }
    }

    #[test]
    fn utf8_positions() {
        assert_eq!(utf8_error_pos(b"ab\ncd\xe9", 5), Pos { line: 2, column: 3 });
    }
}
