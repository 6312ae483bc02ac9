//! Keys made by code we did not write: a cosign key pair written by python `cryptography`
//! (scrypt, PKCS#8, P-256) and PyNaCl (secretbox) in cosign's documented format loads and
//! signs in cicd, and openssl checks the result with the python-made public key.

use super::*;
use crate::harness::images;

#[test]
fn a_key_written_by_python_cryptography_loads_and_signs() {
    let python = require_tool(
        "python3",
        "install python3 with `cryptography` and `pynacl` (scripts/test puts them in its venv)",
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let prefix = tmp.path().join("py");
    let out = std::process::Command::new(&python)
        .arg(crate::harness::data("sign/cosign_key.py"))
        .arg(&prefix)
        .env("COSIGN_PASSWORD", PASSWORD)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "the python key helper failed (needs `cryptography` and `pynacl`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = prefix.with_extension("key");
    let public = prefix.with_extension("pub");
    let lay = tmp.path().join("lay");
    let img = images::single(&lay, "v1", 1000, 51);
    let reference = format!("oci:{}:v1", s(&lay));
    // COSIGN_PASSWORD alone is enough.
    let out = cicd()
        .env_remove("CICD_KEY_PASSWORD")
        .env("COSIGN_PASSWORD", PASSWORD)
        .args(["sign", "--key", s(&key), "--tlog-upload=false", &reference])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, bundle) = Place::Layout(&lay).fallback_bundles(&img.digest).remove(0);
    check_bundle_independently(tmp.path(), &public, &bundle, &img.digest);
    ok(&[
        "verify",
        "--key",
        s(&public),
        "--insecure-ignore-tlog",
        &reference,
    ]);
}
