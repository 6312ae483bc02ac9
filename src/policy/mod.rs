//! `cicd check`: the rules that judge a repository's workflows, actions, Dockerfiles and compose
//! files ([`rules`], one file each, one list) and the facts online rules ask GitHub for
//! ([`online`]). Reading those files with spans is [`crate::inputs`]'s job.

pub mod online;
pub mod rules;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::inputs::discover::Input;
use crate::inputs::document::Document;
use crate::inputs::input;
use crate::report::{InputProblem, Report};
use rules::Context;

/// What to check and how.
pub struct CheckRequest {
    pub inputs: Vec<Input>,
    /// The rules to run, each with its settings.
    pub rules: Vec<rules::Configured>,
    /// Where online rules ask; `None` means `--offline`: they are skipped.
    pub endpoints: Option<online::Endpoints>,
}

/// Reads every input and runs every enabled rule over it.
pub fn check(req: &CheckRequest) -> Report {
    let mut report = Report {
        title: "cicd check".into(),
        inputs: req.inputs.len(),
        ..Report::default()
    };
    let offline = req.endpoints.is_none();
    let active: Vec<&rules::Configured> = req
        .rules
        .iter()
        .filter(|(rule, settings)| settings.enabled && !(offline && rule.meta().online))
        .collect();
    if offline && req.rules.iter().any(|(r, s)| s.enabled && r.meta().online) {
        report
            .notes
            .push("--offline: rules that need the network were skipped".into());
    }
    report.rules = active.iter().map(|(r, _)| r.meta().info()).collect();

    let mut docs = Vec::new();
    for result in read_all(&req.inputs) {
        match result {
            Ok(found) => docs.extend(found),
            Err(problem) => report.problems.push(problem),
        }
    }
    let facts = match &req.endpoints {
        // Only a SHA pin gives the online rules anything to ask.
        Some(endpoints)
            if active.iter().any(|(r, _)| r.meta().online)
                && docs
                    .iter()
                    .any(|d| d.uses.iter().any(|u| u.sha_pin().is_some())) =>
        {
            let facts = gather_facts(&docs, endpoints);
            report.notes.extend(facts.notes.iter().cloned());
            Some(facts)
        }
        _ => None,
    };
    for doc in docs {
        for (rule, settings) in &active {
            let mut cx = Context::new(rule.meta(), settings, &mut report.findings, facts.as_ref());
            rule.check(&doc, &mut cx);
        }
        report
            .sources
            .entry(doc.source.path.clone())
            .or_insert_with(|| doc.source.text.clone());
    }
    report.normalize();
    report
}

/// Runs the online look-ups on a runtime of their own; a failure to start one is a note.
fn gather_facts(docs: &[Document], endpoints: &online::Endpoints) -> online::Facts {
    let refs: Vec<&Document> = docs.iter().collect();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(online::gather(&refs, endpoints)),
        Err(e) => online::Facts {
            notes: vec![format!(
                "online rules skipped: could not start a runtime: {e}"
            )],
            ..online::Facts::default()
        },
    }
}

type ReadResult = Result<Vec<Document>, InputProblem>;

/// Reads inputs on all cores, keeping input order in the result.
fn read_all(inputs: &[Input]) -> Vec<ReadResult> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(inputs.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<ReadResult>>> = inputs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    let result = input::read(&input.path, &input.shown, input.kind);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .zip(inputs)
        .map(|(slot, input)| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(InputProblem::new(
                    input.shown.clone(),
                    None,
                    "was not read (internal error)",
                ))
            })
        })
        .collect()
}
