//! The in-toto Statement v1 cicd signs: one subject, the image digest (no name, as cosign v3
//! writes it), `-a k=v` annotations on that subject, and a predicate type with its predicate.

use std::collections::BTreeMap;

use serde::Serialize;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The predicate type cosign v3 uses for a plain image signature.
pub const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

#[derive(Serialize)]
struct Statement<'a> {
    #[serde(rename = "_type")]
    type_: &'static str,
    subject: [Subject<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: &'a serde_json::Value,
}

#[derive(Serialize)]
struct Subject<'a> {
    digest: BTreeMap<&'static str, &'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// The statement's JSON bytes for the image `digest` (`sha256:<hex>`).
pub fn statement(
    digest_hex: &str,
    annotations: &BTreeMap<String, String>,
    predicate_type: &str,
    predicate: &serde_json::Value,
) -> Vec<u8> {
    let s = Statement {
        type_: STATEMENT_TYPE,
        subject: [Subject {
            digest: BTreeMap::from([("sha256", digest_hex)]),
            annotations,
        }],
        predicate_type,
        predicate,
    };
    // A struct of strings and a JSON value always serializes.
    serde_json::to_vec(&s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_the_digest_without_a_name() {
        let a = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
        let bytes = statement("ab", &a, SIGN_PREDICATE, &serde_json::json!({}));
        assert_eq!(
            String::from_utf8(bytes).expect("utf8"),
            r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ab"},"annotations":{"env":"prod"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}"#
        );
    }
}
