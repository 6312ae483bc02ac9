//! Reads Compose files: each service's `image:` with `${VAR:-default}` interpolation, `<<`
//! merge keys and `extends` (same file or another file) followed to where the image is written.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::inputs::document::{Document, Image, ImageOrigin, Kind, Source};
use crate::inputs::interpolate::{Escape, interpolate};
use crate::inputs::yaml::{self, Node, Pos};
use crate::text::Text;

/// A compose file whose shape is wrong where it matters (e.g. `services` is not a mapping).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeError {
    pub pos: Pos,
    pub message: String,
}

/// A followed `extends.file` is read up to this size; a larger one is not followed.
const MAX_FOLLOWED_BYTES: u64 = 4 << 20;

/// Where `extends.file` is looked up: the compose file's directory, and the tree the input
/// was found in, which no followed file may leave.
#[derive(Clone, Copy, Debug)]
pub struct Follow<'a> {
    pub dir: &'a Path,
    pub tree: &'a Path,
}

/// Collects every service image. `follow` says where `extends.file` is looked up (`None`:
/// other files are not followed).
pub fn read_compose(
    doc: &mut Document,
    roots: &[Node],
    follow: Option<Follow<'_>>,
    extra: &mut Vec<Document>,
) -> Result<(), ComposeError> {
    for root in roots {
        let Some(services) = root.get("services") else {
            continue;
        };
        if !services.is_map() {
            if services.as_str().is_none() && services.as_seq().is_none() {
                continue;
            }
            return Err(ComposeError {
                pos: services.span().start,
                message: "`services` must be a mapping of service names to services".into(),
            });
        }
        for (name, service) in services.entries() {
            if !service.is_map() {
                continue;
            }
            check_lists(name, service)?;
            read_service(doc, services, name, service, follow, extra, 0);
        }
    }
    Ok(())
}

/// `ports` and `volumes` must be lists: Compose refuses anything else, and the rules that
/// read them would otherwise see nothing.
fn check_lists(name: &str, service: &Node) -> Result<(), ComposeError> {
    for key in ["ports", "volumes", "cap_add"] {
        let Some(node) = service.get(key) else {
            continue;
        };
        let what = if node.is_map() {
            "a mapping"
        } else if node.as_str().is_some() {
            "a single value"
        } else {
            continue;
        };
        return Err(ComposeError {
            pos: node.span().start,
            message: format!(
                "`services.{name}.{key}` is {what}; Compose wants a list (`{key}:` then `- …` entries)"
            ),
        });
    }
    Ok(())
}

/// How many `extends` hops are followed before giving up on a cycle.
const MAX_EXTENDS: usize = 8;

fn read_service(
    doc: &mut Document,
    services: &Node,
    name: &str,
    service: &Node,
    follow: Option<Follow<'_>>,
    extra: &mut Vec<Document>,
    depth: usize,
) {
    // With `build:`, `image:` names what is built: nothing is pulled.
    if service.get("build").is_some() {
        return;
    }
    if let Some(image) = service.get("image") {
        push_image(doc, image, format!("services.{name}.image"));
        return;
    }
    if depth >= MAX_EXTENDS {
        return;
    }
    let Some(extends) = service.get("extends") else {
        return;
    };
    let (file, base) = match extends.as_str() {
        Some(base) => (None, base),
        None => match extends.get("service").and_then(Node::as_str) {
            Some(base) => (extends.get("file").and_then(Node::as_str), base),
            None => return,
        },
    };
    match file {
        None => {
            if let Some(base_node) = services.get(base).filter(|n| n.is_map()) {
                read_service(doc, services, base, base_node, follow, extra, depth + 1);
            }
        }
        Some(file) => {
            if let Some(follow) = follow {
                follow_file(doc, follow, file, base, extra, depth + 1);
            }
        }
    }
}

/// Reads the service `base` in another compose file; its image is reported in that file.
/// A file outside the tree, not a regular file (a FIFO would block, a device never end) or
/// over the cap is not followed, like a missing one.
fn follow_file(
    doc: &Document,
    follow: Follow<'_>,
    file: &str,
    base: &str,
    extra: &mut Vec<Document>,
    depth: usize,
) {
    let path = follow.dir.join(file);
    let Some(text) = read_inside(&path, follow.tree) else {
        // Compose itself reports the missing file; this check has nothing to add.
        return;
    };
    let Ok(roots) = yaml::parse(&text) else {
        return;
    };
    let shown_parent = doc.source.path.parent().unwrap_or(Path::new(""));
    let source = Arc::new(Source {
        path: normalize(&shown_parent.join(file)),
        text: Arc::new(Text::new(text)),
        kind: Kind::Compose,
    });
    let mut other = Document::new(source);
    let follow = path.parent().map(|dir| Follow {
        dir,
        tree: follow.tree,
    });
    for root in &roots {
        let Some(services) = root.get("services") else {
            continue;
        };
        if let Some(node) = services.get(base).filter(|n| n.is_map()) {
            read_service(&mut other, services, base, node, follow, extra, depth);
        }
    }
    if !other.images.is_empty() {
        extra.push(other);
    }
}

/// The text of `path` when it resolves (symbolic links followed) inside `tree`, is a regular
/// file and holds at most `MAX_FOLLOWED_BYTES` of UTF-8.
fn read_inside(path: &Path, tree: &Path) -> Option<String> {
    let resolved = path.canonicalize().ok()?;
    if !resolved.starts_with(tree.canonicalize().ok()?) {
        return None;
    }
    let bytes = crate::fs::read_found(&resolved, MAX_FOLLOWED_BYTES).ok()?;
    String::from_utf8(bytes).ok()
}

/// Removes `.` and folds `dir/..` without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn push_image(doc: &mut Document, node: &Node, symbolic: String) {
    let Some(written) = node.as_str() else { return };
    // Only defaults written in the file count; the environment of whoever runs the check does not.
    let (value, unresolved) = match interpolate(written, Escape::Dollar, &|_| None) {
        Ok(value) => (value, None),
        // Set at `docker compose up` time: the file pins nothing unless it writes the digest.
        Err(_) if written.contains("@sha256:") => return,
        Err(name) => (written.to_owned(), Some(name)),
    };
    if value.trim().is_empty() {
        return;
    }
    let via = (value != written).then(|| written.to_owned());
    let location = doc.location(node, symbolic);
    doc.images.push(Image {
        value,
        origin: ImageOrigin::Compose,
        location,
        via,
        unresolved,
        dynamic: None,
    });
}
