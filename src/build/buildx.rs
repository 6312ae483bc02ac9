//! The `buildx` backend: `docker buildx build --platform … --push --metadata-file`, pushing by
//! digest (`push-by-digest=true`), then the digest read from the metadata file. It needs a
//! Docker engine, which the project's test machines do not have: its argument construction and
//! metadata parsing are tested, the run itself is not.

use std::ffi::OsString;
use std::path::Path;

use super::{BuildError, tool};
use crate::config::images::DockerfileSpec;
use crate::oci::manifest::Platform;
use crate::oci::transport::Location;

const HINT: &str = "install Docker with the buildx plugin (docker/setup-buildx-action on GitHub), or use the buildah or native backend";

/// `docker buildx build` arguments: push to `repo` by digest, tags only when given.
pub fn args(
    spec: &DockerfileSpec,
    tree: &Path,
    platforms: &[Platform],
    repo: &str,
    tags: &[String],
    metadata: &Path,
) -> Vec<OsString> {
    let list: Vec<String> = platforms.iter().map(ToString::to_string).collect();
    let mut a: Vec<OsString> = ["buildx", "build", "--platform", &list.join(",")]
        .map(OsString::from)
        .to_vec();
    a.extend(super::tool::dockerfile_args(tree, spec));
    let output = if tags.is_empty() {
        format!("type=image,name={repo},push-by-digest=true,name-canonical=true,push=true")
    } else {
        let names: Vec<String> = tags.iter().map(|t| format!("{repo}:{t}")).collect();
        format!("type=image,\"name={}\",push=true", names.join(","))
    };
    a.extend(["--output".into(), output.into()]);
    a.extend(["--metadata-file".into(), metadata.into()]);
    a.push(tree.join(&spec.context).into());
    a
}

/// `containerimage.digest` from buildx's metadata file.
pub fn parse_metadata(bytes: &[u8]) -> Result<String, BuildError> {
    let v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| BuildError::Usage(format!("buildx metadata is not JSON: {e}")))?;
    let d = v
        .get("containerimage.digest")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| BuildError::Usage("buildx metadata has no containerimage.digest".into()))?;
    crate::oci::digest::sha256_hex(d)?;
    Ok(d.to_owned())
}

/// Runs buildx; returns the pushed index digest.
pub fn build(
    spec: &DockerfileSpec,
    tree: &Path,
    platforms: &[Platform],
    to: &Location,
    tags: &[String],
) -> Result<String, BuildError> {
    let Location::Registry(r) = to else {
        return Err(BuildError::Usage(
            "the buildx backend pushes to registries only: use --to docker://HOST/REPO".into(),
        ));
    };
    let bin = tool::find("docker", HINT)?;
    let work = tempfile::tempdir().map_err(BuildError::io(&std::env::temp_dir()))?;
    let metadata = work.path().join("metadata.json");
    let repo = format!("{}/{}", r.registry, r.repository);
    tool::run(
        &bin,
        &args(spec, tree, platforms, &repo, tags, &metadata),
        "docker buildx build",
    )?;
    parse_metadata(&std::fs::read(&metadata).map_err(BuildError::io(&metadata))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildx_arguments_and_metadata() {
        let spec: DockerfileSpec =
            yaml_serde::from_str("{secrets: ['id=npm,env=NPM_TOKEN']}").expect("spec");
        let ps = [Platform::parse("linux/arm64").expect("p")];
        let a = args(
            &spec,
            Path::new("/t"),
            &ps,
            "ghcr.io/a/b",
            &[],
            Path::new("/m.json"),
        );
        let s: Vec<String> = a.iter().map(|x| x.to_string_lossy().into_owned()).collect();
        assert_eq!(
            s.join(" "),
            "buildx build --platform linux/arm64 --file /t/./Dockerfile --secret id=npm,env=NPM_TOKEN \
             --output type=image,name=ghcr.io/a/b,push-by-digest=true,name-canonical=true,push=true \
             --metadata-file /m.json /t/."
        );
        let tagged = args(
            &spec,
            Path::new("/t"),
            &ps,
            "r/x",
            &["v1".into()],
            Path::new("/m"),
        );
        assert!(
            tagged
                .iter()
                .any(|x| x == "type=image,\"name=r/x:v1\",push=true")
        );
        let d = format!("sha256:{}", "b".repeat(64));
        let meta = format!(
            r#"{{"buildx.build.ref":"builder/x","containerimage.descriptor":{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{d}","size":1}},"containerimage.digest":"{d}"}}"#
        );
        assert_eq!(parse_metadata(meta.as_bytes()).expect("digest"), d);
        assert!(parse_metadata(br#"{"containerimage.digest":"sha256:zz"}"#).is_err());
        assert!(parse_metadata(b"{}").is_err());
    }
}
