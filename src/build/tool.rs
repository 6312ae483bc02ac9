//! Running an external build tool (buildah, docker buildx): found on PATH or exit 2 with an
//! install hint; a failure is exit 3 carrying the tool's own stderr. Also the Dockerfile flags both
//! tools spell alike.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::BuildError;

/// The executable `name` on PATH.
pub fn find(name: &str, hint: &str) -> Result<PathBuf, BuildError> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| {
                m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            })
        })
        .ok_or_else(|| BuildError::MissingTool {
            tool: name.to_owned(),
            hint: hint.to_owned(),
        })
}

/// Runs `program args…` (`what` names it in errors, e.g. `buildah build`), its stdout
/// discarded and stderr kept for the error.
pub fn run(program: &PathBuf, args: &[OsString], what: &str) -> Result<(), BuildError> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(BuildError::io(program))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The last lines say what went wrong; a whole build log is too much for an error.
    let lines: Vec<&str> = stderr.lines().collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
    Err(BuildError::Tool {
        command: what.to_owned(),
        status: out.status.to_string(),
        stderr: tail,
    })
}

/// The Dockerfile flags buildah and buildx spell alike: `--file`, `--target`, `--build-arg`,
/// `--secret`, from the `dockerfile:` section, with paths under `tree`.
pub fn dockerfile_args(
    tree: &std::path::Path,
    spec: &crate::config::images::DockerfileSpec,
) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = vec![
        "--file".into(),
        tree.join(&spec.context).join(&spec.file).into(),
    ];
    if let Some(t) = &spec.target {
        a.extend(["--target".into(), t.into()]);
    }
    for (k, v) in &spec.build_args {
        a.extend(["--build-arg".into(), format!("{k}={v}").into()]);
    }
    for s in &spec.secrets {
        a.extend(["--secret".into(), s.into()]);
    }
    a
}
