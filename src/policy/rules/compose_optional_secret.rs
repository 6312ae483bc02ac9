//! `compose-optional-secret`: a secret-named variable filled from `${VAR}` or
//! `${VAR:-default}` lets the stack start with an empty or a default secret; `${VAR:?msg}`
//! makes Compose refuse to start without it.

use super::support::{environment, is_secret_name, services};
use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Document;
use crate::report::Severity;

pub struct ComposeOptionalSecret;

static META: RuleMeta = RuleMeta {
    id: "compose-optional-secret",
    summary: "secret interpolated without `${VAR:?}`",
    help: "Compose substitutes an unset `${VAR}` with an empty string (with a warning nobody \
           reads) and `${VAR:-default}` with the default, so a forgotten `.env` starts the \
           database with no password or with the one in the repository. Write \
           `${VAR:?set VAR}`: Compose then refuses to start and says which variable is missing.",
    help_url: "https://docs.docker.com/reference/compose-file/interpolation/",
    default_severity: Severity::Low,
    online: false,
};

/// One `${…}`/`$VAR` in a value.
#[derive(Debug, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    /// `Some(default)` for `${VAR:-default}`/`${VAR-default}`.
    pub default: Option<String>,
    /// `${VAR:?…}`/`${VAR?…}`.
    pub required: bool,
}

/// The variables a compose value interpolates (`$$` is a literal `$`).
pub fn references(value: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            rest = tail;
            continue;
        }
        if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else { break };
            let inner = &body[..end];
            let name_end = inner
                .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
                .unwrap_or(inner.len());
            let (name, op) = inner.split_at(name_end);
            let op = op.strip_prefix(':').unwrap_or(op);
            out.push(Reference {
                name: name.to_owned(),
                default: op.strip_prefix('-').map(str::to_owned),
                required: op.starts_with('?'),
            });
            rest = &body[end + 1..];
            continue;
        }
        let name_end = after
            .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
            .unwrap_or(after.len());
        if name_end > 0 {
            out.push(Reference {
                name: after[..name_end].to_owned(),
                default: None,
                required: false,
            });
        }
        rest = &after[name_end..];
    }
    out
}

impl Rule for ComposeOptionalSecret {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        for (service_name, service, base) in services(doc) {
            for var in environment(service, &base) {
                if !is_secret_name(&var.name) {
                    continue;
                }
                let Some(value) = &var.value else { continue };
                for r in references(value) {
                    if r.required || r.name.is_empty() {
                        continue;
                    }
                    let literal = r
                        .default
                        .as_deref()
                        .filter(|d| !d.is_empty() && !d.contains('$'));
                    let (severity, how) = match (&r.default, literal) {
                        // The literal itself stays out of the report: it may be a real secret.
                        (_, Some(_)) => (
                            Severity::Medium,
                            "defaults to a literal written in this file".to_owned(),
                        ),
                        (Some(_), None) => (Severity::Low, "has an empty default".to_owned()),
                        (None, None) => (Severity::Low, "is empty when unset".to_owned()),
                    };
                    let location = doc.location(var.node, var.path.clone());
                    cx.report(
                        severity,
                        &location,
                        &var.name,
                        format!(
                            "service `{service_name}` takes secret `{}` from `${{{}}}`, which {how}: the service starts without a real secret",
                            var.name, r.name
                        ),
                        format!("require it: `${{{}:?set {}}}`", r.name, r.name),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = references("${A:?need A}-${B:-x}-$C-$${D}-${E}-${F-}");
        let names: Vec<_> = r.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C", "E", "F"]);
        assert!(r[0].required);
        assert_eq!(r[1].default.as_deref(), Some("x"));
        assert_eq!(r[4].default.as_deref(), Some(""));
        assert!(references("${UNCLOSED").is_empty());
    }
}
