//! `cicd promote` used as a hostile user would: history tags forged by someone with push
//! access (no record, or a record naming another digest) never satisfy `after:`; values with
//! a newline and `::` never open a workflow command; a malformed digest for `--rollback --to`
//! is a usage error. See: issue 15.

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
