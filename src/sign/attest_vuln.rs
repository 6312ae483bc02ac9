//! The cosign vulnerability predicate (`https://cosign.sigstore.dev/attestation/vuln/v1`)
//! for a Trivy scan and the gate's verdict on it: `invocation`, `scanner` {uri, version, db,
//! result = the Trivy report}, `metadata` {scanStartedOn, scanFinishedOn}, plus `gate`. The
//! scan times are signed with the rest, so a verifier can hold a scan to a maximum age.

use serde_json::{Value, json};

/// What the predicate is made of.
pub struct Scan<'a> {
    /// The Trivy reports as read (JSON); one is `scanner.result`, several an array.
    pub reports: &'a [Value],
    /// The gate's verdict (`report::gate::Gate` as JSON).
    pub gate: Value,
    /// RFC 3339 time of the gate run, used where a report carries no `CreatedAt`.
    pub now: &'a str,
    /// The command line that made it (`invocation.parameters`).
    pub parameters: Vec<String>,
    /// The command that made it (`invocation["builder.id"]`): `cicd check trivy` or
    /// `cicd release`.
    pub builder: &'a str,
}

/// `builder` of a predicate `cicd check trivy --attest` makes.
pub const CHECK_TRIVY: &str = "cicd check trivy";
/// `builder` of a predicate `cicd release` makes for its gate.
pub const RELEASE: &str = "cicd release";

/// The predicate for `scan`.
pub fn predicate(scan: &Scan<'_>) -> Value {
    // Trivy writes `CreatedAt` in UTC or local time: compare instants, keep the text as
    // written; a value that is not RFC 3339 is not a time.
    let created: Vec<(&str, jiff::Timestamp)> = scan
        .reports
        .iter()
        .filter_map(|r| r.get("CreatedAt").and_then(Value::as_str))
        .filter_map(|s| s.parse::<jiff::Timestamp>().ok().map(|t| (s, t)))
        .collect();
    let started = created.iter().min_by_key(|c| c.1).map_or(scan.now, |c| c.0);
    let finished = created.iter().max_by_key(|c| c.1).map_or(scan.now, |c| c.0);
    let version = scan
        .reports
        .iter()
        .find_map(|r| r.pointer("/Trivy/Version").and_then(Value::as_str))
        .unwrap_or("");
    let uri = if version.is_empty() {
        "pkg:github/aquasecurity/trivy".to_owned()
    } else {
        format!("pkg:github/aquasecurity/trivy@{version}")
    };
    let result = match scan.reports {
        [one] => one.clone(),
        many => Value::Array(many.to_vec()),
    };
    json!({
        "invocation": {
            "parameters": scan.parameters,
            "uri": "",
            "event_id": "",
            "builder.id": scan.builder,
        },
        "scanner": {
            "uri": uri,
            "version": version,
            "db": {"uri": "", "version": ""},
            "result": result,
        },
        "metadata": {
            "scanStartedOn": started,
            "scanFinishedOn": finished,
        },
        "gate": scan.gate,
    })
}

/// When a vuln predicate says its scan finished (signed), for a maximum-age check.
pub fn scan_finished_on(predicate: &Value) -> Option<jiff::Timestamp> {
    predicate
        .pointer("/metadata/scanFinishedOn")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_come_from_the_reports_else_now() {
        let reports = [
            json!({"CreatedAt": "2026-01-30T10:00:00+02:00", "Trivy": {"Version": "0.58.1"}}),
            json!({"CreatedAt": "2026-01-30T09:30:00Z"}),
        ];
        let p = predicate(&Scan {
            reports: &reports,
            gate: json!({"result": "passed"}),
            now: "2026-01-31T12:00:00Z",
            parameters: vec![],
            builder: RELEASE,
        });
        assert_eq!(p["invocation"]["builder.id"], "cicd release");
        assert_eq!(p["metadata"]["scanStartedOn"], "2026-01-30T10:00:00+02:00");
        assert_eq!(p["metadata"]["scanFinishedOn"], "2026-01-30T09:30:00Z");
        assert_eq!(p["scanner"]["uri"], "pkg:github/aquasecurity/trivy@0.58.1");
        assert_eq!(p["scanner"]["result"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            scan_finished_on(&p).map(|t| t.as_second()),
            Some(1_769_765_400)
        );
        let bare = predicate(&Scan {
            reports: &[json!({"Results": []})],
            gate: json!({}),
            now: "2026-01-31T12:00:00Z",
            parameters: vec![],
            builder: CHECK_TRIVY,
        });
        assert_eq!(bare["invocation"]["builder.id"], "cicd check trivy");
        assert_eq!(bare["metadata"]["scanFinishedOn"], "2026-01-31T12:00:00Z");
        assert_eq!(bare["scanner"]["result"], json!({"Results": []}));
        assert_eq!(scan_finished_on(&json!({"metadata": {}})), None);
    }
}
