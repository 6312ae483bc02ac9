//! Registry auth (htpasswd) and TLS with a CA made in the test: credentials from the
//! environment and from `cicd image login`; failures exit 3 naming the registry and what to
//! set; the password never appears in any output.

use crate::harness::cicd;
use crate::harness::images;
use crate::harness::registry::{PASSWORD, USER, htpasswd, tls};

fn all_output(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn htpasswd_registry_with_env_credentials_wrong_password_and_none() {
    let reg = htpasswd();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 2000, 91);
    let dst = format!("docker://{}/auth/app:v1", reg.addr);
    let home = tmp.path().join("home");
    let run = |user: Option<&str>, pass: Option<&str>| {
        let mut cmd = cicd();
        cmd.env("HOME", &home)
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGISTRY_AUTH_FILE");
        cmd.env_remove("CICD_REGISTRY_USERNAME")
            .env_remove("CICD_REGISTRY_PASSWORD");
        if let Some(u) = user {
            cmd.env("CICD_REGISTRY_USERNAME", u);
        }
        if let Some(p) = pass {
            cmd.env("CICD_REGISTRY_PASSWORD", p);
        }
        cmd.args([
            "image",
            "copy",
            &format!("oci:{}:v1", src.display()),
            &dst,
            "--json",
        ])
        .output()
        .expect("run")
    };
    let ok = run(Some(USER), Some(PASSWORD));
    assert!(ok.status.success(), "{}", all_output(&ok));
    assert!(all_output(&ok).contains(&img.digest));
    assert!(!all_output(&ok).contains(PASSWORD));

    let wrong = run(Some(USER), Some("not-the-password-xyz"));
    assert_eq!(wrong.status.code(), Some(3));
    let text = all_output(&wrong);
    assert!(
        text.contains(&format!("registry {} answered 401", reg.addr)),
        "{text}"
    );
    assert!(text.contains("CICD_REGISTRY_PASSWORD"), "{text}");
    assert!(!text.contains("not-the-password-xyz"));

    let none = run(None, None);
    assert_eq!(none.status.code(), Some(3));
    let text = all_output(&none);
    assert!(text.contains("no credentials for"), "{text}");
    assert!(text.contains("cicd image login"), "{text}");
}

#[test]
fn login_writes_docker_config_that_later_commands_use() {
    let reg = htpasswd();
    let tmp = tempfile::tempdir().expect("tmp");
    let docker = tmp.path().join("docker");
    let login = cicd()
        .env("DOCKER_CONFIG", &docker)
        .env_remove("CICD_REGISTRY_PASSWORD")
        .args(["image", "login", &reg.addr, "-u", USER, "--password-stdin"])
        .write_stdin(format!("{PASSWORD}\n"))
        .output()
        .expect("login");
    assert!(login.status.success(), "{}", all_output(&login));
    assert!(!all_output(&login).contains(PASSWORD));
    let cfg = std::fs::read_to_string(docker.join("config.json")).expect("config.json");
    assert!(cfg.contains(&reg.addr));
    let bad = cicd()
        .env("DOCKER_CONFIG", &docker)
        .args(["image", "login", &reg.addr, "-u", USER, "--password-stdin"])
        .write_stdin("wrong-one\n")
        .output()
        .expect("login");
    assert_eq!(bad.status.code(), Some(3));
    assert!(!all_output(&bad).contains("wrong-one"));
    // Later commands find the stored credentials.
    let src = tmp.path().join("src");
    images::single(&src, "v1", 1000, 92);
    let out = cicd()
        .env("DOCKER_CONFIG", &docker)
        .env_remove("CICD_REGISTRY_PASSWORD")
        .args([
            "image",
            "copy",
            &format!("oci:{}:v1", src.display()),
            &format!("docker://{}/login/app:v1", reg.addr),
        ])
        .output()
        .expect("copy");
    assert!(out.status.success(), "{}", all_output(&out));
}

#[test]
fn tls_registry_needs_the_ca() {
    let reg = tls();
    let ca = reg.ca.as_ref().expect("ca");
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 1000, 93);
    let dst = format!("docker://{}/tls/app:v1", reg.addr);
    let from = format!("oci:{}:v1", src.display());
    let out = cicd()
        .env_remove("SSL_CERT_FILE")
        .args(["image", "copy", &from, &dst])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", all_output(&out));
    assert!(
        all_output(&out).contains("--ca-cert"),
        "{}",
        all_output(&out)
    );
    let out = cicd()
        .args(["image", "copy", &from, &dst, "--ca-cert"])
        .arg(ca)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", all_output(&out));
    let out = cicd()
        .env("SSL_CERT_FILE", ca)
        .args(["image", "inspect", &dst, "--json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", all_output(&out));
    assert!(all_output(&out).contains(&img.digest));
}

/// The bearer flow against docker-registry's own token auth: a token per scope, reused;
/// an expired token fetched again; a service that only hands out expired tokens is exit 3.
#[test]
fn bearer_tokens_are_fetched_reused_and_renewed() {
    let _serial = crate::harness::token::serial();
    let reg = crate::harness::registry::token();
    let server = reg.token.as_ref().expect("token server");
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 50_000, 94);
    let from = format!("oci:{}:v1", src.display());
    let run = |dst: &str, pass: &str| {
        cicd()
            .env("CICD_REGISTRY_USERNAME", USER)
            .env("CICD_REGISTRY_PASSWORD", pass)
            .args(["image", "copy", &from, dst, "--json"])
            .output()
            .expect("run")
    };
    let issued = || server.issued.load(std::sync::atomic::Ordering::Relaxed);
    let before = issued();
    let out = run(&format!("docker://{}/bearer/app:v1", reg.addr), PASSWORD);
    assert!(out.status.success(), "{}{}", all_output(&out), reg.log());
    assert!(all_output(&out).contains(&img.digest));
    // Pull and push scopes: a handful of tokens for a dozen requests.
    let first = issued() - before;
    assert!((1..=3).contains(&first), "{first} tokens");
    // The first token handed out is expired: the registry refuses it, cicd asks again.
    server.expired.store(1, std::sync::atomic::Ordering::SeqCst);
    let out = run(
        &format!("docker://{}/bearer/renewed:v1", reg.addr),
        PASSWORD,
    );
    assert!(out.status.success(), "{}", all_output(&out));
    // Only expired tokens: exit 3 naming the registry and what to set.
    server
        .expired
        .store(100, std::sync::atomic::Ordering::SeqCst);
    let out = run(&format!("docker://{}/bearer/stale:v1", reg.addr), PASSWORD);
    server.expired.store(0, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(out.status.code(), Some(3), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(
        text.contains(&format!("registry {} answered 401", reg.addr)),
        "{text}"
    );
    assert!(text.contains("CICD_REGISTRY_PASSWORD"), "{text}");
    // A wrong password is refused by the token service.
    let out = run(
        &format!("docker://{}/bearer/wrong:v1", reg.addr),
        "nope-nope",
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(!all_output(&out).contains("nope-nope"));
    assert!(!all_output(&out).contains(PASSWORD));
}

fn copy_with_env(
    reg_addr: &str,
    repo: &str,
    env: &[(&str, &std::ffi::OsStr)],
) -> std::process::Output {
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    images::single(&src, "v1", 500, 95);
    let mut cmd = cicd();
    cmd.env_remove("CICD_REGISTRY_USERNAME")
        .env_remove("CICD_REGISTRY_PASSWORD")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env("DOCKER_CONFIG", tmp.path().join("no-docker-config"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args([
        "image",
        "copy",
        &format!("oci:{}:v1", src.display()),
        &format!("docker://{reg_addr}/{repo}:v1"),
    ])
    .output()
    .expect("run")
}

/// `credHelpers` and `credsStore` run `docker-credential-<name> get` with the server on stdin.
#[test]
fn docker_credential_helpers_are_asked() {
    let reg = htpasswd();
    let tmp = tempfile::tempdir().expect("tmp");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let asked = tmp.path().join("asked");
    let helper = bin.join("docker-credential-cicdtest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\necho \"$server\" >> '{}'\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n",
            asked.display()
        ),
    )
    .expect("helper");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    for (n, config) in [
        format!(r#"{{"credHelpers":{{"{}":"cicdtest"}}}}"#, reg.addr),
        r#"{"credsStore":"cicdtest"}"#.to_owned(),
    ]
    .iter()
    .enumerate()
    {
        let docker = tmp.path().join(format!("docker{n}"));
        std::fs::create_dir_all(&docker).expect("mkdir");
        std::fs::write(docker.join("config.json"), config).expect("config");
        let out = copy_with_env(
            &reg.addr,
            &format!("helper/app{n}"),
            &[
                ("PATH", path.as_os_str()),
                ("DOCKER_CONFIG", docker.as_os_str()),
            ],
        );
        assert!(out.status.success(), "{}", all_output(&out));
        assert!(!all_output(&out).contains(PASSWORD));
    }
    let asked = std::fs::read_to_string(&asked).expect("helper was run");
    assert_eq!(
        asked.lines().filter(|l| *l == reg.addr).count(),
        2,
        "{asked}"
    );
}

/// Podman/skopeo's `auth.json` through `REGISTRY_AUTH_FILE`.
#[test]
fn registry_auth_file_is_read() {
    let reg = htpasswd();
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("auth.json");
    let auth = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{USER}:{PASSWORD}"),
    );
    std::fs::write(
        &file,
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr),
    )
    .expect("auth.json");
    let out = copy_with_env(
        &reg.addr,
        "authfile/app",
        &[("REGISTRY_AUTH_FILE", file.as_os_str())],
    );
    assert!(out.status.success(), "{}", all_output(&out));
    // skopeo reads the same file.
    let skopeo = crate::harness::require_tool("skopeo", "apt-get install skopeo");
    let (ok, text) = crate::harness::run_tool(
        &skopeo,
        &[
            "inspect".as_ref(),
            "--raw".as_ref(),
            "--tls-verify=false".as_ref(),
            "--authfile".as_ref(),
            file.as_os_str(),
            format!("docker://{}/authfile/app:v1", reg.addr).as_ref(),
        ],
    );
    assert!(ok, "{text}");
}

/// An identity token in Docker's config (what `docker login` stores for OAuth registries)
/// goes through the OAuth2 refresh-token POST; a stale one is exit 3 and never printed.
#[test]
fn identity_tokens_use_the_oauth2_flow() {
    use crate::harness::token::IDENTITY_TOKEN;
    let _serial = crate::harness::token::serial();
    let reg = crate::harness::registry::token();
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("src");
    let img = images::single(&src, "v1", 1000, 96);
    let run = |token: &str, repo: &str| {
        let docker = tmp.path().join(format!("docker-{repo}"));
        std::fs::create_dir_all(&docker).expect("mkdir");
        std::fs::write(
            docker.join("config.json"),
            format!(
                r#"{{"auths":{{"{}":{{"identitytoken":"{token}"}}}}}}"#,
                reg.addr
            ),
        )
        .expect("config");
        cicd()
            .env("DOCKER_CONFIG", &docker)
            .env_remove("CICD_REGISTRY_USERNAME")
            .env_remove("CICD_REGISTRY_PASSWORD")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("XDG_RUNTIME_DIR")
            .args([
                "image",
                "copy",
                &format!("oci:{}:v1", src.display()),
                &format!("docker://{}/oauth/{repo}:v1", reg.addr),
                "--json",
            ])
            .output()
            .expect("run")
    };
    let ok = run(IDENTITY_TOKEN, "ok");
    assert!(ok.status.success(), "{}", all_output(&ok));
    assert!(all_output(&ok).contains(&img.digest));
    assert!(!all_output(&ok).contains(IDENTITY_TOKEN));
    let stale = run("refresh-revoked-xyz", "stale");
    assert_eq!(stale.status.code(), Some(3));
    let text = all_output(&stale);
    assert!(
        text.contains(&format!("registry {} answered 401", reg.addr)),
        "{text}"
    );
    assert!(!text.contains("refresh-revoked-xyz"));
}
