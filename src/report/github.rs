//! `--format github`: one `::error file=…,line=…,col=…,title=…::message` workflow command
//! per finding, escaped as the runner expects.

use std::io::{self, Write};

use super::{Finding, Report, slash_path};

/// Escapes a workflow-command message (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value (also `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn annotation(f: &Finding) -> String {
    let mut props = Vec::new();
    if let Some(loc) = &f.location {
        props.push(format!("file={}", escape_property(&slash_path(&loc.file))));
        props.push(format!("line={}", loc.start.line));
        props.push(format!("col={}", loc.start.column));
        props.push(format!("endLine={}", loc.end.line));
        if loc.end.line == loc.start.line {
            props.push(format!("endColumn={}", loc.end.column));
        }
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("{} ({})", f.rule, f.severity))
    ));
    let mut message = f.message.clone();
    if let Some(fix) = &f.fix {
        message.push_str("\nFix: ");
        message.push_str(fix);
    }
    format!("::error {}::{}", props.join(","), escape_data(&message))
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        writeln!(out, "{}", annotation(f))?;
    }
    for p in &report.problems {
        let mut props = vec![format!("file={}", escape_property(&slash_path(&p.file)))];
        if let Some(line) = p.line {
            props.push(format!("line={line}"));
        }
        if let Some(col) = p.column {
            props.push(format!("col={col}"));
        }
        props.push("title=cicd: unreadable input".into());
        writeln!(
            out,
            "::error {}::{}",
            props.join(","),
            escape_data(&p.message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_data("a%b\r\nc"), "a%25b%0D%0Ac");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
