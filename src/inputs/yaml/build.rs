//! Builds the span tree from `saphyr-parser` events: scalars keep their source text and
//! exact spans, aliases expand under a budget, nesting is bounded.

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

use super::{Node, Pos, Span, Style, SyntaxError, Value};

/// Builds the tree of every document in `text`.
pub(super) fn build(text: &str) -> Result<Vec<Node>, SyntaxError> {
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

/// A scalar node, its span moved past properties and ended where its text ends.
fn scalar(value: String, style: ScalarStyle, span: Span, lines: &[&str]) -> Node {
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
    Node {
        span,
        value: Value::Scalar(value, style),
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
            let span = span_from_parser(span);
            match event {
                Event::Scalar(value, style, anchor, _tag) => {
                    let node = scalar(value.into_owned(), style, span, &lines);
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
