//! The OIDC identity token a keyless signature is certified for: requested from GitHub
//! Actions (`ACTIONS_ID_TOKEN_REQUEST_URL` with `audience=sigstore`, bearer
//! `ACTIONS_ID_TOKEN_REQUEST_TOKEN`) or taken from `SIGSTORE_ID_TOKEN`. The token is a
//! secret from the moment it arrives: a `SecretString`, masked for the runner, never in an
//! error message (a malformed answer is described, not quoted).

use secrecy::{ExposeSecret, SecretString};

use super::KeylessError;
use crate::github::actions::Runtime;

pub const REQUEST_URL_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
pub const REQUEST_TOKEN_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
/// A token obtained elsewhere (another CI, a test), as sigstore's clients read it.
pub const TOKEN_ENV: &str = "SIGSTORE_ID_TOKEN";
/// The most bytes the token endpoint's answer may have.
const MAX_ANSWER: usize = 64 << 10;

fn service(reason: impl Into<String>) -> KeylessError {
    KeylessError::Service {
        service: "GitHub Actions OIDC token endpoint",
        reason: reason.into(),
    }
}

/// The identity token for audience `sigstore`, masked for the runner.
pub async fn token(client: &reqwest::Client) -> Result<SecretString, KeylessError> {
    let token = match std::env::var(TOKEN_ENV) {
        Ok(t) if !t.is_empty() => SecretString::from(t),
        _ => from_actions(client).await?,
    };
    check_shape(token.expose_secret())?;
    let _ = Runtime::from_env().mask(token.expose_secret(), &mut std::io::stderr());
    Ok(token)
}

async fn from_actions(client: &reqwest::Client) -> Result<SecretString, KeylessError> {
    let (Ok(url), Ok(bearer)) = (
        std::env::var(REQUEST_URL_ENV),
        std::env::var(REQUEST_TOKEN_ENV),
    ) else {
        return Err(KeylessError::Usage(format!(
            "keyless signing needs an OIDC token: in GitHub Actions give the job `permissions: id-token: write` ({REQUEST_URL_ENV} and {REQUEST_TOKEN_ENV} are then set), elsewhere set {TOKEN_ENV} or sign with --key"
        )));
    };
    let bearer = SecretString::from(bearer);
    let mut url = reqwest::Url::parse(&url)
        .map_err(|e| KeylessError::Usage(format!("{REQUEST_URL_ENV} is not a URL: {e}")))?;
    url.query_pairs_mut().append_pair("audience", "sigstore");
    let answer = client
        .get(url)
        .header(
            reqwest::header::AUTHORIZATION,
            format!("bearer {}", bearer.expose_secret()),
        )
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| service(format!("request failed: {}", without_url(&e))))?;
    let status = answer.status();
    if !status.is_success() {
        return Err(service(format!("answered {status}")));
    }
    let body = answer
        .bytes()
        .await
        .map_err(|e| service(format!("reading the answer: {}", without_url(&e))))?;
    if body.len() > MAX_ANSWER {
        return Err(service(format!(
            "answer of {} bytes is too large",
            body.len()
        )));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        value: SecretString,
    }
    let parsed: Answer = serde_json::from_slice(&body)
        .map_err(|_| service("the answer is not JSON with a `value` string"))?;
    Ok(parsed.value)
}

/// reqwest's message without the URL (which may carry a query the runner considers secret).
fn without_url(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "transport error".into()
    }
}

/// A JWT is three URL-safe base64 parts: anything else (a newline, `::`, spaces) is refused
/// before it could reach a log, a header or a workflow command.
pub fn check_shape(token: &str) -> Result<(), KeylessError> {
    let parts: Vec<&str> = token.split('.').collect();
    let ok = parts.len() == 3
        && parts[..2].iter().all(|p| !p.is_empty())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(KeylessError::Usage(format!(
            "the OIDC token ({} bytes) is not a JWT (three URL-safe base64 parts); it is not shown",
            token.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jwt_shaped_tokens_pass_and_errors_do_not_quote_them() {
        check_shape("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_").expect("jwt");
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "a.b.c\n::set-output name=x::y",
            "a.b::c.d",
            "a b.c.d",
            ".b.c",
        ] {
            let e = check_shape(bad).expect_err(bad).to_string();
            assert!(bad.is_empty() || !e.contains(bad), "{e}");
        }
    }
}
