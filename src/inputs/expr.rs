//! The values a GitHub Actions expression (`${{ … }}`) can produce, as far as a static reading
//! knows them: string literals and `matrix.`/`env.` variables in value position
//! (`inputs.image || 'ghcr.io/o/i:1'`, `x == 'true' && 'redis:7' || ''`), and everything
//! else (`inputs.*`, `vars.*`, `fromJSON(…)`, step outputs) named as unknowable.

/// One value an expression may evaluate to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand<'t> {
    /// A string literal, unquoted.
    Literal(String),
    /// `matrix.a.b` / `env.X`: namespace and property path.
    Var(&'static str, Vec<&'t str>),
    /// Known only at run time; the operand as written.
    Dynamic(&'t str),
}

/// The operands in value position: the last operand of each `&&` chain of each `||`
/// alternative. Comparisons, negations, numbers and booleans yield no image and are left out.
pub fn values(expr: &str) -> Vec<Operand<'_>> {
    values_at(expr, 0)
}

fn operand<'t>(text: &'t str, out: &mut Vec<Operand<'t>>, depth: usize) {
    if text.is_empty() || depth > 16 {
        return;
    }
    if let Some(inner) = wrapped(text) {
        out.extend(values_at(inner, depth + 1));
        return;
    }
    if let Some(lit) = literal(text) {
        out.push(Operand::Literal(lit));
        return;
    }
    let comparison = ["==", "!=", "<", ">"]
        .iter()
        .any(|op| split_top(text, op).len() > 1);
    if comparison || text.starts_with('!') {
        return;
    }
    let lower = text.to_ascii_lowercase();
    if matches!(lower.as_str(), "true" | "false" | "null") || text.parse::<f64>().is_ok() {
        return;
    }
    if let Some((ns, rest)) = text.split_once('.') {
        let ns = match ns {
            "matrix" => Some("matrix"),
            "env" => Some("env"),
            _ => None,
        };
        let path: Vec<&str> = rest.split('.').collect();
        let ident = |s: &&str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if let Some(ns) = ns
            && path.iter().all(ident)
        {
            out.push(Operand::Var(ns, path));
            return;
        }
    }
    out.push(Operand::Dynamic(text));
}

fn values_at(expr: &str, depth: usize) -> Vec<Operand<'_>> {
    let mut out = Vec::new();
    for alternative in split_top(expr, "||") {
        let chain = split_top(alternative, "&&");
        let Some(last) = chain.last() else { continue };
        operand(last.trim(), &mut out, depth);
    }
    out
}

/// `'it''s'` → `it's`; `None` unless the whole text is one literal.
fn literal(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return None;
        }
        out.push(c);
    }
    Some(out)
}

/// The inside of `( … )` when the parentheses wrap the whole text.
fn wrapped(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    (split_top(inner, ")").len() == 1 && balanced(inner)).then_some(inner)
}

fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// Splits on `op` outside quotes and parentheses.
fn split_top<'t>(text: &'t str, op: &str) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\'' {
            quoted = !quoted;
        } else if !quoted && c == b'(' {
            depth += 1;
        } else if !quoted && c == b')' {
            depth -= 1;
        } else if !quoted && depth == 0 && bytes[i..].starts_with(op.as_bytes()) {
            // `op` is ASCII, so a match starts and ends on character boundaries.
            out.push(&text[start..i]);
            i += op.len();
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(&text[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multibyte_text_never_splits_inside_a_character() {
        // Found by the `audit` fuzz target: slicing at a byte inside `é` panicked.
        assert_eq!(split_top("é&&x", "&&"), ["é", "x"]);
        assert_eq!(split_top("€€€", "&&"), ["€€€"]);
        let _ = values("${{ é || 'ü' && ñ }}");
    }

    fn lits(expr: &str) -> Vec<String> {
        values(expr)
            .into_iter()
            .map(|o| match o {
                Operand::Literal(l) => format!("'{l}'"),
                Operand::Var(ns, p) => format!("{ns}.{}", p.join(".")),
                Operand::Dynamic(d) => format!("?{d}"),
            })
            .collect()
    }

    #[test]
    fn value_positions() {
        assert_eq!(
            lits("inputs.image || 'ghcr.io/org/img:tag'"),
            ["?inputs.image", "'ghcr.io/org/img:tag'"]
        );
        assert_eq!(
            lits("inputs.use-redis == 'true' && 'redis:7' || ''"),
            ["'redis:7'", "''"]
        );
        assert_eq!(lits("matrix.image.container"), ["matrix.image.container"]);
        assert_eq!(
            lits("fromJSON(needs.a.outputs.m).image"),
            ["?fromJSON(needs.a.outputs.m).image"]
        );
        assert_eq!(
            lits("(github.event_name == 'push' && 'a:1') || 'b:2'"),
            ["'a:1'", "'b:2'"]
        );
        assert_eq!(lits("'it''s'"), ["'it's'"]);
        assert_eq!(lits("!cancelled()"), Vec::<String>::new());
        assert_eq!(lits("vars.IMAGE"), ["?vars.IMAGE"]);
    }
}
