//! `cicd check [PATH…]`: config → rule settings → discovery → policy → reporter/runtime.

use std::io::Write;
use std::path::PathBuf;

use globset::{Glob, GlobSetBuilder};

use crate::cli::{CheckArgs, Cli};
use crate::config::{ConfigError, Loaded};
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::policy::online::{self, Facts};
use crate::policy::rules::{self, Settings};
use crate::policy::{self, CheckRequest, Prepared};
use crate::report::{self, Format, Report, Severity};
use secrecy::SecretString;

pub struct Request {
    pub config: Option<PathBuf>,
    pub paths: Vec<PathBuf>,
    pub format: Format,
    pub output: Option<PathBuf>,
    /// `None` with `--offline`.
    pub online: Option<(String, String)>,
    pub color: bool,
    /// `--explain RULE`: print the rule's help instead of checking.
    pub explain: Option<String>,
}

impl Request {
    pub fn new(cli: &Cli, args: &CheckArgs, color: bool) -> Self {
        Self {
            config: cli.config.clone(),
            paths: if args.paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                args.paths.clone()
            },
            format: args.out.format(),
            output: args.out.output.clone(),
            online: (!cli.offline).then(|| (cli.server_url.clone(), cli.api_url.clone())),
            color: color && args.out.output.is_none(),
            explain: args.explain.clone(),
        }
    }
}

pub fn run(req: &Request) -> Result<Exit, Error> {
    if let Some(id) = &req.explain {
        return explain(id);
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let loaded = Loaded::find(req.config.as_deref(), &cwd)?;
    let rules = rule_settings(&loaded)?;
    let inputs = super::inputs(&loaded, &req.paths)?;
    let endpoints = req
        .online
        .as_ref()
        .map(|(server, api)| endpoints(server, api));
    let request = CheckRequest {
        inputs,
        rules,
        endpoints,
    };
    let prepared = policy::prepare(&request);
    let facts = prepared
        .wants_facts()
        .map(|endpoints| gather_facts(&prepared, endpoints));
    let report = prepared.finish(facts);
    for problem in &report.problems {
        eprintln!("error: {problem}");
    }
    emit(req, &report)?;
    Ok(if !report.problems.is_empty() {
        Exit::BadInput
    } else if report.findings.is_empty() {
        Exit::Ok
    } else {
        Exit::Violation
    })
}

/// `--explain RULE`: the rule's summary, default severity, rationale and fix, and link;
/// `all` gives the one-line list. An unknown id is bad input (exit 2) naming the known ones.
fn explain(id: &str) -> Result<Exit, Error> {
    let all = rules::all();
    let mut text = String::new();
    if id == "all" {
        for rule in &all {
            let m = rule.meta();
            text.push_str(&format!(
                "{:<28} {:<8} {}\n",
                m.id,
                m.default_severity.as_str(),
                m.summary
            ));
        }
    } else {
        let Some(rule) = all.iter().find(|r| r.meta().id == id) else {
            let known: Vec<&str> = all.iter().map(|r| r.meta().id).collect();
            eprintln!(
                "error: unknown rule `{}`; rules are: {}",
                report::escape::plain(id),
                known.join(", ")
            );
            return Ok(Exit::BadInput);
        };
        let m = rule.meta();
        text = format!(
            "{}: {}\ndefault severity: {}{}\n\n{}\n\nMore: {}\n",
            m.id,
            m.summary,
            m.default_severity.as_str(),
            if m.online {
                " (online: needs GitHub)"
            } else {
                ""
            },
            wrap(m.help, 92),
            m.help_url
        );
    }
    super::deliver(None, text.as_bytes())?;
    Ok(Exit::Ok)
}

/// Greedy word wrap for terminal help.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// Runs the online look-ups on a runtime of their own; a failure to start one is a note.
fn gather_facts(prepared: &Prepared<'_>, endpoints: &online::Endpoints) -> Facts {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(prepared.gather(endpoints)),
        Err(e) => Facts {
            notes: vec![format!(
                "online rules skipped: could not start a runtime: {e}"
            )],
            ..Facts::default()
        },
    }
}

/// Clients for the online rules; `GITHUB_TOKEN`, when set, is masked in Actions logs.
fn endpoints(server: &str, api: &str) -> online::Endpoints {
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    if let Some(token) = &token {
        // On stderr: the runner reads workflow commands there too, and stdout may carry JSON.
        let _ = Runtime::from_env().mask(token, &mut std::io::stderr());
    }
    online::Endpoints {
        server_url: server.to_owned(),
        api_url: api.to_owned(),
        token: token.map(SecretString::from),
    }
}

/// Every registered rule with its `policy.rules.<id>` settings; unknown ids are errors.
fn rule_settings(loaded: &Loaded) -> Result<Vec<rules::Configured>, ConfigError> {
    let all = rules::all();
    let configured = &loaded.config.policy.rules;
    if let Some(unknown) = configured
        .keys()
        .find(|id| !all.iter().any(|r| r.meta().id == id.as_str()))
    {
        let known: Vec<&str> = all.iter().map(|r| r.meta().id).collect();
        return Err(loaded.error_at(
            &["policy", "rules", unknown],
            true,
            format!("unknown rule `{unknown}`; rules are: {}", known.join(", ")),
        ));
    }
    all.into_iter()
        .map(|rule| {
            let id = rule.meta().id;
            let Some(cfg) = configured.get(id) else {
                return Ok((rule, Settings::enabled()));
            };
            let severity = match &cfg.severity {
                None => None,
                Some(s) => Some(
                    Severity::parse(s)
                        .filter(|s| *s != Severity::Unknown)
                        .ok_or_else(|| {
                            loaded.error_at(
                                &["policy", "rules", id, "severity"],
                                false,
                                format!(
                                    "unknown severity `{s}`; use low, medium, high or critical"
                                ),
                            )
                        })?,
                ),
            };
            let mut allow = GlobSetBuilder::new();
            for pattern in &cfg.allow {
                let glob = Glob::new(pattern).map_err(|e| {
                    loaded.error_at(
                        &["policy", "rules", id, "allow"],
                        false,
                        format!("`{pattern}` is not a valid glob: {e}"),
                    )
                })?;
                allow.add(glob);
            }
            let allow = allow.build().map_err(|e| {
                loaded.error_at(&["policy", "rules", id, "allow"], false, e.to_string())
            })?;
            Ok((
                rule,
                Settings {
                    enabled: cfg.enabled.unwrap_or(true),
                    severity,
                    allow,
                },
            ))
        })
        .collect()
}

/// Renders the report in the chosen format, and inside GitHub Actions also annotates,
/// summarises and sets the `findings` output.
fn emit(req: &Request, report: &Report) -> Result<(), Error> {
    let mut rendered = Vec::new();
    let io = |source| Error::Write {
        path: req
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from("<stdout>")),
        source,
    };
    match req.format {
        Format::Plain => report::terminal::render(report, &mut rendered, req.color),
        Format::Json => report::json::render(report, &mut rendered),
        Format::Sarif => report::sarif::render(report, &mut rendered),
        Format::Github => report::github::render(report, &mut rendered),
    }
    .map_err(io)?;
    let runtime = Runtime::from_env();
    if runtime.active && req.format != Format::Github {
        // The runner reads workflow commands from stdout and stderr alike; keep stdout
        // machine-readable when it carries JSON or SARIF.
        let mut annotations = Vec::new();
        report::github::render(report, &mut annotations).map_err(io)?;
        if req.format == Format::Plain && req.output.is_none() {
            rendered.extend_from_slice(&annotations);
        } else {
            std::io::stderr().write_all(&annotations).map_err(io)?;
        }
    }
    super::deliver(req.output.as_deref(), &rendered)?;
    if runtime.active {
        let runtime_err = |source| Error::Write {
            path: PathBuf::from("$GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY"),
            source,
        };
        runtime
            .set_output("findings", &report.findings.len().to_string())
            .map_err(runtime_err)?;
        runtime
            .append_summary(&report::summary::markdown(report))
            .map_err(runtime_err)?;
    }
    Ok(())
}
