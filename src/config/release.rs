//! `release:` in `cicd.yaml`: how versions are tagged in git (`tag-prefix`, monorepo
//! `component`), how commits bump a 0.x version, which image tags a release sets (`tags:`), and
//! — read here, acted on by `cicd release` — `signing:` and `assets:`. Validation points at
//! file:line.

use serde::Deserialize;

use super::{ConfigError, Loaded};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReleaseConfig {
    /// Git tags are `<tag-prefix>X.Y.Z` (default `v`; `""` for bare versions).
    #[serde(default = "default_prefix")]
    pub tag_prefix: String,
    /// Monorepo: git tags are `<component>/<tag-prefix>X.Y.Z` and only those are read.
    /// (release-please's name for the same thing.)
    pub component: Option<String>,
    /// Below 1.0.0 a breaking change bumps the minor version, not the major (default true;
    /// false: the first breaking change releases 1.0.0). release-please's option name.
    #[serde(default = "yes")]
    pub bump_minor_pre_major: bool,
    /// Below 1.0.0 a feature bumps the patch version, not the minor (default true).
    #[serde(default = "yes")]
    pub bump_patch_for_minor_pre_major: bool,
    /// The image tags a release sets.
    #[serde(default)]
    pub tags: TagsConfig,
    /// How `cicd release` signs: absent means unsigned (and it says so).
    pub signing: Option<SigningConfig>,
    /// Globs (relative to the config file) of files attached to the GitHub release.
    #[serde(default)]
    pub assets: Vec<String>,
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        Self {
            tag_prefix: default_prefix(),
            component: None,
            bump_minor_pre_major: true,
            bump_patch_for_minor_pre_major: true,
            tags: TagsConfig::default(),
            signing: None,
            assets: Vec::new(),
        }
    }
}

impl ReleaseConfig {
    /// The git tag prefix including the component: `v`, or `api/v`.
    pub fn git_prefix(&self) -> String {
        match &self.component {
            Some(c) => format!("{c}/{}", self.tag_prefix),
            None => self.tag_prefix.clone(),
        }
    }
}

/// `release.tags`: the image tag scheme (see `crate::release::tags`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TagsConfig {
    /// Move `latest` to a stable release that is the highest released (default true).
    #[serde(default = "yes")]
    pub latest: bool,
    /// Set the floating `X` and `X.Y` tags (default true).
    #[serde(default = "yes")]
    pub floating: bool,
    /// A 0.x release also gets a bare `0` (default false: `0` promises nothing).
    #[serde(default)]
    pub zero_major: bool,
    /// Extra tags from templates: `{version}`, `{major}`, `{minor}`, `{patch}`, `{sha}`,
    /// `{short}` (7 hex), `{branch}` (made tag-safe: `feature/x` → `feature-x`).
    #[serde(default)]
    pub extra: Vec<String>,
}

impl Default for TagsConfig {
    fn default() -> Self {
        Self {
            latest: true,
            floating: true,
            zero_major: false,
            extra: Vec::new(),
        }
    }
}

/// `release.signing`: `{key: PATH}` or `{keyless: true}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SigningConfig {
    /// A cosign private key file, relative to the config file (password from
    /// `COSIGN_PASSWORD`, never from here).
    pub key: Option<String>,
    /// Keyless signing with the workflow's OIDC identity.
    #[serde(default)]
    pub keyless: bool,
    /// Log key-based signatures and attestations in Rekor (cosign's `--tlog-upload`; `false`
    /// for private setups and offline `--to oci:` releases). Keyless ones are always logged.
    #[serde(default = "yes")]
    pub tlog_upload: bool,
}

/// How a release signs, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signing<'a> {
    Key(&'a str),
    Keyless,
}

impl SigningConfig {
    /// The one mode this names (validation guarantees exactly one).
    pub fn mode(&self) -> Option<Signing<'_>> {
        match (&self.key, self.keyless) {
            (Some(k), false) => Some(Signing::Key(k)),
            (None, true) => Some(Signing::Keyless),
            _ => None,
        }
    }
}

fn default_prefix() -> String {
    "v".into()
}
fn yes() -> bool {
    true
}

/// The placeholders an extra tag template may use.
pub const TEMPLATE_FIELDS: [&str; 7] = [
    "version", "major", "minor", "patch", "sha", "short", "branch",
];

/// Checks what serde cannot: prefixes usable in a git ref, one signing mode, known template
/// placeholders, relative asset globs. Errors point at the offending value.
pub fn validate(loaded: &Loaded) -> Result<(), ConfigError> {
    let r = &loaded.config.release;
    let at = |keys: &[&str], message: String| {
        let mut path = vec!["release"];
        path.extend_from_slice(keys);
        loaded.error_at(&path, false, message)
    };
    if !ref_safe(&r.tag_prefix, true) {
        return Err(at(
            &["tag-prefix"],
            format!(
                "tag-prefix `{}`: use letters, digits, `-`, `_`, `.`, `/` (no `..`, no leading `/`)",
                r.tag_prefix
            ),
        ));
    }
    if let Some(c) = &r.component
        && (!ref_safe(c, false) || c.ends_with('/') || c.ends_with('.'))
    {
        return Err(at(
            &["component"],
            format!("component `{c}`: use letters, digits, `-`, `_`, `.`, `/`"),
        ));
    }
    for (i, t) in r.tags.extra.iter().enumerate() {
        if let Err(m) = check_template(t) {
            return Err(at(&["tags", "extra", &i.to_string()], m));
        }
    }
    if let Some(s) = &r.signing
        && s.mode().is_none()
    {
        return Err(at(
            &["signing"],
            "signing: give either `key: PATH` or `keyless: true` (omit `signing:` to release unsigned)"
                .into(),
        ));
    }
    if let Some(s) = &r.signing
        && s.keyless
        && !s.tlog_upload
    {
        return Err(at(
            &["signing", "tlog-upload"],
            "tlog-upload: false needs `key: PATH`: keyless signatures are always logged".into(),
        ));
    }
    for (i, g) in r.assets.iter().enumerate() {
        let escapes = g.starts_with('/') || g.split(['/', '\\']).any(|c| c == "..");
        let bad_glob = globset::Glob::new(g).err().map(|e| e.kind().to_string());
        if g.is_empty() || escapes || bad_glob.is_some() {
            return Err(at(
                &["assets", &i.to_string()],
                format!(
                    "asset `{g}`: {}",
                    bad_glob.unwrap_or_else(|| {
                        "expected a glob relative to the config file, without `..`".into()
                    })
                ),
            ));
        }
    }
    Ok(())
}

/// Characters git and every forge accept in a tag name, with no `..` and no `//`.
fn ref_safe(s: &str, empty_ok: bool) -> bool {
    (empty_ok || !s.is_empty())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
        && !s.contains("..")
        && !s.contains("//")
        && !s.starts_with(['/', '.', '-'])
        && !s.ends_with(".lock")
}

/// A template's placeholders are known and its literal text is tag-safe.
pub fn check_template(t: &str) -> Result<(), String> {
    let mut rest = t;
    let mut literal = String::new();
    let mut fields = 0;
    while let Some(open) = rest.find('{') {
        literal.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            return Err(format!("template `{t}`: `{{` is not closed"));
        };
        let name = &rest[open + 1..open + close];
        if !TEMPLATE_FIELDS.contains(&name) {
            return Err(format!(
                "template `{t}`: unknown placeholder `{{{name}}}`; use {}",
                TEMPLATE_FIELDS.map(|f| format!("{{{f}}}")).join(", ")
            ));
        }
        fields += 1;
        rest = &rest[open + close + 1..];
    }
    literal.push_str(rest);
    if literal.contains('}') {
        return Err(format!("template `{t}`: unmatched `}}`"));
    }
    if fields == 0 {
        return Err(format!(
            "template `{t}` has no placeholder: a fixed tag would move on every release"
        ));
    }
    if !literal
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(format!(
            "template `{t}`: outside placeholders use letters, digits, `-`, `_`, `.`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::test_support::line_of;

    fn load(text: &str) -> Result<Loaded, ConfigError> {
        crate::config::test_support::load(text, validate)
    }

    #[test]
    fn defaults_without_a_section() {
        let loaded = load("images: []\n").expect("valid");
        let r = &loaded.config.release;
        assert_eq!(r.git_prefix(), "v");
        assert!(r.bump_minor_pre_major && r.bump_patch_for_minor_pre_major);
        assert!(r.tags.latest && r.tags.floating && !r.tags.zero_major);
        assert!(r.signing.is_none() && r.assets.is_empty());
    }

    #[test]
    fn full_section_parses() {
        let text = "release:\n  tag-prefix: ''\n  component: api\n  bump-minor-pre-major: false\n  tags:\n    zero-major: true\n    latest: false\n    extra: ['sha-{short}', '{branch}']\n  signing: {key: cosign.key}\n  assets: ['dist/*.tar.gz']\n";
        let loaded = load(text).expect("valid");
        let r = &loaded.config.release;
        assert_eq!(r.git_prefix(), "api/");
        assert!(!r.bump_minor_pre_major);
        assert!(r.tags.zero_major && !r.tags.latest);
        assert_eq!(
            r.signing.as_ref().and_then(SigningConfig::mode),
            Some(Signing::Key("cosign.key"))
        );
        let keyless = load("release:\n  signing:\n    keyless: true\n").expect("valid");
        assert_eq!(
            keyless
                .config
                .release
                .signing
                .as_ref()
                .and_then(SigningConfig::mode),
            Some(Signing::Keyless)
        );
    }

    #[test]
    fn invalid_values_point_at_their_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("release:\n  tag-prefix: 'v..'\n", 2, "tag-prefix"),
            ("release:\n  tag-prefix: 'a b'\n", 2, "tag-prefix"),
            ("release:\n  component: ''\n", 2, "component"),
            (
                "release:\n  tags:\n    extra:\n      - ok-{short}\n      - '{nope}'\n",
                5,
                "nope",
            ),
            (
                "release:\n  tags:\n    extra: [fixed]\n",
                3,
                "no placeholder",
            ),
            (
                "release:\n  tags:\n    extra: ['a/{short}']\n",
                3,
                "outside",
            ),
            (
                "release:\n  tags:\n    extra: ['{short']\n",
                3,
                "not closed",
            ),
            ("release:\n  signing: {}\n", 2, "either"),
            (
                "release:\n  signing:\n    key: k\n    keyless: true\n",
                3,
                "either",
            ),
            ("release:\n  signing: {keyless: false}\n", 2, "either"),
            (
                "release:\n  signing:\n    keyless: true\n    tlog-upload: false\n",
                4,
                "always logged",
            ),
            ("release:\n  assets:\n    - ok\n    - ../x\n", 4, "without"),
            ("release:\n  assets: ['/etc/*']\n", 2, "without"),
            ("release:\n  assets: ['a[']\n", 2, "asset"),
            ("release:\n  lates: true\n", 2, "lates"),
            ("release:\n  tags: {latest: maybe}\n", 2, "latest"),
            (
                "release:\n  signing: {key: k, password: p}\n",
                2,
                "password",
            ),
        ];
        for (text, want_line, want) in cases {
            let (line, m) = line_of(load(text).expect_err(text));
            assert_eq!(line, *want_line, "{text}: {m}");
            assert!(m.contains(want), "{text}: {m}");
        }
    }
}
