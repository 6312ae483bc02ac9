//! The `buildah` backend: `buildah build --platform … --manifest` for a Dockerfile without a
//! daemon, then `buildah manifest push --all` into the staging layout, from where the common
//! publish path pushes by digest. Storage is a throw-away `--root`/`--runroot` (vfs driver).

use std::ffi::OsString;
use std::path::Path;

use super::publish::Staging;
use super::{BuildError, PlatformResult, tool};
use crate::config::images::DockerfileSpec;
use crate::oci::digest::Digest;
use crate::oci::manifest::{Kind, Manifest, OCI_MANIFEST, Platform};
use crate::oci::store::Fetched;

const HINT: &str = "install it (Debian/Ubuntu: apt-get install buildah) or use the native backend";
const LIST: &str = "cicd-build";

/// `buildah` global flags for storage under `root`.
fn storage(root: &Path) -> Vec<OsString> {
    vec![
        "--root".into(),
        root.join("root").into(),
        "--runroot".into(),
        root.join("runroot").into(),
        "--storage-driver".into(),
        "vfs".into(),
    ]
}

/// The `buildah build` arguments for `spec` (context and file relative to `tree`).
pub fn build_args(
    spec: &DockerfileSpec,
    tree: &Path,
    platforms: &[Platform],
    epoch: i64,
    root: &Path,
) -> Vec<OsString> {
    let mut a = storage(root);
    let list: Vec<String> = platforms.iter().map(ToString::to_string).collect();
    a.extend(
        [
            "build",
            "--isolation",
            "chroot",
            "--platform",
            &list.join(","),
            "--manifest",
            LIST,
            "--timestamp",
            &epoch.to_string(),
        ]
        .map(OsString::from),
    );
    a.extend(super::tool::dockerfile_args(tree, spec));
    a.push(tree.join(&spec.context).into());
    a
}

/// What the staging layout holds after a build.
pub struct Staged {
    pub root: crate::oci::store::Fetched,
    pub platforms: Vec<super::PlatformResult>,
}

/// Builds with buildah into `staging`; the root is the index (or the one platform's manifest).
pub fn build(
    spec: &DockerfileSpec,
    tree: &Path,
    platforms: &[Platform],
    single: bool,
    epoch: i64,
    staging: &Staging,
) -> Result<Staged, BuildError> {
    let bin = tool::find("buildah", HINT)?;
    let work = tempfile::tempdir().map_err(BuildError::io(&std::env::temp_dir()))?;
    tool::run(
        &bin,
        &build_args(spec, tree, platforms, epoch, work.path()),
        "buildah build",
    )?;
    let digest_file = work.path().join("digest");
    let mut push = storage(work.path());
    push.extend(
        [
            "manifest",
            "push",
            "--all",
            "--format",
            "oci",
            "--digestfile",
        ]
        .map(OsString::from),
    );
    push.push(digest_file.clone().into());
    push.push(LIST.into());
    push.push(format!("oci:{}:{LIST}", staging.path().display()).into());
    tool::run(&bin, &push, "buildah manifest push")?;
    let digest = std::fs::read_to_string(&digest_file).map_err(BuildError::io(&digest_file))?;
    let digest = Digest::parse(digest.trim())?;
    let bytes = staging.read(&digest)?;
    let Kind::Index(children) = Manifest::parse(&bytes, None)?.kind else {
        return Err(BuildError::Usage(
            "buildah pushed an image, not an index".into(),
        ));
    };
    let mut results = Vec::new();
    for child in &children {
        let m = Manifest::parse(&staging.read(&child.digest)?, None)?;
        let platform = child
            .platform
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        results.push(PlatformResult {
            platform,
            digest: child.digest.to_string(),
            size: child.size + m.blobs().iter().map(|b| b.size).sum::<u64>(),
        });
    }
    let root = match (single, children.first()) {
        (true, Some(child)) => Fetched {
            bytes: staging.read(&child.digest)?,
            media_type: OCI_MANIFEST.into(),
            digest: child.digest.clone(),
        },
        _ => Fetched {
            bytes,
            media_type: crate::oci::manifest::OCI_INDEX.into(),
            digest,
        },
    };
    Ok(Staged {
        root,
        platforms: results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildah_arguments() {
        let spec: DockerfileSpec =
            yaml_serde::from_str("{context: app, target: run, build-args: {V: '1'}}")
                .expect("spec");
        let ps = [
            Platform::parse("linux/amd64").expect("p"),
            Platform::parse("linux/arm64").expect("p"),
        ];
        let args = build_args(&spec, Path::new("/t"), &ps, 5, Path::new("/w"));
        let s: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            s.join(" "),
            "--root /w/root --runroot /w/runroot --storage-driver vfs build --isolation chroot \
             --platform linux/amd64,linux/arm64 --manifest cicd-build --timestamp 5 \
             --file /t/app/Dockerfile --target run --build-arg V=1 /t/app"
        );
    }
}
