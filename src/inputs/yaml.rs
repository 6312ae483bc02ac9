//! A YAML tree that remembers where every node was written.
//!
//! Built straight from `saphyr-parser` events so scalars keep their source text (no `3.10`
//! turning into `3.1`), every node carries its span, aliases expand under a budget, and
//! merge keys (`<<`) are honoured on lookup the way Compose does.

use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

/// Most nodes alias expansion may copy before a document is refused ("billion laughs").
const ALIAS_BUDGET: usize = 100_000;
/// Deepest nesting accepted; deeper documents are refused instead of overflowing the stack.
const MAX_DEPTH: usize = 256;

/// A 1-based line and 1-based column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Where a node starts and ends (end exclusive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    fn from_parser(span: saphyr_parser::Span) -> Self {
        let pos = |m: saphyr_parser::Marker| Pos {
            line: m.line(),
            column: m.col() + 1,
        };
        Self {
            start: pos(span.start),
            end: pos(span.end),
        }
    }
}

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

#[derive(Clone, Debug)]
pub enum Value {
    Scalar(String, Style),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug)]
pub struct Node {
    pub span: Span,
    pub value: Value,
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

impl From<ScanError> for SyntaxError {
    fn from(e: ScanError) -> Self {
        Self {
            pos: Pos {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            },
            message: e.info().to_owned(),
        }
    }
}

/// Parses every document of a YAML stream.
pub fn parse(text: &str) -> Result<Vec<Node>, SyntaxError> {
    Builder::default().run(text)
}

/// A scalar's span starts at its properties (`&anchor`, `!tag`); move it to the value.
fn skip_properties(start: Pos, lines: &[&str]) -> Pos {
    let Some(line) = start.line.checked_sub(1).and_then(|i| lines.get(i)) else {
        return start;
    };
    let chars: Vec<char> = line.chars().collect();
    let mut col = start.column - 1;
    while chars.get(col).is_some_and(|c| *c == '&' || *c == '!') {
        while chars.get(col).is_some_and(|c| !c.is_whitespace()) {
            col += 1;
        }
        while chars.get(col).is_some_and(|c| *c == ' ' || *c == '\t') {
            col += 1;
        }
    }
    if col >= chars.len() {
        // The value is on a later line; keep the parser's position.
        return start;
    }
    Pos {
        line: start.line,
        column: col + 1,
    }
}

/// The parser's end marker for a scalar lies past trailing blanks and comments; recompute it
/// from the source for scalars written on one line.
fn scalar_end(span: Span, style: ScalarStyle, value: &str, lines: &[&str]) -> Pos {
    let Some(line) = span.start.line.checked_sub(1).and_then(|i| lines.get(i)) else {
        return span.end;
    };
    let mut chars = line.chars().skip(span.start.column - 1);
    let len = match style {
        ScalarStyle::Plain => {
            let n = value.chars().count();
            // Only when the source really holds the value verbatim on this line.
            if line
                .chars()
                .skip(span.start.column - 1)
                .take(n)
                .eq(value.chars())
            {
                Some(n)
            } else {
                None
            }
        }
        ScalarStyle::SingleQuoted => {
            chars.next();
            let mut n = 1;
            let mut closed = None;
            let mut prev_quote = false;
            for c in chars.by_ref() {
                n += 1;
                if c == '\'' {
                    prev_quote = !prev_quote;
                } else if prev_quote {
                    closed = Some(n - 1);
                    break;
                }
            }
            closed.or(prev_quote.then_some(n))
        }
        ScalarStyle::DoubleQuoted => {
            chars.next();
            let mut n = 1;
            let mut escaped = false;
            let mut closed = None;
            for c in chars {
                n += 1;
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        closed = Some(n);
                        break;
                    }
                    _ => {}
                }
            }
            closed
        }
        _ => None,
    };
    match len {
        Some(n) => Pos {
            line: span.start.line,
            column: span.start.column + n,
        },
        None => span.end,
    }
}

#[derive(Default)]
struct Builder {
    anchors: Vec<Option<Node>>,
    /// Open collections: the node being built and the anchor it will be registered under.
    stack: Vec<(Node, usize)>,
    /// A map key waiting for its value, one slot per open collection.
    pending_keys: Vec<Option<Node>>,
    docs: Vec<Node>,
    budget: usize,
}

impl Builder {
    fn run(mut self, text: &str) -> Result<Vec<Node>, SyntaxError> {
        self.budget = ALIAS_BUDGET;
        let lines: Vec<&str> = text.split('\n').collect();
        for item in Parser::new_from_str(text) {
            let (event, span) = item?;
            let span = Span::from_parser(span);
            match event {
                Event::Scalar(value, style, anchor, _tag) => {
                    let start = skip_properties(span.start, &lines);
                    let span = Span {
                        start,
                        end: scalar_end(Span { start, ..span }, style, &value, &lines),
                    };
                    let style = match style {
                        ScalarStyle::Plain => Style::Plain,
                        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                        _ => Style::Block,
                    };
                    let node = Node {
                        span,
                        value: Value::Scalar(value.into_owned(), style),
                    };
                    self.register(anchor, &node);
                    self.push(node, span)?;
                }
                Event::SequenceStart(anchor, _) => {
                    self.open(Value::Seq(Vec::new()), anchor, span)?
                }
                Event::MappingStart(anchor, _) => {
                    self.open(Value::Map(Vec::new()), anchor, span)?
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (mut node, anchor) = self.stack.pop().ok_or_else(|| SyntaxError {
                        pos: span.start,
                        message: "unbalanced collection end".into(),
                    })?;
                    self.pending_keys.pop();
                    node.span.end = span.end;
                    self.register(anchor, &node);
                    self.push(node, span)?;
                }
                Event::Alias(id) => {
                    let node = self
                        .anchors
                        .get(id)
                        .and_then(Option::as_ref)
                        .cloned()
                        .ok_or_else(|| SyntaxError {
                            pos: span.start,
                            message: "alias names an anchor that is not defined yet".into(),
                        })?;
                    let size = node.size();
                    if size > self.budget {
                        return Err(SyntaxError {
                            pos: span.start,
                            message: format!(
                                "aliases expand to more than {ALIAS_BUDGET} nodes; refusing the document"
                            ),
                        });
                    }
                    self.budget -= size;
                    self.push(node, span)?;
                }
                Event::DocumentEnd => {}
                Event::StreamStart
                | Event::StreamEnd
                | Event::DocumentStart(_)
                | Event::Nothing => {}
            }
        }
        Ok(self.docs)
    }

    fn open(&mut self, value: Value, anchor: usize, span: Span) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                pos: span.start,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        self.stack.push((Node { span, value }, anchor));
        self.pending_keys.push(None);
        Ok(())
    }

    fn register(&mut self, anchor: usize, node: &Node) {
        if anchor == 0 {
            return;
        }
        if self.anchors.len() <= anchor {
            self.anchors.resize(anchor + 1, None);
        }
        self.anchors[anchor] = Some(node.clone());
    }

    fn push(&mut self, node: Node, span: Span) -> Result<(), SyntaxError> {
        let Some((parent, _)) = self.stack.last_mut() else {
            self.docs.push(node);
            return Ok(());
        };
        match &mut parent.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => {
                let slot = self.pending_keys.last_mut().ok_or_else(|| SyntaxError {
                    pos: span.start,
                    message: "mapping value without a key".into(),
                })?;
                match slot.take() {
                    None => *slot = Some(node),
                    Some(key) => entries.push((key, node)),
                }
            }
            // Scalars are never pushed on the stack, so they are never a parent.
            Value::Scalar(..) => {}
        }
        Ok(())
    }
}

impl Node {
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
                if matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL") =>
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
        (node.as_str().expect("scalar").to_owned(), node.span)
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
