//! `cicd check`: the rules that judge a repository's workflows, actions, Dockerfiles and compose
//! files ([`rules`], one file each, one list) and the facts online rules ask GitHub for
//! ([`online`]). Reading those files with spans is [`crate::inputs`]'s job.

pub mod online;
pub mod rules;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::inputs::discover::Discovered;
use crate::inputs::document::Document;
use crate::inputs::input::Input;
use crate::report::{InputProblem, Report};
use rules::Context;

/// What to check and how.
pub struct CheckRequest {
    pub inputs: Discovered,
    /// The rules to run, each with its settings.
    pub rules: Vec<rules::Configured>,
    /// Where online rules ask; `None` means `--offline`: they are skipped.
    pub endpoints: Option<online::Endpoints>,
}

/// Inputs read and rules chosen: all a check needs but the online facts.
pub struct Prepared<'a> {
    req: &'a CheckRequest,
    active: Vec<&'a rules::Configured>,
    docs: Vec<Document>,
    report: Report,
}

/// Reads every input and picks the rules that will run.
pub fn prepare(req: &CheckRequest) -> Prepared<'_> {
    let mut report = Report {
        title: "cicd check".into(),
        inputs: req.inputs.inputs.len(),
        problems: req.inputs.missing.clone(),
        notes: req.inputs.notes(),
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
    for result in read_all(&req.inputs.inputs) {
        match result {
            Ok(found) => docs.extend(found),
            Err(problem) => report.problems.push(problem),
        }
    }
    Prepared {
        req,
        active,
        docs,
        report,
    }
}

impl Prepared<'_> {
    /// Where to ask for online facts, when an online rule runs and some input pins a SHA
    /// (only a SHA pin gives them anything to ask).
    pub fn wants_facts(&self) -> Option<&online::Endpoints> {
        let endpoints = self.req.endpoints.as_ref()?;
        let online_rule = self.active.iter().any(|(r, _)| r.meta().online);
        let sha_pin = self
            .docs
            .iter()
            .any(|d| d.uses.iter().any(|u| u.sha_pin().is_some()));
        (online_rule && sha_pin).then_some(endpoints)
    }

    /// Asks GitHub what the online rules need to know.
    pub async fn gather(&self, endpoints: &online::Endpoints) -> online::Facts {
        let refs: Vec<&Document> = self.docs.iter().collect();
        online::gather(&refs, endpoints).await
    }

    /// Runs every active rule over every document.
    pub fn finish(self, facts: Option<online::Facts>) -> Report {
        let mut report = self.report;
        if let Some(facts) = &facts {
            report.notes.extend(facts.notes.iter().cloned());
        }
        for doc in self.docs {
            for (rule, settings) in &self.active {
                let mut cx =
                    Context::new(rule.meta(), settings, &mut report.findings, facts.as_ref());
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
}

type ReadResult = Result<Vec<Document>, InputProblem>;

/// Reads inputs on all cores, keeping input order in the result.
fn read_all(inputs: &[Input]) -> Vec<ReadResult> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(inputs.len().max(1));
    if threads == 1 {
        // On this thread: a worker's heap would stay resident beside this one's (a large
        // file's tree there, its findings here).
        return inputs.iter().map(Input::read).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<ReadResult>>> = inputs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    let result = input.read();
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
