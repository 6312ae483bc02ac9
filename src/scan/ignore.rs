//! Ignores: `.trivyignore` (ids, `exp:YYYY-MM-DD`), `.trivyignore.yaml` (per class: `id`,
//! `paths`, `purls`, `expired_at`, `statement`) and cicd's own `policy.trivy.ignores`, which
//! must give a `reason` and an `expires` date. Matching follows Trivy's rules; each ignore
//! remembers what it matched so expired, expiring and stale ones can be reported.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;

use super::purl::Purl;
use super::{Class, TrivyFinding};
use crate::time;

/// Trivy ignore files list findings by hand; a larger one is refused, not read on.
const MAX_IGNORE_BYTES: u64 = 16 << 20;

/// Where an ignore was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    TrivyIgnore,
    TrivyIgnoreYaml,
    Cicd,
}

/// One ignore entry.
#[derive(Clone, Debug)]
pub struct Ignore {
    pub id: String,
    /// The classes it applies to (`.trivyignore` ids apply to every class).
    pub classes: Vec<Class>,
    pub paths: Vec<(String, GlobMatcher)>,
    pub purls: Vec<Purl>,
    /// Seconds since the epoch after which it no longer applies.
    pub expires: Option<i64>,
    pub reason: Option<String>,
    pub owner: Option<String>,
    /// `file:line` or `cicd.yaml: policy.trivy.ignores[2]`.
    pub source: String,
    pub origin: Origin,
}

/// An ignore from `cicd.yaml` (`policy.trivy.ignores[]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CicdIgnore {
    pub id: String,
    /// Why it is safe to ignore; written into the VEX statement.
    pub reason: String,
    /// `YYYY-MM-DD`: the ignore stops applying after this day.
    pub expires: String,
    pub owner: Option<String>,
    /// Limit to some classes (`vulnerability`, `misconfiguration`, `secret`, `license`).
    #[serde(default)]
    pub classes: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub purls: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct YamlFile {
    vulnerabilities: Vec<YamlEntry>,
    misconfigurations: Vec<YamlEntry>,
    secrets: Vec<YamlEntry>,
    licenses: Vec<YamlEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlEntry {
    id: String,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    purls: Vec<String>,
    #[serde(default)]
    expired_at: Option<Expiry>,
    #[serde(default)]
    statement: Option<String>,
}

/// `expired_at`, checked while the YAML is read so that a bad date is reported at its line.
struct Expiry(Option<i64>);

impl<'de> Deserialize<'de> for Expiry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().is_empty() {
            return Ok(Expiry(None));
        }
        time::parse(&s).map(|t| Expiry(Some(t))).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expired_at `{s}` is not a date (YYYY-MM-DD) or RFC 3339 time"
            ))
        })
    }
}

/// An error in an ignore file: where (`file:line:column` when known) and what.
#[derive(Debug, PartialEq, Eq)]
pub struct FileError {
    pub at: String,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// A YAML error at its line and column, worded as cicd.yaml's errors are.
fn yaml_error(shown: &str, e: &yaml_serde::Error) -> FileError {
    let raw = e.to_string();
    let message = match raw.rfind(" at line ") {
        Some(i) => raw[..i].to_owned(),
        None => raw.clone(),
    };
    let at = match e.location() {
        Some(l) => format!("{shown}:{}:{}", l.line(), l.column()),
        None => shown.to_owned(),
    };
    FileError { at, message }
}

fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("path pattern `{pattern}` is not a valid glob: {e}"))
}

fn globs(patterns: &[String]) -> Result<Vec<(String, GlobMatcher)>, String> {
    patterns
        .iter()
        .map(|p| glob(p).map(|g| (p.clone(), g)))
        .collect()
}

fn purls(list: &[String]) -> Result<Vec<Purl>, String> {
    list.iter()
        .map(|p| Purl::parse(p).ok_or_else(|| format!("`{p}` is not a package URL (pkg:type/…)")))
        .collect()
}

/// Reads an ignore file: YAML when its name ends in `.yaml`/`.yml` (as Trivy decides),
/// else the line format. Warnings (entries Trivy would skip too) go to `notes`.
pub fn read_file(path: &Path, notes: &mut Vec<String>) -> Result<Vec<Ignore>, FileError> {
    let fail = |message: String| FileError {
        at: path.display().to_string(),
        message,
    };
    let bytes = crate::fs::read_bounded(path, MAX_IGNORE_BYTES)
        .map_err(|e| fail(format!("could not be read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "not valid UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let shown = path.display().to_string();
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    if yaml {
        parse_yaml(&text, &shown)
    } else {
        Ok(parse_lines(&text, &shown, notes))
    }
}

/// `.trivyignore`: one id per line, `#` comments, optional `exp:YYYY-MM-DD`.
pub fn parse_lines(text: &str, shown: &str, notes: &mut Vec<String>) -> Vec<Ignore> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let mut expires = None;
        if let Some(exp) = fields.iter().find_map(|f| f.strip_prefix("exp:")) {
            // Trivy skips an entry whose date does not parse, with a warning; so do we.
            match time::parse_date(exp) {
                Some(t) => expires = Some(t),
                None => {
                    notes.push(format!(
                        "{shown}:{}: `exp:{exp}` is not a date (YYYY-MM-DD); the entry is skipped, as Trivy does",
                        n + 1
                    ));
                    continue;
                }
            }
        }
        out.push(Ignore::bare(
            fields[0],
            expires,
            format!("{shown}:{}", n + 1),
            Origin::TrivyIgnore,
        ));
    }
    out
}

/// `.trivyignore.yaml`.
pub fn parse_yaml(text: &str, shown: &str) -> Result<Vec<Ignore>, FileError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let file: YamlFile = yaml_serde::from_str(text).map_err(|e| yaml_error(shown, &e))?;
    let mut out = Vec::new();
    let lists = [
        (
            Class::Vulnerability,
            "vulnerabilities",
            file.vulnerabilities,
        ),
        (
            Class::Misconfiguration,
            "misconfigurations",
            file.misconfigurations,
        ),
        (Class::Secret, "secrets", file.secrets),
        (Class::License, "licenses", file.licenses),
    ];
    for (class, key, entries) in lists {
        for (i, e) in entries.into_iter().enumerate() {
            let at = format!("{shown}: {key}[{i}]");
            let fail = |message: String| FileError {
                at: at.clone(),
                message,
            };
            let expires = e.expired_at.and_then(|x| x.0);
            out.push(Ignore {
                id: e.id,
                classes: vec![class],
                paths: globs(&e.paths).map_err(fail)?,
                purls: purls(&e.purls).map_err(fail)?,
                expires,
                reason: e.statement.filter(|s| !s.is_empty()),
                owner: None,
                source: at,
                origin: Origin::TrivyIgnoreYaml,
            });
        }
    }
    Ok(out)
}

/// cicd's own ignores; errors name the entry (`policy.trivy.ignores[i]`) and why.
pub fn from_config(
    entries: &[CicdIgnore],
    config: &str,
) -> Result<Vec<Ignore>, (usize, &'static str, String)> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if e.reason.trim().is_empty() {
                return Err((i, "reason", "an ignore needs a reason".to_owned()));
            }
            let expires = time::parse(&e.expires).ok_or_else(|| {
                (
                    i,
                    "expires",
                    format!("expires `{}` is not a date (YYYY-MM-DD)", e.expires),
                )
            })?;
            let classes = if e.classes.is_empty() {
                Class::ALL.to_vec()
            } else {
                e.classes
                    .iter()
                    .map(|c| {
                        Class::ALL
                            .into_iter()
                            .find(|k| k.as_str() == c.as_str())
                            .ok_or_else(|| {
                                (i, "classes", format!("unknown class `{c}`; classes are vulnerability, misconfiguration, secret, license"))
                            })
                    })
                    .collect::<Result<_, _>>()?
            };
            Ok(Ignore {
                id: e.id.clone(),
                classes,
                paths: globs(&e.paths).map_err(|m| (i, "paths", m))?,
                purls: purls(&e.purls).map_err(|m| (i, "purls", m))?,
                expires: Some(expires),
                reason: Some(e.reason.clone()),
                owner: e.owner.clone(),
                source: format!("{config}: policy.trivy.ignores[{i}]"),
                origin: Origin::Cicd,
            })
        })
        .collect()
}

impl Ignore {
    /// An id for every class, without paths, purls, reason or owner (a `.trivyignore` line).
    pub fn bare(id: &str, expires: Option<i64>, source: String, origin: Origin) -> Self {
        Self {
            id: id.to_owned(),
            classes: Class::ALL.to_vec(),
            paths: Vec::new(),
            purls: Vec::new(),
            expires,
            reason: None,
            owner: None,
            source,
            origin,
        }
    }

    /// Whether this ignore covers `f` (expiry aside), by Trivy's rules.
    pub fn matches(&self, f: &TrivyFinding) -> bool {
        let class = f.class();
        if !self.classes.contains(&class) {
            return false;
        }
        let path_ok =
            |p: &str| self.paths.is_empty() || self.paths.iter().any(|(_, g)| g.is_match(p));
        match class {
            Class::Vulnerability => {
                if self.id != f.id {
                    return false;
                }
                let purl_ok = self.purls.is_empty()
                    || f.purl
                        .as_deref()
                        .and_then(Purl::parse)
                        .is_none_or(|t| self.purls.iter().any(|p| p.matches(&t)));
                purl_ok && (path_ok(&f.target) || path_ok(f.path.as_deref().unwrap_or("")))
            }
            Class::Misconfiguration => {
                (self.id == f.id || f.aliases.contains(&self.id)) && path_ok(&f.target)
            }
            Class::Secret => self.id == f.id && path_ok(&f.target),
            Class::License => self.id == f.id && path_ok(f.path.as_deref().unwrap_or("")),
        }
    }

    pub fn expired(&self, now: i64) -> bool {
        self.expires.is_some_and(|t| t < now)
    }
}

/// What became of one ignore in a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Applied; expires within the warning window (days left).
    Expiring(i64),
    Applied,
    /// Past its date: no longer applies.
    Expired,
    /// In force but matched nothing.
    Stale,
}

impl State {
    pub fn as_str(&self) -> &'static str {
        match self {
            State::Expiring(_) => "expiring",
            State::Applied => "applied",
            State::Expired => "expired",
            State::Stale => "stale",
        }
    }
}

/// The ignores of a run and which findings each matched.
pub struct Applied {
    pub ignores: Vec<Ignore>,
    /// Per ignore: findings it matched (indexes into the findings it was applied to).
    pub matched: Vec<Vec<usize>>,
    pub states: Vec<State>,
}

impl Applied {
    /// Each ignore with the findings it matched and what became of it.
    pub fn iter(&self) -> impl Iterator<Item = (&Ignore, &[usize], &State)> {
        self.ignores
            .iter()
            .zip(&self.matched)
            .zip(&self.states)
            .map(|((ig, m), st)| (ig, m.as_slice(), st))
    }
}

/// Splits `findings` into kept and ignored. Expired ignores do not apply, but what they
/// would have matched is counted so the report can say so.
pub fn apply(
    ignores: Vec<Ignore>,
    findings: &[TrivyFinding],
    now: i64,
    warn_days: i64,
) -> (Vec<bool>, Applied) {
    let mut ignored = vec![false; findings.len()];
    let mut matched = vec![Vec::new(); ignores.len()];
    for (fi, f) in findings.iter().enumerate() {
        let mut applied = false;
        for (ii, ig) in ignores.iter().enumerate() {
            if ig.matches(f) {
                matched[ii].push(fi);
                if !ig.expired(now) && !applied {
                    applied = true;
                }
            }
        }
        ignored[fi] = applied;
    }
    let states = ignores
        .iter()
        .zip(&matched)
        .map(|(ig, m)| {
            if ig.expired(now) {
                State::Expired
            } else if m.is_empty() {
                State::Stale
            } else {
                match ig.expires {
                    Some(t) if t - now < warn_days * time::DAY => {
                        State::Expiring((t - now).div_euclid(time::DAY))
                    }
                    _ => State::Applied,
                }
            }
        })
        .collect();
    (
        ignored,
        Applied {
            ignores,
            matched,
            states,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vuln(id: &str, target: &str, path: Option<&str>, purl: Option<&str>) -> TrivyFinding {
        TrivyFinding {
            class: Some(Class::Vulnerability),
            id: id.into(),
            target: target.into(),
            path: path.map(Into::into),
            purl: purl.map(Into::into),
            ..TrivyFinding::default()
        }
    }

    #[test]
    fn trivyignore_lines_and_bad_dates() {
        let mut notes = Vec::new();
        let ig = parse_lines(
            "# c\n\nCVE-1\nCVE-2 exp:2026-01-31\nCVE-3 exp:31/01/2026\n",
            ".trivyignore",
            &mut notes,
        );
        let ids: Vec<&str> = ig.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["CVE-1", "CVE-2"]);
        assert_eq!(ig[1].source, ".trivyignore:4");
        assert_eq!(ig[1].expires, time::parse("2026-01-31"));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with(".trivyignore:5:"), "{notes:?}");
    }

    #[test]
    fn paths_are_doublestar_globs_on_target_or_package_path() {
        let ig = parse_yaml(
            "vulnerabilities:\n  - id: CVE-1\n    paths: [\"app/*.json\", \"**/METADATA\"]\n",
            "y",
        )
        .expect("parses");
        let m = |t: &str, p: Option<&str>| ig[0].matches(&vuln("CVE-1", t, p, None));
        assert!(m("app/package-lock.json", None));
        assert!(!m("app/sub/package-lock.json", None), "`*` stops at `/`");
        assert!(m("Python", Some("usr/lib/x-1.0.dist-info/METADATA")));
        assert!(!m("Python", None));
        assert!(!ig[0].matches(&vuln("CVE-2", "app/a.json", None, None)));
    }

    #[test]
    fn purls_match_like_trivy() {
        let ig = parse_yaml(
            "vulnerabilities:\n  - id: CVE-1\n    purls: [\"pkg:deb/debian/libc6?arch=amd64\"]\n",
            "y",
        )
        .expect("parses");
        let m = |purl: Option<&str>| ig[0].matches(&vuln("CVE-1", "img", None, purl));
        assert!(m(Some(
            "pkg:deb/debian/libc6@2.36?arch=amd64&distro=debian-12"
        )));
        assert!(!m(Some("pkg:deb/debian/libc6@2.36?arch=arm64")));
        assert!(m(None), "a finding without a purl is not narrowed by purls");
        assert!(parse_yaml("vulnerabilities:\n  - id: x\n    purls: [nope]\n", "y").is_err());
        assert!(parse_yaml("secrets:\n  - id: x\n    paths: [\"a[\"]\n", "y").is_err());
    }

    #[test]
    fn states() {
        let day = time::DAY;
        let mk =
            |id: &str, expires: Option<i64>| Ignore::bare(id, expires, id.into(), Origin::Cicd);
        let findings = [vuln("A", "t", None, None), vuln("B", "t", None, None)];
        let now = 100 * day;
        let (ignored, applied) = apply(
            vec![
                mk("A", Some(now + 3 * day)),
                mk("B", Some(now - 1)),
                mk("C", None),
                mk("A", None),
            ],
            &findings,
            now,
            14,
        );
        assert_eq!(ignored, [true, false]);
        assert_eq!(
            applied.states,
            [
                State::Expiring(3),
                State::Expired,
                State::Stale,
                State::Applied
            ]
        );
        assert_eq!(applied.matched[1], [1]);
    }
}
