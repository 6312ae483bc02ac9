//! Builds the span tree from `saphyr-parser` events: scalars keep their source text and
//! exact spans, aliases expand under a budget, nesting is bounded.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

use super::{Node, Pos, Span, Style, SyntaxError, Value};
use crate::text::Text;

/// Builds the tree of every document in `text`.
pub(super) fn build(text: &Text) -> Result<Vec<Node>, SyntaxError> {
    Builder::default().run(text)
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

/// Most nodes alias expansion may copy before a document is refused ("billion laughs").
pub(super) const ALIAS_BUDGET: usize = 100_000;
/// Deepest nesting accepted; deeper documents are refused instead of overflowing the stack.
const MAX_DEPTH: usize = 256;

fn span_from_parser(span: saphyr_parser::Span) -> Span {
    let pos = |m: saphyr_parser::Marker| Pos {
        line: m.line(),
        column: m.col() + 1,
    };
    Span {
        start: pos(span.start),
        end: pos(span.end),
    }
}

/// A scalar's span starts at its properties (`&anchor`, `!tag`); move it to the value.
fn skip_properties(start: Pos, lines: &Text) -> Pos {
    // With any `\r`: saphyr's columns count it.
    let Some(line) = lines.line_with_cr(start.line) else {
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
fn scalar_end(span: Span, style: ScalarStyle, value: &str, lines: &Text) -> Pos {
    let Some(line) = lines.line_with_cr(span.start.line) else {
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

/// A scalar node, its span moved past properties and ended where its text ends.
fn scalar(value: Arc<str>, style: ScalarStyle, span: Span, lines: &Text) -> Node {
    let start = skip_properties(span.start, lines);
    let span = Span {
        start,
        end: scalar_end(Span { start, ..span }, style, &value, lines),
    };
    let style = match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
        _ => Style::Block,
    };
    Node::new(span, Value::Scalar(value, style))
}

/// Scalars at most this long are shared between the nodes that repeat them.
const INTERNED: usize = 64;

/// A collection being built: its kind, where it starts, its anchor, and where its children
/// start in [`Builder::children`].
struct Open {
    map: bool,
    span: Span,
    anchor: usize,
    first: usize,
}

#[derive(Default)]
struct Builder {
    anchors: Vec<Option<Node>>,
    stack: Vec<Open>,
    /// The children of every open collection, one after the other (a map's keys and values
    /// alternate): each collection is then allocated once, at its exact size.
    children: Vec<Node>,
    docs: Vec<Node>,
    budget: usize,
    interned: HashSet<Arc<str>>,
}

impl Builder {
    fn run(mut self, lines: &Text) -> Result<Vec<Node>, SyntaxError> {
        self.budget = ALIAS_BUDGET;
        for item in Parser::new_from_str(lines.as_str()) {
            let (event, span) = item?;
            let span = span_from_parser(span);
            match event {
                Event::Scalar(value, style, anchor, _tag) => {
                    let value = self.intern(value);
                    let node = scalar(value, style, span, lines);
                    self.register(anchor, &node);
                    self.push(node);
                }
                Event::SequenceStart(anchor, _) => self.open(false, anchor, span)?,
                Event::MappingStart(anchor, _) => self.open(true, anchor, span)?,
                Event::SequenceEnd | Event::MappingEnd => self.close(span)?,
                Event::Alias(id) => self.alias(id, span)?,
                Event::DocumentEnd
                | Event::StreamStart
                | Event::StreamEnd
                | Event::DocumentStart(_)
                | Event::Nothing => {}
            }
        }
        Ok(self.docs)
    }

    fn intern(&mut self, value: Cow<'_, str>) -> Arc<str> {
        if value.len() > INTERNED {
            return Arc::from(value.into_owned());
        }
        if let Some(shared) = self.interned.get(value.as_ref()) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(value.as_ref());
        self.interned.insert(shared.clone());
        shared
    }

    fn open(&mut self, map: bool, anchor: usize, span: Span) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                pos: span.start,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        let first = self.children.len();
        self.stack.push(Open {
            map,
            span,
            anchor,
            first,
        });
        Ok(())
    }

    fn close(&mut self, end: Span) -> Result<(), SyntaxError> {
        let open = self.stack.pop().ok_or_else(|| SyntaxError {
            pos: end.start,
            message: "unbalanced collection end".into(),
        })?;
        let value = {
            let mut children = self.children.drain(open.first..);
            if open.map {
                let mut entries = Vec::with_capacity(children.len() / 2);
                while let (Some(k), Some(v)) = (children.next(), children.next()) {
                    entries.push((k, v));
                }
                Value::Map(entries.into_boxed_slice())
            } else {
                Value::Seq(children.collect())
            }
        };
        let span = Span {
            start: open.span.start,
            end: end.end,
        };
        let node = Node::new(span, value);
        self.register(open.anchor, &node);
        self.push(node);
        Ok(())
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<(), SyntaxError> {
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
        self.push(node);
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

    fn push(&mut self, node: Node) {
        if self.stack.is_empty() {
            self.docs.push(node);
        } else {
            self.children.push(node);
        }
    }
}
