//! Reads one report file in a single streaming pass and tells its format from its content:
//! Trivy JSON (`SchemaVersion` 2, `Results`), SARIF 2.1.0 (`runs`) or CycloneDX
//! (`bomFormat`, `vulnerabilities`). Only the fields the gate needs are kept; everything else
//! is skipped as it streams past, so memory follows the findings, not the file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::trivy::{cyclonedx, json, sarif};
use super::{Parsed, Problem};

/// Read buffer: large enough that the parser rarely waits on the file.
const BUF: usize = 256 * 1024;

/// Every top-level key any of the three formats uses; a format is recognised afterwards.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Top {
    // Trivy JSON
    #[serde(rename = "SchemaVersion")]
    schema_version: Option<Value>,
    #[serde(rename = "ArtifactName")]
    artifact_name: Option<String>,
    #[serde(rename = "Metadata")]
    trivy_metadata: Option<json::Metadata>,
    #[serde(rename = "Results")]
    results: Option<json::Results>,
    // SARIF
    runs: Option<Vec<sarif::Run>>,
    // SARIF ("2.1.0") and CycloneDX (an integer) both use `version`.
    version: Option<Value>,
    // CycloneDX
    #[serde(rename = "bomFormat")]
    bom_format: Option<String>,
    #[serde(rename = "metadata")]
    cdx_metadata: Option<cyclonedx::Metadata>,
    components: Option<cyclonedx::Components>,
    vulnerabilities: Option<Vec<cyclonedx::Vulnerability>>,
}

/// Reads `path` (shown to users as `shown`).
pub fn read(path: &Path, shown: &Path) -> Result<Parsed, Problem> {
    let problem = |msg: String| Problem::new(shown.to_path_buf(), None, msg);
    let file = File::open(path).map_err(|e| problem(format!("could not be read: {e}")))?;
    let mut reader = BufReader::with_capacity(BUF, file);
    let head = reader
        .fill_buf()
        .map_err(|e| problem(format!("could not be read: {e}")))?;
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    let (utf16, blank, first) = (
        head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]),
        head.iter().all(u8::is_ascii_whitespace),
        head.iter()
            .skip(if bom { 3 } else { 0 })
            .find(|b| !b.is_ascii_whitespace())
            .copied(),
    );
    if utf16 {
        return Err(problem(
            "is UTF-16, not UTF-8 JSON (PowerShell's `>` writes UTF-16): let Trivy write the file \
             with `--output FILE`"
                .into(),
        ));
    }
    if bom {
        reader.consume(3);
    }
    if blank {
        return Err(problem(
            "is empty: expected a Trivy report (JSON, SARIF or CycloneDX)".into(),
        ));
    }
    if first != Some(b'{') {
        return Err(problem(
            "is not a JSON object: expected a Trivy report (JSON, SARIF or CycloneDX)".into(),
        ));
    }
    parse(reader, shown)
}

/// Parses a report from any reader (the fuzz target feeds bytes here).
pub fn parse<R: Read>(reader: R, shown: &Path) -> Result<Parsed, Problem> {
    // serde_json reads byte by byte: the outer BufReader makes that cheap, and the check
    // beneath it sees whole blocks.
    let reader = BufReader::with_capacity(BUF, Utf8Check::new(reader));
    let mut de = serde_json::Deserializer::from_reader(reader);
    let top = Top::deserialize(&mut de).map_err(|e| json_problem(shown, &e))?;
    de.end().map_err(|e| json_problem(shown, &e))?;
    classify(top, shown)
}

fn classify(top: Top, shown: &Path) -> Result<Parsed, Problem> {
    let problem = |msg: String| Problem::new(shown.to_path_buf(), None, msg);
    if let Some(format) = &top.bom_format {
        if format != "CycloneDX" {
            return Err(problem(format!(
                "has bomFormat `{format}`; cicd reads CycloneDX, Trivy JSON and SARIF reports"
            )));
        }
        let Some(vulns) = top.vulnerabilities else {
            return Err(problem(
                "is a CycloneDX SBOM without `vulnerabilities`: scan it first \
                 (`trivy sbom --format json`) and gate on that report"
                    .into(),
            ));
        };
        return Ok(cyclonedx::findings(
            top.cdx_metadata,
            top.components.unwrap_or_default(),
            vulns,
            shown,
        ));
    }
    if let Some(runs) = top.runs {
        match top.version.as_ref().and_then(Value::as_str) {
            Some("2.1.0") => return Ok(sarif::findings(runs, shown)),
            other => {
                return Err(problem(format!(
                    "is SARIF version {}; cicd reads SARIF 2.1.0",
                    other.map_or_else(|| "(missing)".to_owned(), |v| format!("`{v}`"))
                )));
            }
        }
    }
    if top.schema_version.is_some() || top.results.is_some() {
        match top.schema_version.as_ref().and_then(Value::as_i64) {
            Some(2) => {}
            Some(v) => {
                return Err(problem(format!(
                    "has SchemaVersion {v}; cicd reads Trivy JSON reports of SchemaVersion 2 \
                     (Trivy 0.20 and later)"
                )));
            }
            None => {
                return Err(problem(match &top.schema_version {
                    Some(v) => format!("has SchemaVersion {v}, which is not the number 2"),
                    None => "has `Results` but no `SchemaVersion`; cicd reads Trivy JSON \
                             reports of SchemaVersion 2"
                        .into(),
                }));
            }
        }
        return Ok(json::findings(
            top.artifact_name.unwrap_or_default(),
            top.trivy_metadata,
            top.results.unwrap_or_default(),
            shown,
        ));
    }
    Err(problem(
        "is JSON but not a Trivy report: expected Trivy JSON (`SchemaVersion` 2 with `Results`), \
         SARIF 2.1.0 (`runs`) or CycloneDX with `vulnerabilities`"
            .into(),
    ))
}

/// A parse error as a problem at the line and column serde_json reports, with the reason in
/// words users know.
fn json_problem(shown: &Path, e: &serde_json::Error) -> Problem {
    use serde_json::error::Category;
    let line = e.line();
    let pos = (line > 0).then(|| crate::text::Pos {
        line,
        column: e.column().max(1),
    });
    let raw = e.to_string();
    let detail = match raw.rfind(" at line ") {
        Some(i) => raw[..i].to_owned(),
        None => raw,
    };
    let message = match e.classify() {
        Category::Eof => format!("truncated: the JSON ends early ({detail})"),
        Category::Syntax if detail.contains("unicode") || detail.contains("UTF-8") => {
            format!("not valid UTF-8 JSON ({detail})")
        }
        Category::Syntax => format!("not valid JSON: {detail}"),
        Category::Data => format!("unexpected report structure: {detail}"),
        Category::Io if detail.starts_with(NOT_UTF8) => detail,
        Category::Io => format!("could not be read: {detail}"),
    };
    Problem::new(shown.to_path_buf(), pos, message)
}

const NOT_UTF8: &str = "not valid UTF-8";

/// Checks that the bytes passing through are UTF-8 (serde_json only checks the strings it
/// keeps), counting lines so the error can say where. Sits under a `BufReader`, so it sees
/// large reads.
struct Utf8Check<R> {
    inner: R,
    /// The start of a sequence cut by the end of the last read.
    carry: [u8; 4],
    carried: usize,
    line: usize,
    offset: usize,
}

impl<R: Read> Utf8Check<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            carry: [0; 4],
            carried: 0,
            line: 1,
            offset: 0,
        }
    }

    fn invalid(&self, at: usize) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{NOT_UTF8}: line {}, byte offset {} (Trivy writes UTF-8; was the file re-encoded?)",
                self.line,
                self.offset + at
            ),
        )
    }

    /// Checks `bytes` (the continuation of any carried sequence); keeps a cut tail.
    fn check(&mut self, bytes: &[u8], end: bool) -> std::io::Result<()> {
        let mut start = 0;
        if self.carried > 0 {
            // Complete the carried sequence with the first bytes of this read.
            let mut seq = [0u8; 4];
            seq[..self.carried].copy_from_slice(&self.carry[..self.carried]);
            let mut len = self.carried;
            while len < 4 && start < bytes.len() {
                seq[len] = bytes[start];
                len += 1;
                start += 1;
                match std::str::from_utf8(&seq[..len]) {
                    Ok(_) => break,
                    Err(e) if e.error_len().is_some() => return Err(self.invalid(start)),
                    Err(_) => {}
                }
            }
            if std::str::from_utf8(&seq[..len]).is_err() {
                if end || len == 4 {
                    return Err(self.invalid(start));
                }
                self.carry[..len].copy_from_slice(&seq[..len]);
                self.carried = len;
                return Ok(());
            }
            self.carried = 0;
        }
        let rest = &bytes[start..];
        match std::str::from_utf8(rest) {
            Ok(_) => self.line += newlines(rest),
            Err(e) => {
                let valid = e.valid_up_to();
                self.line += newlines(&rest[..valid]);
                if e.error_len().is_some() || end {
                    return Err(self.invalid(start + valid));
                }
                let tail = &rest[valid..];
                self.carry[..tail.len()].copy_from_slice(tail);
                self.carried = tail.len();
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf8Check<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.check(&buf[..n], n == 0 && !buf.is_empty())?;
        self.offset += n;
        Ok(n)
    }
}

fn newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::path::Path;

    use super::{Utf8Check, parse};

    /// Hands out its bytes `step` at a time, so sequences are cut at every position.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn check(bytes: &[u8], step: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        Utf8Check::new(Trickle { bytes, step })
            .read_to_end(&mut out)
            .map(|_| out)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn utf8_check_across_reads() {
        let text = "a€b😀c\nö".as_bytes();
        for step in 1..8 {
            assert_eq!(check(text, step).as_deref(), Ok(text), "step {step}");
        }
        for bad in [
            &b"ab\n\xF6c"[..],
            b"\xE2\x82",
            b"x\xF0\x9F\x98",
            b"\xC3\x28",
        ] {
            for step in 1..5 {
                let err = check(bad, step).expect_err("invalid");
                assert!(err.starts_with("not valid UTF-8"), "{err}");
            }
        }
        assert!(check(b"ab\n\xF6c", 64).expect_err("bad").contains("line 2"));
    }

    #[test]
    fn detects_formats() {
        let p = Path::new("r.json");
        let json = br#"{"SchemaVersion":2,"ArtifactName":"a","Results":[{"Target":"t","Class":"secret","Secrets":[{"RuleID":"x","Severity":"HIGH"}]}]}"#;
        let parsed = parse(&json[..], p).expect("trivy json");
        assert_eq!((parsed.format, parsed.findings.len()), ("trivy-json", 1));
        let sarif = br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"Trivy","rules":[]}},"results":[]}]}"#;
        assert_eq!(parse(&sarif[..], p).expect("sarif").format, "sarif");
        let cdx = br#"{"bomFormat":"CycloneDX","version":1,"vulnerabilities":[]}"#;
        assert_eq!(parse(&cdx[..], p).expect("cdx").format, "cyclonedx");
        assert!(parse(&b"{}"[..], p).is_err());
    }
}
