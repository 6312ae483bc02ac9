//! Shell-style variable substitution as Dockerfiles and Compose files do it:
//! `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`,
//! `${VAR:?err}`. The escape differs: `\$` in Dockerfiles, `$$` in Compose.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    /// `<escape-char>$` is a literal `$` (Dockerfile; the escape char is `\` or `` ` ``).
    Char(char),
    /// `$$` is a literal `$` (Compose).
    Dollar,
}

/// Expands `text`; `Err(name)` names the first variable that has neither a value nor a default.
pub fn interpolate(
    text: &str,
    escape: Escape,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Escape::Char(e) = escape
            && c == e
            && text[i + c.len_utf8()..].starts_with('$')
        {
            out.push('$');
            chars.next();
            continue;
        }
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek().map(|&(_, c)| c) {
            Some('$') if escape == Escape::Dollar => {
                out.push('$');
                chars.next();
            }
            Some('{') => {
                chars.next();
                let body_start = i + 2;
                let mut depth = 1;
                let mut end = None;
                for (j, c) in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(j);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let Some(end) = end else {
                    // Unterminated: keep it literally, as both Docker and Compose error out later.
                    out.push_str(&text[i..]);
                    break;
                };
                out.push_str(&braced(&text[body_start..end], escape, lookup)?);
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let start = i + 1;
                let mut end = text.len();
                while let Some(&(j, c)) = chars.peek() {
                    if c == '_' || c.is_ascii_alphanumeric() {
                        chars.next();
                    } else {
                        end = j;
                        break;
                    }
                }
                let name = &text[start..end];
                out.push_str(&lookup(name).ok_or_else(|| name.to_owned())?);
            }
            _ => out.push('$'),
        }
    }
    Ok(out)
}

fn braced(
    body: &str,
    escape: Escape,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let name_end = body
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(body.len());
    let (name, op) = body.split_at(name_end);
    let value = lookup(name);
    let set_nonempty = value.as_deref().is_some_and(|v| !v.is_empty());
    let expand = |word: &str| interpolate(word, escape, lookup);
    if op.is_empty() {
        return value.ok_or_else(|| name.to_owned());
    }
    if let Some(word) = op.strip_prefix(":-") {
        return if set_nonempty {
            Ok(value.unwrap_or_default())
        } else {
            expand(word)
        };
    }
    if let Some(word) = op.strip_prefix(":+") {
        return if set_nonempty {
            expand(word)
        } else {
            Ok(String::new())
        };
    }
    if let Some(word) = op.strip_prefix('-') {
        return match value {
            Some(v) => Ok(v),
            None => expand(word),
        };
    }
    if let Some(word) = op.strip_prefix('+') {
        return if value.is_some() {
            expand(word)
        } else {
            Ok(String::new())
        };
    }
    // `:?err`, `?err` and pattern operators: only a known value makes it static.
    value.ok_or_else(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, escape: Escape) -> Result<String, String> {
        interpolate(text, escape, &|name| match name {
            "BASE" => Some("debian:12".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        })
    }

    #[test]
    fn expands_forms() {
        assert_eq!(run("${BASE}", Escape::Dollar).as_deref(), Ok("debian:12"));
        assert_eq!(
            run("$BASE-slim", Escape::Dollar).as_deref(),
            Ok("debian:12-slim")
        );
        assert_eq!(run("pg:${V:-16}", Escape::Dollar).as_deref(), Ok("pg:16"));
        assert_eq!(
            run("pg:${EMPTY:-16}", Escape::Dollar).as_deref(),
            Ok("pg:16")
        );
        assert_eq!(run("pg:${EMPTY-16}", Escape::Dollar).as_deref(), Ok("pg:"));
        assert_eq!(run("x${BASE:+-y}", Escape::Dollar).as_deref(), Ok("x-y"));
        assert_eq!(run("a$$b", Escape::Dollar).as_deref(), Ok("a$b"));
        assert_eq!(run("a\\$b", Escape::Char('\\')).as_deref(), Ok("a$b"));
        assert_eq!(run("${NOPE}", Escape::Dollar), Err("NOPE".into()));
        assert_eq!(
            run("${V:-${BASE}}", Escape::Dollar).as_deref(),
            Ok("debian:12")
        );
        assert_eq!(
            run("${unterminated", Escape::Dollar).as_deref(),
            Ok("${unterminated")
        );
    }
}
