//! Escaping of user-controlled text (messages, ids, paths from reports and workflows) for
//! each place it is shown. The Actions runner executes any stdout/stderr line that starts
//! with `::` once trimmed, so plain text never lets input start a line or break one.

/// Escapes a workflow-command message (`%`, CR, LF), as the runner unescapes them.
pub fn command_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value (also `:` and `,`).
pub fn command_property(s: &str) -> String {
    command_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Text from input, for plain output: on one line (`%`, CR and LF as `--format github`
/// writes them), never opening a workflow command (`::` at its start, `##[` anywhere).
pub fn plain(s: &str) -> String {
    let one_line = command_data(s).replace("##[", "##%5B");
    neutralise_start(&one_line)
}

/// `::` at the start of `s` (after blanks) as `%3A%3A`.
fn neutralise_start(s: &str) -> String {
    let trimmed = s.trim_start();
    match trimmed.strip_prefix("::") {
        Some(rest) => {
            let blanks = &s[..s.len() - trimmed.len()];
            format!("{blanks}%3A%3A{rest}")
        }
        None => s.to_owned(),
    }
}

/// A last guard over rendered plain output: no line opens a workflow command, whatever
/// a renderer (or a library it uses) did with the text it was given.
pub fn plain_lines(rendered: &str) -> String {
    let mut out = String::with_capacity(rendered.len());
    for line in rendered.split_inclusive('\n') {
        out.push_str(&neutralise_start(line).replace("##[", "##%5B"));
    }
    out
}

/// Serialised JSON with `##[` (the runner's legacy command marker, acted on anywhere in a
/// line) written as `##\u005b`: the same string to every JSON reader, inert to the runner.
/// `##[` can only occur inside JSON strings, so the document stays valid.
pub fn json(mut bytes: Vec<u8>) -> Vec<u8> {
    const MARK: &[u8] = b"##[";
    if !bytes.windows(MARK.len()).any(|w| w == MARK) {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut rest = bytes.as_slice();
    while let Some(i) = rest.windows(MARK.len()).position(|w| w == MARK) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(b"##\\u005b");
        rest = &rest[i + MARK.len()..];
    }
    out.extend_from_slice(rest);
    bytes.clear();
    out
}

/// A Markdown code span of `s` when nothing in it can end the span or the table cell,
/// else `s` as escaped text ([`markdown`]).
pub fn markdown_code(s: &str) -> String {
    if s.is_empty() || s.contains(['`', '\n', '\r', '|', '<', '&']) {
        markdown(s)
    } else {
        format!("`{s}`")
    }
}

/// Text for Markdown (a step summary table cell or list item): one line, with the
/// characters Markdown or HTML would act on backslash-escaped.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '!' | '~' | '#' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(command_data("a%b\r\nc"), "a%25b%0D%0Ac");
        assert_eq!(command_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(plain("x\n::add-mask::y"), "x%0A::add-mask::y");
        assert_eq!(plain("  ::error::y"), "  %3A%3Aerror::y");
        assert_eq!(
            plain_lines("ok\n ::set-output::x\n"),
            "ok\n %3A%3Aset-output::x\n"
        );
        assert_eq!(
            json(b"{\"a\":\"##[x\"}".to_vec()),
            b"{\"a\":\"##\\u005bx\"}"
        );
        assert_eq!(markdown("a|b<script>`x`\n"), "a\\|b\\<script\\>\\`x\\` ");
    }
}
