//! Every `cicd check` rule over any bytes read as a workflow, compose file, Dockerfile or
//! Traefik config, and `inputs::expr::values` over any expression: never a panic.
#![no_main]

use std::path::Path;

use cicd::inputs::document::Kind;
use cicd::inputs::{expr, input};
use cicd::policy::rules::{self, Context, Settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = expr::values(text);
        let _ = cicd::policy::rules::env_file::parse(text);
    }
    let rules = rules::all();
    let settings = Settings::enabled();
    for (name, kind) in [
        (".github/workflows/fuzz.yml", Kind::Workflow),
        ("compose.yaml", Kind::Compose),
        ("Dockerfile", Kind::Dockerfile),
        ("traefik.toml", Kind::Traefik),
        ("traefik.yml", Kind::Traefik),
    ] {
        let Ok(docs) = input::parse(Path::new(name), None, data.to_vec(), Some(kind)) else {
            continue;
        };
        let mut findings = Vec::new();
        for doc in &docs {
            for rule in &rules {
                let mut cx = Context::new(rule.meta(), &settings, &mut findings, None);
                rule.check(doc, &mut cx);
            }
        }
    }
});
