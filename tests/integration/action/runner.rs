//! A small stand-in for the Actions runner's composite-action executor: reads `action.yml`,
//! resolves inputs (defaults included), runs each `run:` step with `bash --noprofile --norc
//! -e -o pipefail` as the runner does, with the step's `env:`, its own `$GITHUB_OUTPUT` file
//! and `GITHUB_ACTION_PATH`, stops at the first failing step, and mirrors the action's
//! `outputs:` from the steps' outputs. Only the expressions action.yml uses are known
//! (`inputs.*`, `steps.*.outputs.*`, `github.token`); any other one fails the test, so the
//! action cannot grow an expression this runner silently gets wrong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One step's run.
#[derive(Debug)]
pub struct StepRun {
    pub id: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The action's run: the steps that ran, in order, and the action's outputs.
#[derive(Debug)]
pub struct ActionRun {
    pub steps: Vec<StepRun>,
    pub outputs: BTreeMap<String, String>,
}

impl ActionRun {
    /// The exit code of the last step that ran (0 when all passed).
    pub fn code(&self) -> i32 {
        self.steps.last().map_or(0, |s| s.code)
    }
    pub fn stderr(&self) -> String {
        self.steps.iter().map(|s| s.stderr.as_str()).collect()
    }
    pub fn stdout(&self) -> String {
        self.steps.iter().map(|s| s.stdout.as_str()).collect()
    }
    pub fn ran(&self, id: &str) -> bool {
        self.steps.iter().any(|s| s.id == id)
    }
}

/// Runs the composite action in `action_dir` with `inputs`, the runner's `env` and the
/// workspace `workspace` (the default working directory).
pub fn run_action(
    action_dir: &Path,
    inputs: &[(&str, &str)],
    env: &[(String, String)],
    workspace: &Path,
    github_token: &str,
) -> ActionRun {
    let text = std::fs::read_to_string(action_dir.join("action.yml")).expect("read action.yml");
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).expect("action.yml parses");
    assert_eq!(doc["runs"]["using"].as_str(), Some("composite"));

    let mut ctx = Context {
        inputs: BTreeMap::new(),
        steps: BTreeMap::new(),
        token: github_token.to_owned(),
    };
    let declared = doc["inputs"].as_mapping().expect("inputs");
    for (name, spec) in declared {
        let name = name.as_str().expect("input name").to_owned();
        let given = inputs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let value = match given {
            Some(v) => v.to_owned(),
            None => ctx.eval(spec["default"].as_str().unwrap_or("")),
        };
        ctx.inputs.insert(name, value);
    }
    for (name, _) in inputs {
        assert!(
            ctx.inputs.contains_key(*name),
            "input {name} is not declared"
        );
    }

    let temp = tempfile::tempdir().expect("tempdir");
    let mut steps = Vec::new();
    for (n, step) in doc["runs"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .enumerate()
    {
        let id = step["id"]
            .as_str()
            .map_or(format!("step{n}"), str::to_owned);
        assert_eq!(step["shell"].as_str(), Some("bash"), "step {id}: shell");
        let script = step["run"].as_str().expect("only run: steps");
        assert!(
            !script.contains("${{"),
            "step {id}: an expression in a script"
        );
        let script_file = temp.path().join(format!("{id}.sh"));
        std::fs::write(&script_file, script).expect("write script");
        let output_file = temp.path().join(format!("{id}.output"));
        std::fs::write(&output_file, "").expect("create output file");
        let cwd = match step["working-directory"].as_str() {
            Some(w) => workspace.join(ctx.eval(w)),
            None => workspace.to_path_buf(),
        };
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-e", "-o", "pipefail"])
            .arg(&script_file)
            .current_dir(&cwd)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("GITHUB_ACTION_PATH", action_dir)
            .env("GITHUB_OUTPUT", &output_file);
        if let Some(map) = step["env"].as_mapping() {
            for (k, v) in map {
                cmd.env(
                    k.as_str().expect("env name"),
                    ctx.eval(v.as_str().unwrap_or("")),
                );
            }
        }
        let out = cmd.output().expect("run bash");
        let run = StepRun {
            id: id.clone(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let ok = run.code == 0;
        ctx.steps.insert(id, parse_outputs(&output_file));
        steps.push(run);
        if !ok {
            break;
        }
    }
    let mut outputs = BTreeMap::new();
    if let Some(map) = doc["outputs"].as_mapping() {
        for (name, spec) in map {
            let value = ctx.eval(spec["value"].as_str().expect("output value"));
            outputs.insert(name.as_str().expect("output name").to_owned(), value);
        }
    }
    ActionRun { steps, outputs }
}

/// The runner's `$GITHUB_OUTPUT` format: `name=value` and `name<<DELIM` … `DELIM`.
pub fn parse_outputs(path: &PathBuf) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_owned(), value.to_owned());
        }
    }
    out
}

struct Context {
    inputs: BTreeMap<String, String>,
    steps: BTreeMap<String, BTreeMap<String, String>>,
    token: String,
}

impl Context {
    fn eval(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("closed expression") + start;
            out.push_str(&self.value(rest[start + 3..end].trim()));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn value(&self, expr: &str) -> String {
        let parts: Vec<&str> = expr.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => self.inputs.get(*name).cloned().unwrap_or_default(),
            ["steps", id, "outputs", name] => self
                .steps
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            ["github", "token"] => self.token.clone(),
            _ => panic!("expression `{expr}` is not known to the test runner"),
        }
    }
}
