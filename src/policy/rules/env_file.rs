//! A compose service's `env_file:` entries, read for `compose-default-credential`: each file is
//! resolved next to the compose file and read only inside the tree `cicd check` runs in (the
//! working directory, or the compose file's directory when it lies outside that): a path or
//! symlink leading out, anything but a regular file, and files over 1 MiB are skipped, never
//! followed. Lines are read as Compose reads them: `KEY=VALUE`, an optional `export `, quoted
//! values, `#` comments.

use std::path::{Path, PathBuf};

use crate::inputs::document::Document;
use crate::inputs::yaml::Node;
use crate::oci::confine::Confined;
use crate::report::Location;
use crate::text::Pos;

/// Larger env files are skipped (they are not env files).
const MAX_BYTES: u64 = 1 << 20;

/// One `KEY=VALUE` line of an env file, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileVar {
    pub name: String,
    pub value: String,
    pub location: Location,
}

/// The variables of every env file `service` names (string, list of strings, or list of
/// `{path, required}`), in order.
pub fn env_file_vars(doc: &Document, service: &Node, base: &str) -> Vec<FileVar> {
    let Some(node) = service.get("env_file") else {
        return Vec::new();
    };
    let paths: Vec<&str> = match node.as_seq() {
        Some(items) => items
            .iter()
            .filter_map(|i| i.as_str().or_else(|| i.get("path").and_then(Node::as_str)))
            .collect(),
        None => node.as_str().into_iter().collect(),
    };
    let shown_dir = doc.source.path.parent().unwrap_or(Path::new(""));
    let Some(tree) = tree_for(shown_dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, rel) in paths.into_iter().enumerate() {
        let shown = shown_dir.join(rel);
        let Some(text) = read_confined(&tree, &shown) else {
            continue;
        };
        let symbolic = format!("{base}.env_file[{i}]");
        out.extend(parse(&text).into_iter().map(|(line, name, value)| FileVar {
            location: Location {
                file: shown.clone(),
                start: Pos { line, column: 1 },
                end: Pos {
                    line,
                    column: 1 + name.chars().count(),
                },
                symbolic: format!("{symbolic}:{name}"),
            },
            name,
            value,
        }));
    }
    out
}

/// The working directory, unless the compose file lies outside it (then its own directory).
fn tree_for(shown_dir: &Path) -> Option<Confined> {
    let cwd = std::env::current_dir().ok()?;
    let dir: PathBuf = if shown_dir.as_os_str().is_empty() {
        cwd.clone()
    } else {
        cwd.join(shown_dir)
    };
    let real_dir = std::fs::canonicalize(&dir).ok()?;
    let real_cwd = std::fs::canonicalize(&cwd).ok()?;
    let root = if real_dir.starts_with(&real_cwd) {
        real_cwd
    } else {
        real_dir
    };
    Confined::new(&root).ok()
}

fn read_confined(tree: &Confined, path: &Path) -> Option<String> {
    let file = tree.open(path).ok()?;
    String::from_utf8(crate::fs::read_capped(file, MAX_BYTES).ok()?).ok()
}

/// `(1-based line, name, value)` for each assignment line.
pub fn parse(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            continue;
        }
        out.push((i + 1, name.to_owned(), unquote(value.trim())));
    }
    out
}

/// A quoted value loses its quotes; an unquoted one its ` #` comment.
fn unquote(value: &str) -> String {
    for q in ['"', '\''] {
        if let Some(rest) = value.strip_prefix(q) {
            return rest.split(q).next().unwrap_or_default().to_owned();
        }
    }
    match value.find(" #") {
        Some(at) => value[..at].trim_end().to_owned(),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn lines_as_compose_reads_them() {
        let text = "# comment\n\nexport DB_PASSWORD=admin\nAPI_KEY='change me' \nTOKEN=\"x\" # c\nLOG=debug # level\nnot an assignment\n=nothing\nBAD NAME=x\n";
        assert_eq!(
            parse(text),
            vec![
                (3, "DB_PASSWORD".into(), "admin".into()),
                (4, "API_KEY".into(), "change me".into()),
                (5, "TOKEN".into(), "x".into()),
                (6, "LOG".into(), "debug".into()),
            ]
        );
    }

    #[test]
    fn malformed_input_never_panics() {
        for text in ["=", "'", "A='unterminated", "A=\"", "\u{0}=\u{0}", "A= #"] {
            let _ = parse(text);
        }
        assert_eq!(
            parse("A='unterminated"),
            vec![(1, "A".into(), "unterminated".into())]
        );
    }
}
