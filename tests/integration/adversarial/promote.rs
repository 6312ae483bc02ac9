//! `cicd promote` used as a hostile user would: history tags forged by someone with push
//! access (no record, or a record naming another digest) never satisfy `after:`; values with
//! a newline and `::` never open a workflow command (on the command line, as a finding id in
//! a signed scan report, or as a version in a history record, in every stream and the step
//! summary); a malformed digest for
//! `--rollback --to` is a usage error; a registry that stops answering during the history
//! claim ends with exit 3 naming it, the environment tag where it was and no success in any
//! output; one that never answers the environment tag's `PUT` (made at once with the history
//! tag's) leaves no sound history entry for the promotion that did not happen. See: issue 15.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::harness::cicd;
use crate::harness::registry::plain;
use crate::promote::*;

#[test]
fn a_forged_history_tag_does_not_satisfy_after() {
    let reg = plain();
    let w = World::new(&reg.addr, "adv-forged");
    w.config("");
    let src = w.repo("src");
    let real = w.push(&src, "real", 3101);
    w.sign(&format!("docker://{src}:real"), &w.key);
    w.ok(
        &["promote", &format!("{src}@{real}"), "--to", "staging"],
        NOW,
    );
    let forged = w.push(&src, "forged", 3102);
    w.sign(&format!("docker://{src}:forged"), &w.key);
    let staging = w.repo("staging");
    // Copied into staging and tagged like a history entry, without a record...
    w.ok(
        &[
            "image",
            "copy",
            &format!("docker://{src}@{forged}"),
            &format!("docker://{staging}:staging-20260101T000000Z"),
        ],
        NOW,
    );
    // ...and under a slot whose record (the real promotion's) names another digest.
    w.ok(
        &[
            "image",
            "tag",
            &format!("docker://{staging}@{forged}"),
            "staging-20260131T120000Z",
        ],
        NOW,
    );
    let h = w.history("staging");
    assert_eq!(h.len(), 2, "{h:?}");
    assert!(
        h.iter().all(|e| e["problem"].is_string()),
        "both entries are untrusted: {h:?}"
    );
    let out = w.run(
        &["promote", &format!("{src}@{forged}"), "--to", "production"],
        NOW,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never promoted to `staging`"));
}

#[test]
fn newlines_and_workflow_commands_in_values_stay_inert() {
    let reg = plain();
    let w = World::new(&reg.addr, "adv-text");
    w.config("");
    let src = w.repo("src");
    let d = w.push(&src, "v1", 3201);
    for args in [
        vec![
            "promote".to_owned(),
            format!("{src}@{d}"),
            "--to".into(),
            "stag\n::error::x".into(),
        ],
        vec![
            "promote".to_owned(),
            "--version".into(),
            "1.0.0\n::error::x".into(),
            "--image".into(),
            src.clone(),
            "--to".into(),
            "staging".into(),
        ],
        vec![
            "promote".to_owned(),
            "--rollback".into(),
            "staging".into(),
            "--to".into(),
            "sha256:\n::error::x".into(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = w.run(&args, NOW);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !text.lines().any(|l| l.trim_start().starts_with("::")),
                "{args:?}: {text}"
            );
        }
    }
}

/// A TCP relay to `upstream` that, once `armed`, stops forwarding and never answers (the
/// connection held open) as soon as a request names `trip`. HTTP/1.1 requests on one
/// connection are sequential, so scanning the bytes as they pass finds the request.
fn tripwire(upstream: &str, trip: &'static [u8], armed: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
    let addr = listener.local_addr().expect("addr").to_string();
    let upstream = upstream.to_owned();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (upstream, armed) = (upstream.clone(), armed.clone());
            std::thread::spawn(move || relay(conn, &upstream, trip, &armed));
        }
    });
    addr
}

fn relay(mut client: TcpStream, upstream: &str, trip: &[u8], armed: &AtomicBool) {
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    let (Ok(mut up_read), Ok(mut client_write)) = (up.try_clone(), client.try_clone()) else {
        return;
    };
    std::thread::spawn(move || std::io::copy(&mut up_read, &mut client_write));
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if armed.load(Ordering::SeqCst) && buf[..n].windows(trip.len()).any(|w| w == trip) {
            // Never answer; keep the connection open until the test ends.
            std::thread::sleep(Duration::from_secs(300));
            return;
        }
        if up.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

/// A promotion world whose registry is reached through a [`tripwire`] on `trip`: v1 pushed,
/// signed and promoted to staging, v2 pushed and signed, the trap not armed yet.
struct Trapped {
    armed: Arc<AtomicBool>,
    addr: String,
    w: World,
    src: String,
    v1: String,
    v2: String,
    staging: String,
}

impl Trapped {
    fn new(name: &str, trip: &'static [u8], (seed1, seed2): (u64, u64)) -> Self {
        let reg = plain();
        let armed = Arc::new(AtomicBool::new(false));
        let addr = tripwire(&reg.addr, trip, armed.clone());
        let w = World::new(&addr, name);
        w.config("");
        let src = w.repo("src");
        let v1 = w.push(&src, "v1", seed1);
        w.sign(&format!("docker://{src}:v1"), &w.key);
        w.ok(&["promote", &format!("{src}@{v1}"), "--to", "staging"], NOW);
        let v2 = w.push(&src, "v2", seed2);
        w.sign(&format!("docker://{src}:v2"), &w.key);
        let staging = format!("{}/promote/{name}/staging", reg.addr);
        Self {
            armed,
            addr,
            w,
            src,
            v1,
            v2,
            staging,
        }
    }

    /// `cicd promote SRC@v2 --to staging ARGS` with the trap armed (2 s HTTP timeout,
    /// `$GITHUB_OUTPUT` and the summary in the world's directory), disarmed after.
    fn promote_v2(&self, args: &[&str]) -> std::process::Output {
        let dir = self.w.tmp.path();
        self.armed.store(true, Ordering::SeqCst);
        let out = cicd()
            .current_dir(dir)
            .env("CICD_NOW", "2026-01-31T12:30:00Z")
            .env("CICD_HTTP_TIMEOUT", "2")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", dir.join("output"))
            .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
            .args([
                "promote",
                &format!("{}@{}", self.src, self.v2),
                "--to",
                "staging",
            ])
            .args(args)
            .timeout(Duration::from_secs(120))
            .output()
            .expect("run cicd");
        self.armed.store(false, Ordering::SeqCst);
        out
    }
}

#[test]
fn a_registry_silent_during_the_history_claim_exits_3_and_leaves_the_tag() {
    let t = Trapped::new("adv-claim", b".claim HTTP/1.1", (3301, 3302));
    let (w, src, v1, v2, staging, addr) = (&t.w, &t.src, &t.v1, &t.v2, &t.staging, t.addr.as_str());
    let tags_before = skopeo_tags(staging);
    let dir = w.tmp.path();
    let out = t.promote_v2(&["--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(addr), "must name {addr}: {stderr}");
    assert!(out.stdout.is_empty(), "no JSON after a failure: {stderr}");
    let output = std::fs::read_to_string(dir.join("output")).unwrap_or_default();
    assert!(
        output.is_empty(),
        "$GITHUB_OUTPUT after a failure: {output}"
    );
    let summary = std::fs::read_to_string(dir.join("summary")).unwrap_or_default();
    assert!(!summary.contains("promoted"), "{summary}");
    assert_eq!(
        skopeo_digest(&format!("{staging}:staging")).as_deref(),
        Some(v1.as_str()),
        "the environment tag moved although the history claim failed"
    );
    let new_tags: Vec<String> = skopeo_tags(staging)
        .into_iter()
        .filter(|t| !tags_before.contains(t))
        .collect();
    assert!(
        !new_tags
            .iter()
            .any(|t| t.starts_with("staging-") && !t.contains('.')),
        "no history tag for a promotion that failed: {new_tags:?}"
    );
    // The history still lists only v1, and a re-run completes.
    let h = w.history("staging");
    assert_eq!(h.len(), 1, "{h:?}");
    w.ok(&["promote", &format!("{src}@{v2}"), "--to", "staging"], NOW);
    assert_eq!(
        skopeo_digest(&format!("{staging}:staging")).as_deref(),
        Some(v2.as_str())
    );
}

#[test]
fn a_finding_id_with_a_newline_and_workflow_command_stays_inert_when_named() {
    use crate::promote::attested::attest_image;
    let reg = plain();
    let w = World::new(&reg.addr, "adv-finding");
    std::fs::write(
        w.tmp.path().join("cicd.yaml"),
        format!(
            "environments:\n  staging:\n    repository: {}\n    require:\n      signature: {{ key: cosign.pub, insecure-ignore-tlog: true }}\n      scan: {{ max-age: 1d }}\n",
            w.repo("staging")
        ),
    )
    .expect("config");
    let src = w.repo("src");
    let d = w.push(&src, "v1", 3401);
    let r = format!("docker://{src}@{d}");
    w.sign(&r, &w.key);
    let predicate = serde_json::json!({
        "scanner": {"uri": "pkg:github/aquasecurity/trivy", "version": "0.58.0",
            "result": {"SchemaVersion": 2, "Results": [{"Target": "x\n::warning::t",
                "Vulnerabilities": [{"VulnerabilityID": "CVE-1\n::error::pwned",
                    "PkgName": "p\n::add-mask::q", "Severity": "CRITICAL"}]}]}},
        "metadata": {"scanStartedOn": "2026-01-31T11:00:00Z",
            "scanFinishedOn": "2026-01-31T11:00:00Z"},
    });
    attest_image(&w, &r, cicd::sign::attest::VULN, &predicate, false, &[]);
    let dir = w.tmp.path();
    let out = cicd()
        .current_dir(dir)
        .env("CICD_NOW", NOW)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.join("output"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
        .args(["promote", &r, "--to", "staging"])
        .output()
        .expect("run cicd");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("CVE-1"), "the finding is named: {stderr}");
    let summary = std::fs::read_to_string(dir.join("summary")).expect("summary");
    assert!(summary.contains("CVE-1"), "{summary}");
    let output = std::fs::read_to_string(dir.join("output")).unwrap_or_default();
    assert!(output.is_empty(), "{output}");
    for text in [
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr.into_owned(),
        summary,
    ] {
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("::")),
            "a workflow command escaped: {text}"
        );
    }
    assert!(skopeo_tags(&w.repo("staging")).is_empty());
}

/// Writes a promotion record for `digest` under `slot` in `repo` with `version`, as someone with
/// push access could (the record is sound: it names the tagged digest and the environment).
fn forge_record(repo: &str, slot: &str, digest: &str, version: &str) {
    use cicd::oci::store::{Context, Fetched};
    use cicd::oci::transport::Location;
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let ctx = Context::new(Default::default(), Default::default()).expect("ctx");
        let loc = Location::parse(&format!("docker://{repo}")).expect("loc");
        let store = ctx.store(&loc, true).expect("store");
        let image = store.manifest(digest).await.expect("get").expect("image");
        let empty = store
            .put_blob_bytes("application/vnd.oci.empty.v1+json", "{}".into())
            .await
            .expect("blob");
        let p = "dev.cicd.promotion.";
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.cicd.promotion.v1+json",
            "config": empty, "layers": [empty],
            "subject": {"mediaType": image.media_type, "digest": digest, "size": image.bytes.len()},
            "annotations": {
                format!("{p}environment"): "staging", format!("{p}digest"): digest,
                format!("{p}time"): "2026-01-31T11:00:00Z", format!("{p}actor"): "x\n::error::actor",
                format!("{p}kind"): "promote", format!("{p}forced"): "false",
                format!("{p}run"): "forged", format!("{p}version"): version,
            },
        });
        let record = Fetched::new(
            serde_json::to_vec(&manifest).expect("json"),
            "application/vnd.oci.image.manifest.v1+json",
        );
        store
            .set_tag(&record, Some(&format!("{slot}.promotion")))
            .await
            .expect("record");
    });
}

#[test]
fn a_version_with_a_newline_and_workflow_command_from_a_record_stays_inert() {
    let reg = plain();
    let w = World::new(&reg.addr, "adv-version");
    w.config("");
    let src = w.repo("src");
    let staging = w.repo("staging");
    let v1 = w.push(&src, "v1", 3501);
    w.sign(&format!("docker://{src}:v1"), &w.key);
    let v2 = w.push(&src, "v2", 3502);
    w.sign(&format!("docker://{src}:v2"), &w.key);
    w.ok(&["promote", &format!("{src}@{v2}"), "--to", "staging"], NOW);
    // v1 entered staging's history earlier, under a record whose version opens a command.
    let slot = "staging-20260131T110000Z";
    w.ok(
        &[
            "image",
            "copy",
            &format!("docker://{src}@{v1}"),
            &format!("docker://{staging}:{slot}"),
        ],
        NOW,
    );
    forge_record(&staging, slot, &v1, "1.0.0\n::error::pwned");
    let dir = w.tmp.path();
    let step = |args: &[&str]| {
        cicd()
            .current_dir(dir)
            .env("CICD_NOW", NOW)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", dir.join("output"))
            .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
            .args(args)
            .output()
            .expect("run cicd")
    };
    let history = step(&["promote", "history", "staging"]);
    assert_eq!(history.status.code(), Some(0));
    let listed = String::from_utf8_lossy(&history.stdout);
    assert!(listed.contains("1.0.0%0A::error::pwned"), "{listed}");
    let out = step(&["promote", "--rollback", "staging", "--to", &v1]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let summary = std::fs::read_to_string(dir.join("summary")).expect("summary");
    assert!(summary.contains("1.0.0 ::error::pwned"), "{summary}");
    for text in [
        String::from_utf8_lossy(&history.stdout).into_owned(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr.into_owned(),
        summary,
        std::fs::read_to_string(dir.join("output")).unwrap_or_default(),
    ] {
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("::")),
            "a workflow command escaped: {text}"
        );
    }
}

/// An empty and a truncated `cicd.yaml`, and one whose `require.signature` key never ends
/// (`/dev/zero`): exit 2 naming the file, nothing tagged in the source repository, no
/// `environment:` repository created, and no `digest` (no pass) in `$GITHUB_OUTPUT`.
/// See: issue 15.
#[test]
fn an_empty_or_truncated_config_is_bad_input_and_tags_nothing() {
    let reg = plain();
    let w = World::new(&reg.addr, "adv-config");
    w.config("");
    let src = w.repo("src");
    let d = w.push(&src, "v1", 3401);
    w.sign(&format!("docker://{src}:v1"), &w.key);
    let full = std::fs::read_to_string(w.tmp.path().join("cicd.yaml")).expect("config");
    // Cut inside the flow mapping of the first `require.signature`.
    let cut = full.find("insecure-ignore").expect("signature line");
    let tags_before = skopeo_tags(&src);
    let endless = full.replace("key: cosign.pub", "key: /dev/zero");
    for (what, text, named) in [
        ("empty", "", "cicd.yaml"),
        ("truncated", &full[..cut], "cicd.yaml"),
        ("endless key", &endless, "/dev/zero"),
    ] {
        let dir = w.tmp.path();
        std::fs::write(dir.join("cicd.yaml"), text).expect("config");
        let output = dir.join(format!("output-{what}"));
        let out = cicd()
            .current_dir(dir)
            .env("CICD_NOW", NOW)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", dir.join(format!("summary-{what}")))
            .args([
                "promote",
                &format!("{src}@{d}"),
                "--to",
                "staging",
                "--json",
            ])
            .output()
            .expect("run cicd");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(named), "{what}: names {named}: {stderr}");
        assert!(out.stdout.is_empty(), "{what}: no JSON: {stderr}");
        let written = std::fs::read_to_string(&output).unwrap_or_default();
        assert!(
            !written.contains("digest") && !written.contains(&d),
            "{what}: no pass in $GITHUB_OUTPUT: {written}"
        );
        assert_eq!(skopeo_tags(&src), tags_before, "{what}: nothing tagged");
        assert!(
            skopeo_tags(&w.repo("staging")).is_empty(),
            "{what}: the environment's repository is untouched"
        );
    }
}

#[test]
fn an_environment_tag_put_that_never_answers_leaves_no_sound_history_entry() {
    // The environment tag is `PUT` before the history tag: when its `PUT` fails, no history
    // entry names the promotion that did not happen, so it never satisfies `after:`.
    let t = Trapped::new(
        "adv-envput",
        b"PUT /v2/promote/adv-envput/staging/manifests/staging HTTP/1.1",
        (3401, 3402),
    );
    let (w, src, v1, v2, staging, addr) = (&t.w, &t.src, &t.v1, &t.v2, &t.staging, t.addr.as_str());
    let dir = w.tmp.path();
    let out = t.promote_v2(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(addr), "must name {addr}: {stderr}");
    let output = std::fs::read_to_string(dir.join("output")).unwrap_or_default();
    assert!(
        output.is_empty(),
        "$GITHUB_OUTPUT after a failure: {output}"
    );
    assert_eq!(
        skopeo_digest(&format!("{staging}:staging")).as_deref(),
        Some(v1.as_str()),
        "the environment tag's PUT never answered"
    );
    // The history lists v1 soundly, and nothing for v2 (its history tag was never put).
    let h = w.history("staging");
    let sound: Vec<&str> = h
        .iter()
        .filter(|e| e["problem"].is_null())
        .filter_map(|e| e["digest"].as_str())
        .collect();
    assert_eq!(sound, [v1.as_str()], "{h:?}");
    assert!(
        !h.iter().any(|e| e["digest"] == v2.as_str()),
        "no entry for the promotion that did not happen: {h:?}"
    );
    let out = w.run(
        &["promote", &format!("{src}@{v2}"), "--to", "production"],
        NOW,
    );
    assert_eq!(out.status.code(), Some(1), "{h:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("never promoted to `staging`"));
    // A re-run completes, and then production accepts v2.
    w.ok(&["promote", &format!("{src}@{v2}"), "--to", "staging"], NOW);
    assert_eq!(
        skopeo_digest(&format!("{staging}:staging")).as_deref(),
        Some(v2.as_str())
    );
    w.ok(
        &["promote", &format!("{src}@{v2}"), "--to", "production"],
        NOW,
    );
}
