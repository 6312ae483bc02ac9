//! Cosign's key files: the encrypted private key (PEM `ENCRYPTED SIGSTORE PRIVATE KEY`, or
//! the older `ENCRYPTED COSIGN PRIVATE KEY`: JSON of scrypt parameters, a NaCl secretbox nonce
//! and the sealed PKCS#8 ECDSA P-256 key) and the public key (PEM `PUBLIC KEY`, SPKI).
//! The password comes from `CICD_KEY_PASSWORD` or `COSIGN_PASSWORD` and is never echoed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub const PASSWORD_ENVS: [&str; 2] = ["CICD_KEY_PASSWORD", "COSIGN_PASSWORD"];
const LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
const LEGACY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// scrypt cost cosign writes (go-securesystemslib's defaults): N = 2^15, r = 8, p = 1.
const LOG_N: u8 = 15;
/// The most memory scrypt may take for a key file (128·r·N bytes; cosign's own cost takes
/// 32 MiB), so a hostile file cannot exhaust memory or stall us.
const MAX_SCRYPT_BYTES: u64 = 256 << 20;
/// A PEM key file is a few hundred bytes; a larger one is refused, not read on.
const MAX_KEY_FILE_BYTES: u64 = 64 << 10;

/// The text of a PEM key file, read up to a cap (a symlink to `/dev/zero` is an error naming
/// the cap, not memory exhaustion).
pub fn read_pem(path: &std::path::Path) -> std::io::Result<String> {
    let bytes = crate::fs::read_bounded(path, MAX_KEY_FILE_BYTES)?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not PEM text"))
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Format(String),
    #[error("wrong password, or the key file was altered (the secretbox did not open)")]
    Decrypt,
    #[error(
        "no key password: set CICD_KEY_PASSWORD or COSIGN_PASSWORD (an empty value is allowed)"
    )]
    NoPassword,
}

/// The password from the environment; `None` when neither variable is set.
pub fn password_from_env() -> Option<SecretString> {
    PASSWORD_ENVS
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .map(SecretString::from)
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(with = "b64")]
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    #[serde(with = "b64")]
    salt: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    #[serde(with = "b64")]
    nonce: Vec<u8>,
}

mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

fn scrypt_key(
    password: &SecretString,
    salt: &[u8],
    p: &ScryptParams,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    if !p.n.is_power_of_two() || p.n < 2 {
        return Err(KeyError::Format(format!(
            "scrypt N = {} is not a power of two",
            p.n
        )));
    }
    let log_n = p.n.trailing_zeros() as u8;
    let memory = 128u64.saturating_mul(u64::from(p.r)).saturating_mul(p.n);
    if memory > MAX_SCRYPT_BYTES || p.r == 0 || p.p == 0 || p.p > 4 {
        return Err(KeyError::Format(format!(
            "scrypt parameters N={} r={} p={} are outside what cosign writes",
            p.n, p.r, p.p
        )));
    }
    let params = scrypt::Params::new(log_n, p.r, p.p, 32)
        .map_err(|e| KeyError::Format(format!("scrypt parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(
        password.expose_secret().as_bytes(),
        salt,
        &params,
        key.as_mut(),
    )
    .map_err(|e| KeyError::Format(format!("scrypt: {e}")))?;
    Ok(key)
}

/// A fresh P-256 key pair: the encrypted private key PEM and the public key PEM.
pub fn generate(password: &SecretString) -> Result<(String, String), KeyError> {
    use rand_core::RngCore;
    let key = SigningKey::random(&mut rand_core::OsRng);
    let pkcs8 = key
        .to_pkcs8_der()
        .map_err(|e| KeyError::Format(format!("PKCS#8 encoding: {e}")))?;
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    rand_core::OsRng.fill_bytes(&mut salt);
    rand_core::OsRng.fill_bytes(&mut nonce);
    let params = ScryptParams {
        n: 1 << LOG_N,
        r: 8,
        p: 1,
    };
    let secret = scrypt_key(password, &salt, &params)?;
    let ciphertext = XSalsa20Poly1305::new(secret.as_ref().into())
        .encrypt(Nonce::from_slice(&nonce), pkcs8.as_bytes())
        .map_err(|_| KeyError::Format("secretbox seal failed".into()))?;
    let sealed = Sealed {
        kdf: Kdf {
            name: "scrypt".into(),
            params,
            salt: salt.to_vec(),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: nonce.to_vec(),
        },
        ciphertext,
    };
    let json = serde_json::to_vec(&sealed).map_err(|e| KeyError::Format(e.to_string()))?;
    let private = pem_encode(LABEL, &json);
    Ok((private, public_pem(key.verifying_key())?))
}

/// The PEM of a public key, as cosign writes `cosign.pub`.
pub fn public_pem(key: &VerifyingKey) -> Result<String, KeyError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| KeyError::Format(format!("public key PEM: {e}")))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The one PEM block in `text`: its label and decoded bytes.
fn pem_decode(text: &str) -> Result<(String, Vec<u8>), KeyError> {
    let begin = text
        .find("-----BEGIN ")
        .ok_or_else(|| KeyError::Format("no PEM block (-----BEGIN ...-----)".into()))?;
    let rest = &text[begin + 11..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| KeyError::Format("unterminated PEM header".into()))?;
    let label = &rest[..label_end];
    let body = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body
        .find(&end_marker)
        .ok_or_else(|| KeyError::Format(format!("no `{end_marker}` line")))?;
    let b64: String = body[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = STANDARD
        .decode(b64)
        .map_err(|e| KeyError::Format(format!("PEM body is not base64: {e}")))?;
    Ok((label.to_owned(), bytes))
}

/// A private key file read but not yet opened (no scrypt run).
pub struct SealedKey(Sealed);

/// Reads a cosign private key file's structure: PEM label, JSON, algorithm names, sizes.
pub fn parse_private(pem: &str) -> Result<SealedKey, KeyError> {
    let (label, body) = pem_decode(pem)?;
    if label != LABEL && label != LEGACY_LABEL {
        return Err(KeyError::Format(format!(
            "PEM label `{label}`: expected `{LABEL}` (or `{LEGACY_LABEL}`), as cosign generate-key-pair writes"
        )));
    }
    let sealed: Sealed = serde_json::from_slice(&body)
        .map_err(|e| KeyError::Format(format!("encrypted key JSON: {e}")))?;
    if sealed.kdf.name != "scrypt" || sealed.cipher.name != "nacl/secretbox" {
        return Err(KeyError::Format(format!(
            "key is sealed with {} + {}; cosign keys use scrypt + nacl/secretbox",
            sealed.kdf.name, sealed.cipher.name
        )));
    }
    if sealed.cipher.nonce.len() != 24 {
        return Err(KeyError::Format("secretbox nonce is not 24 bytes".into()));
    }
    Ok(SealedKey(sealed))
}

/// Opens a cosign private key file's contents with `password`.
pub fn decrypt(pem: &str, password: &SecretString) -> Result<SigningKey, KeyError> {
    let SealedKey(sealed) = parse_private(pem)?;
    let secret = scrypt_key(password, &sealed.kdf.salt, &sealed.kdf.params)?;
    let pkcs8 = Zeroizing::new(
        XSalsa20Poly1305::new(secret.as_ref().into())
            .decrypt(
                Nonce::from_slice(&sealed.cipher.nonce),
                sealed.ciphertext.as_slice(),
            )
            .map_err(|_| KeyError::Decrypt)?,
    );
    SigningKey::from_pkcs8_der(&pkcs8)
        .map_err(|e| KeyError::Format(format!("sealed key is not a PKCS#8 P-256 key: {e}")))
}

/// Reads a public key PEM (`PUBLIC KEY`, SPKI) as cosign writes it.
pub fn public_key(pem: &str) -> Result<VerifyingKey, KeyError> {
    let (label, der) = pem_decode(pem)?;
    if label != "PUBLIC KEY" {
        return Err(KeyError::Format(format!(
            "PEM label `{label}`: expected `PUBLIC KEY`"
        )));
    }
    VerifyingKey::from_public_key_der(&der)
        .map_err(|e| KeyError::Format(format!("not an ECDSA P-256 public key: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_round_trips_and_wrong_password_fails() {
        let pw = SecretString::from("correct horse");
        let (private, public) = generate(&pw).expect("generate");
        assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let key = decrypt(&private, &pw).expect("decrypt");
        assert_eq!(&public_key(&public).expect("pub"), key.verifying_key());
        let legacy = private.replace(LABEL, LEGACY_LABEL);
        assert!(decrypt(&legacy, &pw).is_ok());
        assert!(matches!(
            decrypt(&private, &SecretString::from("wrong")),
            Err(KeyError::Decrypt)
        ));
    }

    #[test]
    fn hostile_scrypt_cost_is_refused_before_work() {
        let json = r#"{"kdf":{"name":"scrypt","params":{"N":1073741824,"r":8,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAA"}"#;
        let pem = pem_encode(LABEL, json.as_bytes());
        let err = decrypt(&pem, &SecretString::from("")).expect_err("refused");
        assert!(
            err.to_string().contains("outside what cosign writes"),
            "{err}"
        );
    }
}
