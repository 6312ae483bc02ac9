//! What `cicd release` shows: the `--dry-run` plan, the finished record as text or JSON,
//! and in GitHub Actions the outputs (`version`, `digest` per image, `tags`, `release-url`)
//! and the step summary. Outputs are written only after the release succeeded; a failed gate
//! writes `gate-result=failed` and no version, digests or tags, so no later step mistakes it
//! for a release.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::release::pipeline::Record;
use crate::release::plan::Plan;
use crate::report::escape::{markdown, markdown_code, plain};

pub fn dry_run(plan: &Plan, json: bool) -> Result<Exit, Error> {
    let out = if json {
        let mut v = serde_json::to_value(plan).map_err(|e| Error::Usage(e.to_string()))?;
        v["dry_run"] = serde_json::Value::Bool(true);
        format!("{v:#}\n")
    } else {
        plan_text(plan)
    };
    super::deliver(None, out.as_bytes())?;
    Ok(Exit::Ok)
}

fn plan_text(plan: &Plan) -> String {
    let mut s = String::new();
    let kind = if plan.prerelease {
        "prerelease"
    } else {
        "stable"
    };
    let _ = writeln!(
        s,
        "release {} ({kind}; GitHub latest: {})",
        plain(&plan.git_tag),
        if plan.make_latest { "yes" } else { "no" }
    );
    for image in &plan.images {
        let _ = writeln!(
            s,
            "image {} -> {}",
            plain(&image.name),
            plain(&image.destination)
        );
        let _ = writeln!(s, "  platforms: {}", plain(&image.platforms.join(", ")));
        for d in &image.tags.decisions {
            let what = match (d.set, d.exists) {
                (true, true) => "move",
                (true, false) => "set",
                (false, _) => "keep",
            };
            let _ = writeln!(s, "  {what:<4} {:<16} {}", plain(&d.tag), plain(&d.reason));
        }
    }
    let _ = writeln!(s, "signing: {}", plain(&plan.signing));
    let _ = writeln!(
        s,
        "gate: {}",
        if plan.scan_reports.is_empty() {
            "not gated (no --scan-report)".to_owned()
        } else {
            format!("{} report(s)", plan.scan_reports.len())
        }
    );
    let _ = writeln!(
        s,
        "assets ({}): {}",
        plain(&plan.dist.display().to_string()),
        plain(&plan.assets.join(", "))
    );
    let _ = writeln!(
        s,
        "GitHub release: {}",
        plan.github.as_deref().map_or("none".to_owned(), plain)
    );
    let _ = writeln!(
        s,
        "promote to: {}",
        plan.environment
            .as_deref()
            .map_or("none (no `environments:`)".to_owned(), plain)
    );
    for n in &plan.notes {
        let _ = writeln!(s, "note: {}", plain(n));
    }
    s.push_str("dry run: nothing was built, tagged, uploaded or written\n");
    s
}

pub fn report(record: &Record, json: bool) -> Result<Exit, Error> {
    let failed = record.gate.failed();
    let out = if json {
        let v = serde_json::to_value(record).map_err(|e| Error::Usage(e.to_string()))?;
        format!("{v:#}\n")
    } else {
        text(record)
    };
    let rt = Runtime::from_env();
    let write = |r: std::io::Result<()>| {
        r.map_err(|source| Error::Write {
            path: PathBuf::from("$GITHUB_OUTPUT"),
            source,
        })
    };
    write(rt.set_output("gate-result", &record.gate.result))?;
    if !failed {
        let digests: BTreeMap<&str, &str> = record
            .images
            .iter()
            .map(|i| (i.name.as_str(), i.digest.as_str()))
            .collect();
        let tags: Vec<String> = record
            .images
            .iter()
            .flat_map(|i| i.tags.iter().map(move |t| format!("{}:{t}", i.destination)))
            .collect();
        write(rt.set_output("version", &record.version))?;
        for (name, digest) in &digests {
            write(rt.set_output(&format!("digest-{name}"), digest))?;
        }
        if let [only] = record.images.as_slice() {
            write(rt.set_output("digest", &only.digest))?;
        }
        let map = serde_json::to_string(&digests).map_err(|e| Error::Usage(e.to_string()))?;
        write(rt.set_output("digests", &map))?;
        write(rt.set_output("tags", &tags.join("\n")))?;
        if let Some(r) = &record.release {
            write(rt.set_output("release-url", &r.url))?;
        }
        promotion_outputs(record, &rt).map_err(|source| Error::Write {
            path: PathBuf::from("$GITHUB_OUTPUT"),
            source,
        })?;
    }
    write(rt.append_summary(&summary(record)))?;
    super::deliver(None, out.as_bytes())?;
    Ok(exit(record))
}

/// The gate's verdict first, then the promotion's.
fn exit(record: &Record) -> Exit {
    if record.gate.failed() {
        return Exit::Violation;
    }
    match &record.promotion {
        Some(p) => {
            if let Some(e) = &p.error {
                eprintln!(
                    "error: {}",
                    plain(&format!("promotion to {}: {e}", p.environment))
                );
            }
            p.exit
        }
        None => Exit::Ok,
    }
}

/// `promotion-result` always; once promoted, `environments` (a JSON array of the root
/// environments, which a workflow parses with `fromJSON`), `environment` only when there is
/// exactly one (a joined list cannot be split safely), and `promoted-digest(s)`.
fn promotion_outputs(record: &Record, rt: &Runtime) -> std::io::Result<()> {
    let Some(p) = &record.promotion else {
        return Ok(());
    };
    rt.set_output("promotion-result", &p.result)?;
    if p.result != "promoted" {
        return Ok(());
    }
    let names: Vec<&str> = p
        .environments
        .iter()
        .map(|e| e.environment.as_str())
        .collect();
    if let [only] = names.as_slice() {
        rt.set_output("environment", only)?;
    }
    let names = serde_json::to_string(&names).map_err(std::io::Error::other)?;
    rt.set_output("environments", &names)?;
    let digests: BTreeMap<&str, &str> = record
        .images
        .iter()
        .zip(&p.images)
        .map(|(i, o)| (i.name.as_str(), o.digest.as_str()))
        .collect();
    if let [only] = p.images.as_slice() {
        rt.set_output("promoted-digest", &only.digest)?;
    }
    let map = serde_json::to_string(&digests).map_err(std::io::Error::other)?;
    rt.set_output("promoted-digests", &map)
}

fn text(r: &Record) -> String {
    let mut s = String::new();
    let done = if r.gate.failed() {
        "NOT released (gate failed)"
    } else {
        "released"
    };
    let _ = writeln!(s, "{} {done}", plain(&r.git_tag));
    for i in &r.images {
        let _ = writeln!(
            s,
            "  {} {}@{}",
            plain(&i.name),
            plain(&i.destination),
            i.digest
        );
        for p in &i.platforms {
            let _ = writeln!(s, "    {:<14} {}", plain(&p.platform), p.digest);
        }
        if !i.tags.is_empty() {
            let _ = writeln!(s, "    tags: {}", plain(&i.tags.join(", ")));
        }
    }
    let _ = writeln!(s, "  gate: {}", r.gate.result);
    let _ = writeln!(s, "  signed: {}", if r.signed { "yes" } else { "no" });
    let _ = writeln!(s, "  notes: {}", plain(&r.notes_file.display().to_string()));
    if let Some(rel) = &r.release {
        let _ = writeln!(s, "  GitHub release: {} ({})", plain(&rel.url), rel.release);
    }
    if let Some(p) = &r.promotion {
        let _ = writeln!(s, "  promotion to {}: {}", plain(&p.environment), p.result);
        for o in &p.images {
            for c in &o.evidence {
                let mark = if c.verified { "ok  " } else { "FAIL" };
                let _ = writeln!(s, "    {mark} {}: {}", plain(&c.evidence), plain(&c.detail));
            }
        }
        if let Some(e) = &p.error {
            let _ = writeln!(s, "    error: {}", plain(e));
        }
    }
    s
}

fn summary(r: &Record) -> String {
    let mut s = format!(
        "### cicd release {}\n\n| image | digest | tags moved |\n|---|---|---|\n",
        markdown_code(&r.git_tag)
    );
    for i in &r.images {
        let tags: Vec<String> = i.tags.iter().map(|t| markdown_code(t)).collect();
        let _ = writeln!(
            s,
            "| {} | `{}` | {} |",
            markdown(&i.name),
            i.digest,
            if tags.is_empty() {
                "none".into()
            } else {
                tags.join(" ")
            }
        );
    }
    let sboms: usize = r.images.iter().map(|i| i.platforms.len()).sum();
    let attested = r
        .images
        .iter()
        .flat_map(|i| &i.platforms)
        .filter(|p| p.sbom_attestation.is_some())
        .count();
    let _ = writeln!(
        s,
        "\nSBOMs: {sboms} ({attested} attested) · signed: {} · gate: **{}**",
        if r.signed { "yes" } else { "no" },
        r.gate.result
    );
    for reason in &r.gate.reasons {
        let _ = writeln!(s, "- {}", markdown(reason));
    }
    if let Some(rel) = &r.release {
        let _ = writeln!(s, "\nGitHub release: {}", markdown(&rel.url));
    }
    if let Some(p) = &r.promotion {
        let _ = writeln!(
            s,
            "\nPromotion to {}: **{}**",
            markdown_code(&p.environment),
            p.result
        );
        for reason in p.images.iter().flat_map(|o| &o.refused).chain(&p.error) {
            let _ = writeln!(s, "- {}", markdown(reason));
        }
    }
    s
}
