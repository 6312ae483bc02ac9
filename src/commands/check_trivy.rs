//! `cicd check trivy REPORT…`: flags + `policy.trivy` → gate request → reporter, `--vex-out`,
//! and in GitHub Actions annotations, a job summary and outputs.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, TrivyArgs};
use crate::config::{ConfigError, Loaded};
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::report::{self, Format, Severity, table};
use crate::scan::gate::{ClassPolicy, Input};
use crate::scan::ignore::{self, Ignore};
use crate::scan::{Class, Outcome, Policy, Request, clock};

/// The table's columns for `--format plain`.
const COLUMNS: [table::Column; 6] = [
    ("ID", "id"),
    ("PACKAGE", "package"),
    ("INSTALLED", "installed"),
    ("FIXED", "fixed"),
    ("CLASS", "class"),
    ("TARGET", "target"),
];

fn severities(list: &[String]) -> Result<BTreeSet<Severity>, String> {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            Severity::parse(s).ok_or_else(|| {
                format!("unknown severity `{s}`; use UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL")
            })
        })
        .collect()
}

fn policy(loaded: &Loaded, args: &TrivyArgs) -> Result<Policy, Error> {
    let cfg = &loaded.config.policy.trivy;
    let at = |keys: &[&str], m: String| Error::Config(loaded.error_at(keys, false, m));
    let mut p = Policy::default();
    if !args.fail_on.is_empty() {
        p.fail_on = severities(&args.fail_on).map_err(Error::Usage)?;
    } else if let Some(list) = &cfg.fail_on {
        p.fail_on = severities(list).map_err(|m| at(&["policy", "trivy", "fail-on"], m))?;
    }
    if !args.report.is_empty() {
        p.report = severities(&args.report).map_err(Error::Usage)?;
    } else if let Some(list) = &cfg.report {
        p.report = severities(list).map_err(|m| at(&["policy", "trivy", "report"], m))?;
    }
    p.ignore_unfixed = args.ignore_unfixed || cfg.ignore_unfixed.unwrap_or(false);
    if let Some(days) = cfg.expiry_warning_days {
        p.warn_days = i64::from(days);
    }
    for (name, c) in &cfg.classes {
        let Some(class) = Class::ALL.into_iter().find(|k| k.as_str() == name) else {
            return Err(Error::Config(loaded.error_at(
                &["policy", "trivy", "classes", name],
                true,
                format!(
                    "unknown class `{name}`; classes are vulnerability, misconfiguration, secret, license"
                ),
            )));
        };
        let fail_on = match &c.fail_on {
            Some(list) => Some(
                severities(list)
                    .map_err(|m| at(&["policy", "trivy", "classes", name, "fail-on"], m))?,
            ),
            None => None,
        };
        p.classes.insert(
            class,
            ClassPolicy {
                enabled: c.enabled.unwrap_or(true),
                fail_on,
                max: c.max.unwrap_or(0),
            },
        );
    }
    Ok(p)
}

fn ignores(
    loaded: &Loaded,
    args: &TrivyArgs,
    notes: &mut Vec<String>,
) -> Result<Vec<Ignore>, Error> {
    let config = loaded
        .path
        .as_ref()
        .map_or_else(|| "cicd.yaml".to_owned(), |p| p.display().to_string());
    let mut out = ignore::from_config(&loaded.config.policy.trivy.ignores, &config).map_err(
        |(i, key, m)| -> ConfigError {
            let index = i.to_string();
            loaded.error_at(&["policy", "trivy", "ignores", &index, key], false, m)
        },
    )?;
    let files: Vec<PathBuf> = if args.ignorefile.is_empty() {
        [".trivyignore", ".trivyignore.yaml"]
            .into_iter()
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .collect()
    } else {
        args.ignorefile.clone()
    };
    for file in files {
        let mut more = ignore::read_file(&file, notes)
            .map_err(|(path, reason)| Error::BadInput { path, reason })?;
        out.append(&mut more);
    }
    Ok(out)
}

pub fn run(cli: &Cli, args: &TrivyArgs, color: bool) -> Result<Exit, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let loaded = Loaded::find(cli.config.as_deref(), &cwd)?;
    let policy = policy(&loaded, args)?;
    let mut notes = Vec::new();
    let ignores = ignores(&loaded, args, &mut notes)?;
    let now = clock::now().map_err(Error::Usage)?;
    let outcome = crate::scan::run(Request {
        reports: args.reports.iter().map(|p| Input::new(p)).collect(),
        baseline: args.baseline.iter().map(|p| Input::new(p)).collect(),
        ignores,
        policy,
        now,
        notes,
    });
    for problem in &outcome.report.problems {
        eprintln!("error: {problem}");
    }
    if let Some(path) = &args.vex_out {
        match &outcome.vex {
            Some(doc) => {
                let mut bytes = serde_json::to_vec_pretty(doc).unwrap_or_default();
                bytes.push(b'\n');
                super::write_atomically(path, &bytes)?;
            }
            None => eprintln!(
                "note: no ignore applied to a vulnerability, so there is no VEX statement to write; {} was not written",
                path.display()
            ),
        }
    }
    let format = args.out.format();
    emit(
        &outcome,
        format,
        args.out.output.as_deref(),
        color && args.out.output.is_none(),
    )?;
    let gate_failed = outcome.report.gate.as_ref().is_some_and(|g| g.failed);
    Ok(if !outcome.report.problems.is_empty() {
        Exit::BadInput
    } else if gate_failed {
        Exit::Violation
    } else {
        Exit::Ok
    })
}

fn emit(
    outcome: &Outcome,
    format: Format,
    output: Option<&Path>,
    color: bool,
) -> Result<(), Error> {
    let report = &outcome.report;
    let io = |source| Error::Write {
        path: output.map_or_else(|| PathBuf::from("<stdout>"), Path::to_path_buf),
        source,
    };
    let mut rendered = Vec::new();
    match format {
        Format::Plain => table::render(report, &COLUMNS, &mut rendered, color),
        Format::Json => report::json::render(report, &mut rendered),
        Format::Sarif => report::sarif::render(report, &mut rendered),
        Format::Github => {
            report::github::render_with(report, &mut rendered, report::github::leveled_annotation)
        }
    }
    .map_err(io)?;
    let runtime = Runtime::from_env();
    if runtime.active && format != Format::Github {
        // Annotations only where a finding points into a file of the repository; image
        // packages have no line to annotate and are in the summary instead.
        let mut annotations = Vec::new();
        for f in report.findings.iter().filter(|f| f.location.is_some()) {
            writeln!(annotations, "{}", report::github::leveled_annotation(f)).map_err(io)?;
        }
        std::io::stderr().write_all(&annotations).map_err(io)?;
    }
    super::deliver(output, &rendered)?;
    if runtime.active {
        let runtime_err = |source| Error::Write {
            path: PathBuf::from("$GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY"),
            source,
        };
        let count = |s: Severity| outcome.counts.get(&s).copied().unwrap_or(0).to_string();
        let gate = report.gate.as_ref();
        let new = gate
            .and_then(|g| g.new)
            .unwrap_or_else(|| outcome.counts.values().sum());
        for (name, value) in [
            ("critical", count(Severity::Critical)),
            ("high", count(Severity::High)),
            ("medium", count(Severity::Medium)),
            ("low", count(Severity::Low)),
            ("new", new.to_string()),
            ("failed", gate.is_some_and(|g| g.failed).to_string()),
        ] {
            runtime.set_output(name, &value).map_err(runtime_err)?;
        }
        runtime
            .append_summary(&report::summary::gate_markdown(report))
            .map_err(runtime_err)?;
    }
    Ok(())
}
