//! Reads Dockerfiles/Containerfiles: the images of `# syntax=`, `FROM` and `COPY --from`, with global `ARG`
//! defaults expanded, parser directives (`# escape=`), line continuations and heredocs handled.

use std::collections::HashMap;

use crate::inputs::document::{Document, Image, ImageOrigin};
use crate::inputs::interpolate::{Escape, interpolate};
use crate::text::Pos;

/// A Dockerfile that cannot be read, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileError {
    pub pos: Pos,
    pub message: String,
}

/// One instruction after joining continuation lines.
#[derive(Debug)]
pub struct Instruction {
    /// Upper-cased (`FROM`, `RUN`, `USER` …).
    pub keyword: String,
    /// The arguments, continuation lines joined.
    pub args: String,
    /// Line of the keyword.
    pub line: usize,
    /// For each joined piece: (offset in `args`, line, column of that offset).
    pieces: Vec<(usize, usize, usize)>,
}

impl Instruction {
    /// Line and 1-based column of a byte offset into `args`.
    pub fn pos(&self, offset: usize) -> Pos {
        let (start, line, column) = self
            .pieces
            .iter()
            .rev()
            .find(|(start, ..)| *start <= offset)
            .copied()
            .unwrap_or((0, 1, 1));
        let chars = self.args[start..offset].chars().count();
        Pos {
            line,
            column: column + chars,
        }
    }
}

/// Collects the images a Dockerfile pulls.
pub fn read_dockerfile(doc: &mut Document, text: &str) -> Result<(), DockerfileError> {
    let (escape, syntax, instructions) = split(text);
    if let Some(s) = syntax {
        let location =
            doc.line_location(s.line, s.column, s.image.chars().count(), "syntax".into());
        doc.images.push(Image {
            value: s.image,
            origin: ImageOrigin::DockerfileSyntax,
            location,
            via: None,
            unresolved: None,
            dynamic: None,
        });
    }
    let mut global_args: HashMap<String, Option<String>> = HashMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut seen_from = false;
    for ins in &instructions {
        match ins.keyword.as_str() {
            "ARG" if !seen_from => {
                for (name, default) in parse_arg(&ins.args) {
                    let value = default.and_then(|d| {
                        interpolate(&d, Escape::Char(escape), &|n| {
                            global_args.get(n).cloned().flatten()
                        })
                        .ok()
                    });
                    global_args.insert(name, value);
                }
            }
            "FROM" => {
                seen_from = true;
                let tokens = tokens(&ins.args);
                let mut rest = tokens.iter().skip_while(|(_, t)| t.starts_with("--"));
                let Some(&(offset, image)) = rest.next() else {
                    return Err(DockerfileError {
                        pos: ins.pos(0),
                        message: "FROM needs an image (`FROM image[:tag][@digest] [AS name]`)"
                            .into(),
                    });
                };
                let stage_name = match (rest.next(), rest.next()) {
                    (Some((_, kw)), Some((_, name))) if kw.eq_ignore_ascii_case("as") => {
                        name.to_ascii_lowercase()
                    }
                    _ => String::new(),
                };
                let index = stages.len();
                let symbolic = if stage_name.is_empty() {
                    format!("stages[{index}].from")
                } else {
                    format!("stages[{index}]({stage_name}).from")
                };
                push_image(
                    doc,
                    ins,
                    offset,
                    image,
                    escape,
                    &global_args,
                    &stages,
                    symbolic,
                    ImageOrigin::DockerfileFrom,
                );
                stages.push(stage_name);
            }
            "COPY" => {
                for &(offset, token) in &tokens(&ins.args) {
                    if !token.starts_with("--") {
                        break;
                    }
                    let Some(from) = token.strip_prefix("--from=") else {
                        continue;
                    };
                    if from.chars().all(|c| c.is_ascii_digit()) {
                        continue;
                    }
                    let index = stages.len().saturating_sub(1);
                    let value_offset = offset + "--from=".len();
                    let symbolic = format!("stages[{index}].copy-from");
                    push_image(
                        doc,
                        ins,
                        value_offset,
                        from,
                        escape,
                        &global_args,
                        &stages,
                        symbolic,
                        ImageOrigin::DockerfileCopyFrom,
                    );
                }
            }
            "RUN" => {
                for (value_offset, from) in mount_sources(&ins.args) {
                    if from.chars().all(|c| c.is_ascii_digit()) {
                        continue;
                    }
                    let index = stages.len().saturating_sub(1);
                    push_image(
                        doc,
                        ins,
                        value_offset,
                        from,
                        escape,
                        &global_args,
                        &stages,
                        format!("stages[{index}].run-mount-from"),
                        ImageOrigin::DockerfileRunMount,
                    );
                }
            }
            _ => {}
        }
    }
    doc.instructions = instructions;
    Ok(())
}

/// The `from=` of each `--mount=` flag of a `RUN` (a stage, a build context or an image),
/// with its byte offset in `args`.
fn mount_sources(args: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    for (offset, token) in tokens(args) {
        if !token.starts_with("--") {
            break;
        }
        let Some(spec) = token.strip_prefix("--mount=") else {
            continue;
        };
        let mut at = offset + "--mount=".len();
        for field in spec.split(',') {
            if let Some(from) = field.strip_prefix("from=")
                && !from.is_empty()
            {
                out.push((at + "from=".len(), from));
            }
            at += field.len() + 1;
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn push_image(
    doc: &mut Document,
    ins: &Instruction,
    offset: usize,
    written: &str,
    escape: char,
    args: &HashMap<String, Option<String>>,
    stages: &[String],
    symbolic: String,
    origin: ImageOrigin,
) {
    let (value, unresolved) = match interpolate(written, Escape::Char(escape), &|n| {
        args.get(n).cloned().flatten()
    }) {
        Ok(value) => (value, None),
        // Set only by `--build-arg`: the file pins nothing unless it writes the digest.
        Err(_) if written.contains("@sha256:") => return,
        Err(name) => (written.to_owned(), Some(name)),
    };
    let lower = value.to_ascii_lowercase();
    if lower == "scratch" || stages.iter().any(|s| !s.is_empty() && *s == lower) {
        return;
    }
    let pos = ins.pos(offset);
    let via = (value != written).then(|| written.to_owned());
    let location = doc.line_location(pos.line, pos.column, written.chars().count(), symbolic);
    doc.images.push(Image {
        value,
        origin,
        location,
        via,
        unresolved,
        dynamic: None,
    });
}

/// `ARG A=1 B="x y" C` → names with optional defaults (quotes removed).
fn parse_arg(args: &str) -> Vec<(String, Option<String>)> {
    tokens(args)
        .into_iter()
        .map(|(_, t)| match t.split_once('=') {
            Some((name, value)) => {
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or(value);
                (name.to_owned(), Some(value.to_owned()))
            }
            None => (t.to_owned(), None),
        })
        .collect()
}

/// Whitespace-separated tokens with their byte offsets.
fn tokens(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (start, c.is_whitespace()) {
            (None, false) => start = Some(i),
            (Some(st), true) => {
                out.push((st, &s[st..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

/// A `# syntax=<image>` directive: the BuildKit frontend image the build pulls first.
struct Syntax {
    line: usize,
    column: usize,
    image: String,
}

/// Splits the file into instructions; returns the escape character and `# syntax=` directive.
fn split(text: &str) -> (char, Option<Syntax>, Vec<Instruction>) {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut escape = '\\';
    let mut syntax = None;
    let mut i = 0;
    // Parser directives: `# key=value` lines at the very top.
    while let Some(line) = lines.get(i) {
        let Some(body) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = body.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        if key.contains(char::is_whitespace) {
            break;
        }
        if key == "escape" && value.trim() == "`" {
            escape = '`';
        }
        if key == "syntax" && !value.trim().is_empty() {
            let image = value.trim().to_owned();
            let column = line
                .find(image.as_str())
                .map_or(1, |b| line[..b].chars().count() + 1);
            syntax = Some(Syntax {
                line: i + 1,
                column,
                image,
            });
        }
        i += 1;
    }
    let mut out = Vec::new();
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        i += 1;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let line_no_start = i;
        let indent = line.len() - trimmed.len();
        let kw_len = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let keyword = trimmed[..kw_len].to_ascii_uppercase();
        let after_kw = &trimmed[kw_len..];
        let lead = after_kw.len() - after_kw.trim_start().len();
        let mut args = String::new();
        let mut pieces = Vec::new();
        let mut piece = after_kw.trim_start();
        let mut line_no = i;
        let mut column = line[..indent + kw_len + lead].chars().count() + 1;
        loop {
            let (content, continues) = match piece.trim_end().strip_suffix(escape) {
                Some(c) => (c, true),
                None => (piece, false),
            };
            pieces.push((args.len(), line_no, column));
            args.push_str(content);
            if !continues {
                break;
            }
            args.push(' ');
            // Next non-comment line continues the instruction.
            let mut next = None;
            while i < lines.len() {
                let l = lines[i];
                i += 1;
                let t = l.trim_start();
                if t.starts_with('#') || t.is_empty() {
                    continue;
                }
                next = Some((l, i));
                break;
            }
            let Some((l, n)) = next else { break };
            let t = l.trim_start();
            piece = t;
            line_no = n;
            column = l[..l.len() - t.len()].chars().count() + 1;
        }
        // Heredoc bodies (`RUN <<EOF`, `COPY <<-"EOF" f`) are not instructions.
        for (strip_tabs, word) in heredocs(&args) {
            while i < lines.len() {
                let l = lines[i];
                i += 1;
                let l = if strip_tabs {
                    l.trim_start_matches('\t')
                } else {
                    l
                };
                if l == word {
                    break;
                }
            }
        }
        out.push(Instruction {
            keyword,
            args,
            line: line_no_start,
            pieces,
        });
    }
    (escape, syntax, out)
}

/// Heredoc markers in an instruction: `<<WORD`, `<<-WORD`, `<<"WORD"`, `<<'WORD'`.
fn heredocs(args: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut rest = args;
    while let Some(at) = rest.find("<<") {
        let mut s = &rest[at + 2..];
        let strip = s.starts_with('-');
        if strip {
            s = &s[1..];
        }
        let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'');
        if let Some(q) = quote {
            s = &s[1..];
            if let Some(end) = s.find(q) {
                out.push((strip, s[..end].to_owned()));
            }
        } else {
            let end = s
                .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
                .unwrap_or(s.len());
            let word = &s[..end];
            if word
                .chars()
                .next()
                .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
            {
                out.push((strip, word.to_owned()));
            }
        }
        rest = s;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_continuations_and_heredocs() {
        let text = "# escape=`\nFROM `\n  alpine:3 AS a\nRUN <<EOF\nFROM nope\nEOF\nfrom b\n";
        let (escape, syntax, ins) = split(text);
        assert_eq!(escape, '`');
        assert!(syntax.is_none());
        let (_, syntax, _) = split("# syntax = docker/dockerfile:1\nFROM x\n");
        let syntax = syntax.expect("directive");
        assert_eq!(
            (syntax.line, syntax.column, syntax.image.as_str()),
            (1, 12, "docker/dockerfile:1")
        );
        let kws: Vec<_> = ins.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(kws, ["FROM", "RUN", "FROM"]);
        let first = &ins[0];
        let off = first.args.find("alpine").expect("token");
        assert_eq!(first.pos(off), Pos { line: 3, column: 3 });
    }

    #[test]
    fn arg_parsing() {
        assert_eq!(
            parse_arg("A=1 B=\"x:y\" C"),
            vec![
                ("A".into(), Some("1".into())),
                ("B".into(), Some("x:y".into())),
                ("C".into(), None)
            ]
        );
    }
}

#[cfg(test)]
mod mount_tests {
    #[test]
    fn mount_sources() {
        let args =
            "--mount=type=cache,target=/c --mount=type=bind,from=ghcr.io/o/a:1,target=/b cp /b /x";
        let got = super::mount_sources(args);
        assert_eq!(got.len(), 1);
        let (offset, from) = got[0];
        assert_eq!(from, "ghcr.io/o/a:1");
        assert_eq!(&args[offset..offset + from.len()], from);
        assert!(super::mount_sources("echo --mount=from=x").is_empty());
    }
}
