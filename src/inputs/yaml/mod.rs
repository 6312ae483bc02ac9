//! A YAML tree that remembers where every node was written.
//!
//! Built straight from `saphyr-parser` events so scalars keep their source text (no `3.10`
//! turning into `3.1`), every node carries its span, aliases expand under a budget, and
//! merge keys (`<<`) are honoured on lookup the way Compose does ([`build`]). Lines inside
//! flow collections are read without YAML 1.2's indentation check, as GitHub reads them
//! ([`lax`]).

mod build;
mod lax;

use std::fmt;
use std::sync::Arc;

use crate::text::Text;
pub use crate::text::{Pos, Span};

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

/// A node's value. Kept small: a 50 MB workflow has millions of nodes. Short scalars that
/// repeat (keys above all) share one allocation.
#[derive(Clone, Debug)]
pub enum Value {
    Scalar(Arc<str>, Style),
    Seq(Box<[Node]>),
    Map(Box<[(Node, Node)]>),
}

#[derive(Clone, Debug)]
pub struct Node {
    /// Start line, start column, end line, end column.
    span: [u32; 4],
    pub value: Value,
}

fn pack(span: Span) -> [u32; 4] {
    let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    [
        n(span.start.line),
        n(span.start.column),
        n(span.end.line),
        n(span.end.column),
    ]
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.column, self.message)
    }
}

/// Parses every document of a YAML stream.
pub fn parse(text: &str) -> Result<Vec<Node>, SyntaxError> {
    parse_text(&Text::new(text))
}

/// [`parse`] for text already indexed by line (no second index of a large file).
pub fn parse_text(text: &Text) -> Result<Vec<Node>, SyntaxError> {
    build::build(text).or_else(|first| lax::reread(text.as_str(), first))
}

impl Node {
    pub(crate) fn new(span: Span, value: Value) -> Self {
        Self {
            span: pack(span),
            value,
        }
    }

    /// Where the node was written.
    pub fn span(&self) -> Span {
        let [a, b, c, d] = self.span.map(|v| v as usize);
        Span {
            start: Pos { line: a, column: b },
            end: Pos { line: c, column: d },
        }
    }

    pub(crate) fn set_span(&mut self, span: Span) {
        self.span = pack(span);
    }

    fn size(&self) -> usize {
        match &self.value {
            Value::Scalar(..) => 1,
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }

    /// The scalar's text, unless it is a YAML null.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, Style::Plain)
                if matches!(s.as_ref(), "" | "~" | "null" | "Null" | "NULL") =>
            {
                None
            }
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// A mapping's entries with string keys, own keys first, then keys brought in by `<<`
    /// merge keys that the mapping does not override.
    pub fn entries(&self) -> Vec<(&str, &Node)> {
        let Value::Map(entries) = &self.value else {
            return Vec::new();
        };
        let mut out: Vec<(&str, &Node)> = entries
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, v)))
            .filter(|(k, _)| *k != "<<")
            .collect();
        for merged in self.merge_sources() {
            for (k, v) in merged.entries() {
                if !out.iter().any(|(have, _)| *have == k) {
                    out.push((k, v));
                }
            }
        }
        out
    }

    /// Looks up a key, honouring `<<` merge keys.
    pub fn get(&self, key: &str) -> Option<&Node> {
        let Value::Map(entries) = &self.value else {
            return None;
        };
        entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
            .or_else(|| self.merge_sources().find_map(|m| m.get(key)))
    }

    /// The key node of an entry, for pointing findings at a key.
    pub fn key_node(&self, key: &str) -> Option<&Node> {
        let Value::Map(entries) = &self.value else {
            return None;
        };
        entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k)
    }

    fn merge_sources(&self) -> impl Iterator<Item = &Node> {
        let merge = match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| {
                    k.as_str() == Some("<<") && matches!(k.value, Value::Scalar(_, Style::Plain))
                })
                .map(|(_, v)| v),
            _ => None,
        };
        let list: Vec<&Node> = match merge {
            Some(n) if n.is_map() => vec![n],
            Some(Node {
                value: Value::Seq(items),
                ..
            }) => items.iter().filter(|n| n.is_map()).collect(),
            _ => Vec::new(),
        };
        list.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_at(doc: &Node, path: &[&str]) -> (String, Span) {
        let mut node = doc;
        for key in path {
            node = node.get(key).expect(key);
        }
        (node.as_str().expect("scalar").to_owned(), node.span())
    }

    #[test]
    fn spans_point_at_scalars() {
        let text = "jobs:\n  a:\n    uses: \"o/r@v1\" # c\n    b: plain@v2\n";
        let docs = parse(text).expect("parses");
        let (v, span) = scalar_at(&docs[0], &["jobs", "a", "uses"]);
        assert_eq!(v, "o/r@v1");
        assert_eq!(
            span.start,
            Pos {
                line: 3,
                column: 11
            }
        );
        assert_eq!(
            span.end,
            Pos {
                line: 3,
                column: 19
            }
        );
        let (v, span) = scalar_at(&docs[0], &["jobs", "a", "b"]);
        assert_eq!(v, "plain@v2");
        assert_eq!(span.start, Pos { line: 4, column: 8 });
        assert_eq!(
            span.end,
            Pos {
                line: 4,
                column: 16
            }
        );
    }

    #[test]
    fn anchors_and_tags_are_not_part_of_the_span() {
        let docs = parse("a: &x !!str v1\nb: *x\n").expect("parses");
        let (v, span) = scalar_at(&docs[0], &["a"]);
        assert_eq!(v, "v1");
        assert_eq!(
            span.start,
            Pos {
                line: 1,
                column: 13
            }
        );
        assert_eq!(
            span.end,
            Pos {
                line: 1,
                column: 15
            }
        );
        assert_eq!(scalar_at(&docs[0], &["b"]).1, span);
    }

    #[test]
    fn keeps_scalar_text() {
        let docs = parse("v: 3.10\nn: ~\n").expect("parses");
        assert_eq!(docs[0].get("v").and_then(Node::as_str), Some("3.10"));
        assert_eq!(docs[0].get("n").and_then(Node::as_str), None);
    }

    #[test]
    fn aliases_and_merge_keys() {
        let text = "base: &b {image: x:1}\nsvc:\n  <<: *b\n  other: 2\nlist: [*b]\n";
        let docs = parse(text).expect("parses");
        let (v, span) = scalar_at(&docs[0], &["svc", "image"]);
        assert_eq!(v, "x:1");
        assert_eq!(span.start.line, 1);
        assert_eq!(docs[0].get("svc").map(|n| n.entries().len()), Some(2));
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g'] {
            text.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = name;
        }
        let err = parse(&text).expect_err("refused");
        assert!(err.message.contains("aliases expand"), "{err}");
    }

    #[test]
    fn multi_document_and_errors() {
        assert_eq!(parse("a: 1\n---\nb: 2\n").expect("parses").len(), 2);
        let err = parse("a: {b: 1\n").expect_err("unclosed");
        assert!(err.pos.line >= 1);
        let deep = "[".repeat(1000);
        assert!(parse(&deep).is_err());
    }
}
