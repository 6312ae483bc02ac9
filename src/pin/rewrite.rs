//! Rewrites references in place: a `uses:` ref and its trailing comment, or an image reference
//! gaining its digest. Quoting, indentation, other keys on the line, anchors and line endings
//! stay byte for byte.

use crate::text::Pos;

/// One rewrite of the value at `start..end` (columns inside any quotes, as findings report
/// them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: Pos,
    pub end: Pos,
    pub what: What,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A `uses:` value gets `new_ref` after its last `@`; the line's comment becomes `comment`.
    Ref { new_ref: String, comment: String },
    /// The value is replaced whole (an image reference with its digest added).
    Value(String),
}

/// `name[:tag][@digest]` as written (a `docker://` prefix allowed) with `digest` in place of
/// any old one; a missing tag is written as `latest`, the tag the digest was resolved from.
pub fn with_digest(written: &str, digest: &str) -> String {
    let base = written.split_once('@').map_or(written, |(b, _)| b);
    let last = base.rsplit('/').next().unwrap_or(base);
    let tagged = last.contains(':') && !base.ends_with("docker:");
    if tagged {
        format!("{base}@{digest}")
    } else {
        format!("{base}:latest@{digest}")
    }
}

/// Applies edits to `text`; edits on lines that do not hold what they expect are skipped and
/// returned, so a file is never half-rewritten by guesswork.
pub fn apply(text: &str, edits: &[Edit]) -> (String, Vec<Edit>) {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let mut skipped = Vec::new();
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start.line, std::cmp::Reverse(e.start.column)));
    sorted.dedup_by(|a, b| a.start == b.start);
    for edit in sorted {
        let Some(line) = edit
            .start
            .line
            .checked_sub(1)
            .and_then(|i| lines.get_mut(i))
        else {
            skipped.push(edit.clone());
            continue;
        };
        match rewrite_line(line, edit) {
            Some(new) => *line = new,
            None => skipped.push(edit.clone()),
        }
    }
    (lines.join("\n"), skipped)
}

fn rewrite_line(line: &str, edit: &Edit) -> Option<String> {
    if edit.end.line != edit.start.line {
        return None;
    }
    let (body, cr) = match line.strip_suffix('\r') {
        Some(b) => (b, "\r"),
        None => (line, ""),
    };
    let byte = |col: usize| {
        body.char_indices()
            .nth(col - 1)
            .map_or(body.len(), |(i, _)| i)
    };
    let (from, to) = (byte(edit.start.column), byte(edit.end.column));
    let value = body.get(from..to)?;
    let (new_ref, comment) = match &edit.what {
        What::Value(v) => return Some(format!("{}{v}{}{cr}", &body[..from], &body[to..])),
        What::Ref { new_ref, comment } => (new_ref, comment),
    };
    let at = value.rfind('@')?;
    let mut after = to;
    // Step over the closing quote of a quoted value.
    if let (Some(open), Some(close)) = (body[..from].chars().next_back(), body[to..].chars().next())
        && open == close
        && (open == '"' || open == '\'')
    {
        after += close.len_utf8();
    }
    let rest = &body[after..];
    let new_value = format!("{}{new_ref}", &value[..=at]);
    let comment = format!("# {comment}");
    let tail = match rest.trim_start().strip_prefix('#') {
        // Only a comment follows: it is the version comment (or becomes it).
        Some(_) => {
            let gap = &rest[..rest.len() - rest.trim_start().len()];
            format!("{gap}{comment}")
        }
        None if rest.trim().is_empty() => format!(" {comment}"),
        // More YAML follows on the line (a flow mapping): the comment goes at its end,
        // replacing a comment already there.
        None => match comment_start(rest) {
            Some(i) => format!("{}{comment}", &rest[..i]),
            None => format!("{} {comment}", rest.trim_end()),
        },
    };
    Some(format!(
        "{}{}{}{}{}",
        &body[..from],
        new_value,
        &body[to..after],
        tail,
        cr
    ))
}

/// Where a YAML comment starts in `s` (a `#` after whitespace, outside quotes).
fn comment_start(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && prev.is_whitespace() => return Some(i),
            None => {}
        }
        prev = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    /// Finds `needle` on line `line` and pins it.
    fn pin(text: &str, line: usize, needle: &str) -> String {
        let l = text.split('\n').nth(line - 1).expect("line");
        let col = l[..l.find(needle).expect("needle")].chars().count() + 1;
        let edit = Edit {
            start: Pos { line, column: col },
            end: Pos {
                line,
                column: col + needle.chars().count(),
            },
            what: What::Ref {
                new_ref: SHA.into(),
                comment: "v4.2.2".into(),
            },
        };
        let (out, skipped) = apply(text, &[edit]);
        assert!(skipped.is_empty());
        out
    }

    #[test]
    fn forms() {
        let cases = [
            (
                "      - uses: actions/checkout@v4\n",
                "      - uses: actions/checkout@SHA # v4.2.2\n",
            ),
            (
                "  - uses: \"actions/checkout@v4\"\r\n",
                "  - uses: \"actions/checkout@SHA\" # v4.2.2\r\n",
            ),
            (
                "  - uses: 'actions/checkout@v4'   # v4\n",
                "  - uses: 'actions/checkout@SHA'   # v4.2.2\n",
            ),
            (
                "  - uses: &co actions/checkout@v4\n",
                "  - uses: &co actions/checkout@SHA # v4.2.2\n",
            ),
            (
                "  - { uses: actions/checkout@v4, with: {a: 1} }\n",
                "  - { uses: actions/checkout@SHA, with: {a: 1} } # v4.2.2\n",
            ),
            (
                "  - { uses: actions/checkout@v4, with: {a: '#'} } # old\n",
                "  - { uses: actions/checkout@SHA, with: {a: '#'} } # v4.2.2\n",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                pin(input, 1, "actions/checkout@v4"),
                want.replace("SHA", SHA),
                "{input:?}"
            );
        }
    }

    #[test]
    fn image_digests() {
        let d = "sha256:0000";
        assert_eq!(with_digest("alpine:3.19", d), "alpine:3.19@sha256:0000");
        assert_eq!(with_digest("alpine", d), "alpine:latest@sha256:0000");
        assert_eq!(
            with_digest("localhost:5000/app", d),
            "localhost:5000/app:latest@sha256:0000"
        );
        assert_eq!(
            with_digest("docker://ghcr.io/o/i:1@sha256:1111", d),
            "docker://ghcr.io/o/i:1@sha256:0000"
        );
        let text = "  image: \"redis:7\" # cache\r\n";
        let edit = Edit {
            start: Pos {
                line: 1,
                column: 11,
            },
            end: Pos {
                line: 1,
                column: 18,
            },
            what: What::Value(with_digest("redis:7", d)),
        };
        assert_eq!(
            apply(text, &[edit]).0,
            "  image: \"redis:7@sha256:0000\" # cache\r\n"
        );
    }

    #[test]
    fn mismatched_edits_are_skipped() {
        let edit = Edit {
            start: Pos { line: 1, column: 1 },
            end: Pos { line: 1, column: 4 },
            what: What::Ref {
                new_ref: SHA.into(),
                comment: "x".into(),
            },
        };
        let (out, skipped) = apply("abc\n", &[edit]);
        assert_eq!(out, "abc\n");
        assert_eq!(skipped.len(), 1);
    }
}
