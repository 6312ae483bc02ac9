//! `--format plain`: each finding as an annotated source snippet, then a one-line total.
//! Unreadable inputs go to standard error from the command, in every format.

use std::io::{self, Write};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Finding, Report, Severity, escape, slash_path};
use crate::text::Pos;
use crate::text::Text;

/// Longest span shown in full; longer ones show their first lines.
const MAX_LINES: usize = 6;

pub fn render(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    for f in &report.findings {
        let rendered = render_one(&renderer, report, f);
        writeln!(out, "{}\n", escape::plain_lines(&rendered))?;
    }
    for note in &report.notes {
        writeln!(out, "note: {}", escape::plain(note))?;
    }
    writeln!(out, "{}", report.headline())
}

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Critical | Severity::High => Level::ERROR,
        Severity::Medium => Level::WARNING,
        Severity::Low | Severity::Unknown => Level::NOTE,
    }
}

fn render_one(renderer: &Renderer, report: &Report, f: &Finding) -> String {
    let title = format!("{} ({})", escape::plain(&f.message), f.severity);
    let mut group = Group::with_title(level(f.severity).primary_title(title).id(f.rule.as_ref()));
    let path_string;
    if let Some(loc) = &f.location {
        path_string = escape::plain(&slash_path(&loc.file));
        match report
            .sources
            .get(&loc.file)
            .and_then(|text| excerpt(text, loc.start, loc.end))
        {
            Some((source, range)) => {
                let label = f
                    .subject
                    .as_deref()
                    .map(|s| format!("`{}`", escape::plain(s)))
                    .unwrap_or_default();
                group = group.element(
                    Snippet::source(source)
                        .line_start(loc.start.line)
                        .path(path_string.as_str())
                        .annotation(AnnotationKind::Primary.span(range).label(label)),
                );
            }
            None => {
                group = group.element(Level::NOTE.message(format!(
                    "at {}:{}:{}",
                    path_string, loc.start.line, loc.start.column
                )));
            }
        }
    }
    if let Some(fix) = &f.fix {
        group = group.element(Level::HELP.message(escape::plain(fix)));
    }
    renderer.render(&[group])
}

/// The lines a span covers (at most [`MAX_LINES`]) and the span's byte range within them.
fn excerpt(text: &Text, start: Pos, end: Pos) -> Option<(String, std::ops::Range<usize>)> {
    let last = end.line.max(start.line).min(start.line + MAX_LINES - 1);
    let lines: Vec<&str> = (start.line..=last).map_while(|n| text.line(n)).collect();
    if lines.is_empty() {
        return None;
    }
    let source = lines.join("\n");
    let byte_at = |line_idx: usize, column: usize| -> usize {
        let before: usize = lines[..line_idx].iter().map(|l| l.len() + 1).sum();
        let line = lines[line_idx];
        let within = line
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line.len(), |(i, _)| i);
        before + within
    };
    let from = byte_at(0, start.column);
    let to = if end.line > last || end.line < start.line {
        source.len()
    } else {
        byte_at(end.line - start.line, end.column)
    };
    Some((source, from..to.max(from)))
}
