//! Indentation inside flow collections, read as GitHub reads it.
//!
//! YAML 1.2 wants every line of a flow collection written in block context (`key: [` … `]`)
//! indented more than its key. libyaml never checks this, and neither do PyYAML or GitHub:
//! real workflows (pytest's, pluggy's and pytest-cov's main test workflows) close a matrix
//! list with `]` at the key's column. saphyr-parser (0.3.4, the newest) refuses such lines
//! with "invalid indentation", and only after a quoted scalar. Whitespace before the first
//! token of a line inside a flow collection carries no meaning, so when saphyr refuses a line
//! for that alone, the line is indented further and the stream read again; every position is
//! then mapped back to the text as written.

use std::collections::BTreeMap;

use super::{Node, Pos, SyntaxError, Value, build};
use crate::text::Text;

/// The errors saphyr raises for a line inside a flow collection that is not indented enough.
const FLOW_INDENT: [&str; 2] = [
    "invalid indentation",
    "invalid indentation in flow construct",
];
/// Widest padding tried on one line.
const MAX_PAD: usize = 512;
/// Bytes re-read at most while looking for the padding that works (each try reads it all).
const REREAD_BUDGET: usize = 64 << 20;

/// Reads `text` again after saphyr refused it with `first`, indenting refused lines inside
/// flow collections until it reads; any other error is returned at its written position.
pub(super) fn reread(text: &str, first: SyntaxError) -> Result<Vec<Node>, SyntaxError> {
    let mut tries = (REREAD_BUDGET / text.len().max(1)).clamp(1, 64);
    let mut pads: BTreeMap<usize, usize> = BTreeMap::new();
    let mut current = text.to_owned();
    let mut err = first;
    loop {
        if !FLOW_INDENT.contains(&err.message.as_str()) || tries == 0 {
            return Err(unpad_error(err, &pads));
        }
        let line = err.pos.line;
        let starts_line = current
            .split('\n')
            .nth(line.saturating_sub(1))
            .and_then(|l| l.find(|c: char| c != ' ' && c != '\t'))
            .is_some_and(|i| i + 1 == err.pos.column);
        let pad = pads.get(&line).map_or(1, |p| p * 2);
        if !starts_line || pad > MAX_PAD {
            return Err(unpad_error(err, &pads));
        }
        pads.insert(line, pad);
        current = padded(text, &pads);
        tries -= 1;
        match build::build(&Text::new(current.as_str())) {
            Ok(mut docs) => {
                for doc in &mut docs {
                    unpad_node(doc, &pads);
                }
                return Ok(docs);
            }
            Err(e) => err = e,
        }
    }
}

/// `text` with `pads[line]` spaces put before each padded line.
fn padded(text: &str, pads: &BTreeMap<usize, usize>) -> String {
    let mut out = String::with_capacity(text.len() + pads.values().sum::<usize>());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if let Some(pad) = pads.get(&(i + 1)) {
            out.extend(std::iter::repeat_n(' ', *pad));
        }
        out.push_str(line);
    }
    out
}

fn unpad(pos: &mut Pos, pads: &BTreeMap<usize, usize>) {
    if let Some(pad) = pads.get(&pos.line) {
        pos.column = pos.column.saturating_sub(*pad).max(1);
    }
}

fn unpad_error(mut err: SyntaxError, pads: &BTreeMap<usize, usize>) -> SyntaxError {
    unpad(&mut err.pos, pads);
    err
}

fn unpad_node(node: &mut Node, pads: &BTreeMap<usize, usize>) {
    let mut span = node.span();
    unpad(&mut span.start, pads);
    unpad(&mut span.end, pads);
    node.set_span(span);
    match &mut node.value {
        Value::Scalar(..) => {}
        Value::Seq(items) => items.iter_mut().for_each(|n| unpad_node(n, pads)),
        Value::Map(entries) => {
            for (k, v) in entries.iter_mut() {
                unpad_node(k, pads);
                unpad_node(v, pads);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    /// The shape of pytest's, pluggy's and pytest-cov's test workflows.
    #[test]
    fn closing_bracket_at_the_keys_column() {
        let text = "jobs:\n  t:\n    matrix:\n      target: [\n        \"py39\",\n        \"py313\",\n      ]\n    after: x\n";
        let docs = parse(text).expect("GitHub reads this");
        let target = docs[0]
            .get("jobs")
            .and_then(|j| j.get("t"))
            .and_then(|t| t.get("matrix"))
            .and_then(|m| m.get("target"))
            .expect("target");
        let items = target.as_seq().expect("a list");
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].span().start, Pos { line: 6, column: 9 });
        assert_eq!(target.span().end, Pos { line: 7, column: 8 });
        let after = docs[0]
            .get("jobs")
            .and_then(|j| j.get("t"))
            .and_then(|t| t.get("after"));
        assert_eq!(
            after.map(|a| a.span().start),
            Some(Pos {
                line: 8,
                column: 12
            })
        );
    }

    /// yaml-test-suite 9C9N ("Wrong indented flow sequence"): an error for YAML 1.2, read by
    /// libyaml, PyYAML and GitHub.
    #[test]
    fn flow_lines_left_of_the_key_are_read_as_libyaml_reads_them() {
        let docs = parse("---\nflow: [a,\nb,\nc]\n").expect("read as libyaml does");
        let flow = docs[0].get("flow").and_then(Node::as_seq).expect("seq");
        let values: Vec<_> = flow.iter().filter_map(Node::as_str).collect();
        assert_eq!(values, ["a", "b", "c"]);
        assert_eq!(flow[1].span().start, Pos { line: 3, column: 1 });
        assert_eq!(flow[2].span().start, Pos { line: 4, column: 1 });
    }

    /// yaml-test-suite cases about indentation that must keep their verdict.
    #[test]
    fn yaml_test_suite_indentation_cases() {
        // ZK9H "Nested top level flow mapping": valid.
        let docs = parse("{ key: [[[\n  value\n ]]]\n}\n").expect("ZK9H");
        assert!(docs[0].get("key").is_some());
        // 6CA3 "Tab indented top flow": valid.
        assert!(parse("\t[\n\t]\n").is_ok(), "6CA3");
        // 4HVU "Wrong indendation in Sequence" and N4JP "Bad indentation in mapping": block
        // indentation is meaning, not layout: still errors (PyYAML refuses them too).
        let err = parse("key:\n   - ok\n   - also ok\n  - wrong\n").expect_err("4HVU");
        assert_eq!(err.pos.line, 4, "{err}");
        let err =
            parse("map:\n  key1: \"quoted1\"\n key2: \"bad indentation\"\n").expect_err("N4JP");
        assert_eq!(err.pos.line, 3, "{err}");
        // DK4H "Implicit key followed by newline": an error, padding or not.
        assert!(parse("---\n[ key\n  : value ]\n").is_err(), "DK4H");
    }

    #[test]
    fn other_errors_keep_their_written_position() {
        let err = parse("a:\n  b: [\n    \"x\",\n  ]\n  c: {d: 1\n").expect_err("unclosed");
        assert!(err.pos.line >= 5, "{err}");
    }
}
