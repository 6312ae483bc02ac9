//! Source text with a line index, so looking up line N is O(1) even in a 10 MB file, and the
//! positions ([`Pos`], [`Span`]) that inputs, findings and renderers share.

use std::sync::Arc;

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

#[derive(Debug)]
pub struct Text {
    text: Arc<str>,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl Text {
    pub fn new(text: impl Into<Arc<str>>) -> Self {
        let text = text.into();
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, starts }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Line `n` (1-based) without its line ending (`\n` or `\r\n`).
    pub fn line(&self, n: usize) -> Option<&str> {
        if self.starts.get(n.checked_sub(1)?) == Some(&self.text.len()) && n > 1 {
            return None;
        }
        let line = self.line_with_cr(n)?;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    /// Line `n` (1-based) without its `\n` but with any `\r` before it.
    pub fn line_with_cr(&self, n: usize) -> Option<&str> {
        let start = *self.starts.get(n.checked_sub(1)?)?;
        let end = self.starts.get(n).map_or(self.text.len(), |next| next - 1);
        self.text.get(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::Text;

    #[test]
    fn lines() {
        let t = Text::new("a\r\nbc\n\nd");
        assert_eq!(t.line(1), Some("a"));
        assert_eq!(t.line(2), Some("bc"));
        assert_eq!(t.line(3), Some(""));
        assert_eq!(t.line(4), Some("d"));
        assert_eq!(t.line(5), None);
        assert_eq!(t.line(0), None);
        assert_eq!(Text::new("x\n").line(2), None);
    }
}
