//! `compose-default-credential`: a secret-named variable set to a well-known default or a
//! placeholder (`admin`, `changeme`, `dev-secret-change-in-production`) in the repository.

use super::compose_optional_secret::references;
use super::env_file::env_file_vars;
use super::support::{environment, is_secret_name, services};
use super::{Context, Rule, RuleMeta};
use crate::inputs::document::Document;
use crate::report::Severity;

pub struct ComposeDefaultCredential;

static META: RuleMeta = RuleMeta {
    id: "compose-default-credential",
    summary: "secret set to a known default or placeholder",
    help: "Default and placeholder credentials (`admin`, `password`, `changeme`, \
           `secret`, `dev-secret-change-in-production` …) are the first ones tried, and a \
           compose file that writes one is how it reaches production. Take the value from \
           the environment and require it: `${DB_PASSWORD:?set DB_PASSWORD}`, or use a \
           Compose `secrets:` file kept out of the repository.",
    help_url: "https://cwe.mitre.org/data/definitions/1392.html",
    default_severity: Severity::High,
    online: false,
};

/// Values that are known defaults of images and tutorials (compared case-insensitively).
const DEFAULTS: &[&str] = &[
    "admin",
    "administrator",
    "password",
    "passw0rd",
    "pass",
    "changeme",
    "changeit",
    "secret",
    "root",
    "toor",
    "test",
    "guest",
    "default",
    "example",
    "123456",
    "12345678",
    "1234",
    "qwerty",
    "letmein",
    "postgres",
    "mysql",
    "redis",
    "minioadmin",
    "admin123",
    "password123",
    "supersecret",
    "mysecretpassword",
    "my-secret-pw",
    "secretkey",
    "token",
];

/// Fragments that mark a placeholder someone meant to replace.
const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "change-this",
    "change_this",
    "changethis",
    "change-in-production",
    "change_in_production",
    "replace-me",
    "replace_me",
    "replaceme",
    "your-secret",
    "your_secret",
    "yoursecret",
    "your-password",
    "your_password",
    "yourpassword",
    "your-token",
    "your_token",
    "dev-secret",
    "insecure",
    "not-secret",
];

/// Whether a literal value is a known default or placeholder.
pub fn is_default(value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
    !v.is_empty() && (DEFAULTS.contains(&v.as_str()) || PLACEHOLDERS.iter().any(|p| v.contains(p)))
}

impl Rule for ComposeDefaultCredential {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, doc: &Document, cx: &mut Context<'_>) {
        for (service_name, service, base) in services(doc) {
            for var in env_file_vars(doc, service, &base) {
                if is_secret_name(&var.name) && is_default(&var.value) {
                    cx.report(
                        Severity::High,
                        &var.location,
                        &var.name,
                        format!(
                            "service `{service_name}`'s env_file sets secret `{}` to `{}`, a known default or placeholder",
                            var.name,
                            var.value.trim()
                        ),
                        format!(
                            "leave `{}` out of the committed env file and set it in the environment, required: `${{{}:?set {}}}` (or use Compose `secrets:`)",
                            var.name, var.name, var.name
                        ),
                    );
                }
            }
            for var in environment(service, &base) {
                if !is_secret_name(&var.name) {
                    continue;
                }
                let Some(value) = &var.value else { continue };
                let refs = references(value);
                // A literal value, or the literal default of `${VAR:-default}`.
                let literal = if refs.is_empty() {
                    Some(value.as_str())
                } else {
                    refs.iter()
                        .filter(|r| !r.required)
                        .find_map(|r| r.default.as_deref().filter(|d| is_default(d)))
                };
                let Some(literal) = literal.filter(|l| is_default(l)) else {
                    continue;
                };
                let location = doc.location(var.node, var.path.clone());
                cx.report(
                    Severity::High,
                    &location,
                    &var.name,
                    format!(
                        "service `{service_name}` sets secret `{}` to `{}`, a known default or placeholder",
                        var.name,
                        literal.trim()
                    ),
                    format!(
                        "take it from the environment and require it: `{}: ${{{}:?set {}}}` (or use Compose `secrets:`)",
                        var.name, var.name, var.name
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn defaults() {
        for v in [
            "admin",
            "ChangeMe",
            "dev-secret-change-in-production",
            "'password'",
            "minioadmin",
        ] {
            assert!(super::is_default(v), "{v}");
        }
        for v in ["", "x9$Kq2!f", "${DB_PASSWORD}", "s3cr3t-from-vault-7781"] {
            assert!(!super::is_default(v), "{v}");
        }
    }
}
