//! `cicd check trivy REPORT…`: flags + `policy.trivy` → gate request → reporter, `--vex-out`,
//! and in GitHub Actions annotations, a job summary and outputs. Whatever stops the gate
//! (a bad flag, ignore file or report) still leaves `failed=true` and `result=error` behind.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, TrivyArgs};
use crate::config::{ConfigError, Loaded};
use crate::error::{Error, Exit};
use crate::github::actions::Runtime;
use crate::report::{self, Format, Severity, Verdict, table};
use crate::scan::gate::{ClassPolicy, Input};
use crate::scan::ignore::{self, Ignore};
use crate::scan::{Class, Outcome, Policy, Request};
use crate::time;

/// The table's columns for `--format plain` (PATH and NEW only when a row has one).
const COLUMNS: [table::Column; 8] = [
    table::Column::Id,
    table::Column::Package,
    table::Column::Installed,
    table::Column::Fixed,
    table::Column::Class,
    table::Column::Target,
    table::Column::Path,
    table::Column::New,
];

/// A severity list; an empty one (`--fail-on ''`, an unset workflow input) is an error, as
/// it would turn the gate off.
fn severities(list: &[String], what: &str) -> Result<BTreeSet<Severity>, String> {
    let set = list
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Severity::parse(s).ok_or_else(|| {
                format!(
                    "{what}: unknown severity `{s}`; use UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL"
                )
            })
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    if set.is_empty() {
        return Err(format!(
            "{what} is empty: name at least one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL \
             (leave it out for the default)"
        ));
    }
    Ok(set)
}

pub(super) fn policy(loaded: &Loaded, args: &TrivyArgs) -> Result<Policy, Error> {
    let cfg = &loaded.config.policy.trivy;
    let at = |keys: &[&str], m: String| Error::Config(loaded.error_at(keys, false, m));
    let mut p = Policy::default();
    if !args.fail_on.is_empty() {
        p.fail_on = severities(&args.fail_on, "--fail-on").map_err(Error::Usage)?;
    } else if let Some(list) = &cfg.fail_on {
        p.fail_on =
            severities(list, "fail-on").map_err(|m| at(&["policy", "trivy", "fail-on"], m))?;
    }
    if !args.report.is_empty() {
        p.report = severities(&args.report, "--report").map_err(Error::Usage)?;
    } else if let Some(list) = &cfg.report {
        p.report = severities(list, "report").map_err(|m| at(&["policy", "trivy", "report"], m))?;
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
                severities(list, "fail-on")
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

pub(super) fn ignores(
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
        let mut more = ignore::read_file(&file, notes).map_err(|e| Error::BadInput {
            path: PathBuf::from(e.at),
            reason: e.message,
        })?;
        out.append(&mut more);
    }
    Ok(out)
}

pub fn run(cli: &Cli, args: &TrivyArgs, color: bool) -> Result<Exit, Error> {
    match gate(cli, args, color) {
        Ok(exit) => Ok(exit),
        Err(e) => {
            // The gate could not run: a workflow reading the outputs must not see a pass.
            let runtime = Runtime::from_env();
            if runtime.active {
                let message = e.to_string();
                let file = match &e {
                    Error::BadInput { path, .. } => file_property(path),
                    _ => String::new(),
                };
                let _ = writeln!(
                    std::io::stderr(),
                    "::error {file}title=cicd check trivy%3A gate error::{}",
                    report::github::escape_data(&message)
                );
                let _ = set_outputs(&runtime, None);
                let _ = runtime.append_summary(&format!(
                    "## cicd check trivy\n\n:x: **gate error**: {}\n",
                    report::escape::markdown(&message)
                ));
            }
            Err(e)
        }
    }
}

/// `file=F,line=N,` for an annotation, from a shown path that may end in `:line[:column]`.
fn file_property(path: &Path) -> String {
    let shown = report::slash_path(path);
    let mut parts: Vec<&str> = shown.rsplitn(3, ':').collect();
    parts.reverse();
    let number = |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (file, line) = match parts.as_slice() {
        [f, l, c] if number(l) && number(c) => (*f, Some(*l)),
        [f, l] if number(l) => (*f, Some(*l)),
        [f, rest, l] if number(l) => (&shown[..f.len() + 1 + rest.len()], Some(*l)),
        _ => (shown.as_str(), None),
    };
    let mut out = format!("file={},", report::github::escape_property(file));
    if let Some(line) = line {
        out.push_str(&format!("line={line},"));
    }
    out
}

fn gate(cli: &Cli, args: &TrivyArgs, color: bool) -> Result<Exit, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let loaded = Loaded::find(cli.config.as_deref(), &cwd)?;
    let policy = policy(&loaded, args)?;
    let attest_key = super::check_trivy_attest::prepare(args)?;
    let mut notes = Vec::new();
    let ignores = ignores(&loaded, args, &mut notes)?;
    let now = time::now().map_err(Error::Usage)?;
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
    let vex_written = match &args.vex_out {
        Some(path) => write_vex(path, outcome.vex.as_ref())?,
        None => None,
    };
    let format = args.out.format();
    emit(
        &outcome,
        format,
        args.out.output.as_deref(),
        color && args.out.output.is_none(),
        vex_written.as_deref(),
    )?;
    if let (Some(key), Some(gate)) = (&attest_key, &outcome.report.gate)
        && outcome.report.problems.is_empty()
        && gate.result != Verdict::Error
    {
        super::check_trivy_attest::attach(args, key, gate, cli.offline)?;
    }
    let verdict = outcome.report.gate.as_ref().map(|g| g.result);
    Ok(match verdict {
        _ if !outcome.report.problems.is_empty() => Exit::BadInput,
        Some(Verdict::Error) => Exit::BadInput,
        Some(Verdict::Failed) => Exit::Violation,
        _ => Exit::Ok,
    })
}

/// Writes the OpenVEX document; with none (no ignore applied to a vulnerability, and OpenVEX
/// needs at least one statement) removes a file left at the path by an earlier run, so a
/// later step never reads a stale document, and says so. Returns the path written.
fn write_vex(
    path: &Path,
    doc: Option<&crate::scan::vex::Document>,
) -> Result<Option<PathBuf>, Error> {
    let Some(doc) = doc else {
        let removed = std::fs::remove_file(path).is_ok();
        eprintln!(
            "note: no ignore applied to a vulnerability, so there is no VEX statement to write \
             (OpenVEX needs at least one); {} was not written{}",
            report::escape::plain(&path.display().to_string()),
            if removed {
                " and the file an earlier run left there was removed"
            } else {
                ""
            }
        );
        return Ok(None);
    };
    let mut bytes = serde_json::to_vec_pretty(doc).unwrap_or_default();
    bytes.push(b'\n');
    super::write_atomically(path, &bytes)?;
    Ok(Some(path.to_path_buf()))
}

/// `$GITHUB_OUTPUT`: counts, `new`, `failed`, `result` and `vex`. Without a gate (it could
/// not run) only `failed=true` and `result=error`.
fn set_outputs(
    runtime: &Runtime,
    outcome: Option<(&Outcome, Option<&Path>)>,
) -> std::io::Result<()> {
    let Some((outcome, vex)) = outcome else {
        runtime.set_output("failed", "true")?;
        return runtime.set_output("result", Verdict::Error.as_str());
    };
    let Some(gate) = outcome.report.gate.as_ref() else {
        return set_outputs(runtime, None);
    };
    let c = &gate.counts;
    let all = c.critical + c.high + c.medium + c.low + c.unknown;
    for (name, value) in [
        ("critical", c.critical.to_string()),
        ("high", c.high.to_string()),
        ("medium", c.medium.to_string()),
        ("low", c.low.to_string()),
        ("new", gate.new.unwrap_or(all).to_string()),
        ("failed", gate.failed.to_string()),
        ("result", gate.result.as_str().to_owned()),
        (
            "vex",
            vex.map(|p| p.display().to_string()).unwrap_or_default(),
        ),
    ] {
        runtime.set_output(name, &value)?;
    }
    Ok(())
}

fn emit(
    outcome: &Outcome,
    format: Format,
    output: Option<&Path>,
    color: bool,
    vex: Option<&Path>,
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
        // Annotations only where a finding points into a file of the repository (image
        // packages have no line to annotate and are in the summary instead), and one per
        // report that could not be read.
        let mut annotations = Vec::new();
        for f in report.findings.iter().filter(|f| f.location.is_some()) {
            writeln!(annotations, "{}", report::github::leveled_annotation(f)).map_err(io)?;
        }
        for p in &report.problems {
            writeln!(annotations, "{}", report::github::problem_annotation(p)).map_err(io)?;
        }
        std::io::stderr().write_all(&annotations).map_err(io)?;
    }
    super::deliver(output, &rendered)?;
    if runtime.active {
        let runtime_err = |source| Error::Write {
            path: PathBuf::from("$GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY"),
            source,
        };
        set_outputs(&runtime, Some((outcome, vex))).map_err(runtime_err)?;
        runtime
            .append_summary(&report::summary::gate_markdown(report))
            .map_err(runtime_err)?;
    }
    Ok(())
}
