//! The JSON documents a build writes: the image config (run settings, labels, history,
//! `rootfs.diff_ids`, on top of a base image's config when there is one), the image manifest
//! and the index. Serialized from ordered structures so the same inputs give the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::BuildError;
use crate::config::images::NativeSpec;
use crate::oci::manifest::{Descriptor, OCI_INDEX, OCI_MANIFEST, Platform};

pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// One layer this build added, for the config's history.
pub struct Added<'a> {
    pub diff_id: &'a str,
    pub created_by: String,
}

/// The image config for `platform`: `base` (a parsed base config, or `None` for scratch) with
/// our settings, labels and layers applied.
pub fn image_config(
    base: Option<&Value>,
    spec: &NativeSpec,
    platform: &Platform,
    labels: &BTreeMap<String, String>,
    created: &str,
    added: &[Added<'_>],
) -> Result<Vec<u8>, BuildError> {
    let mut cfg = base.cloned().unwrap_or_else(|| json!({}));
    let obj = cfg
        .as_object_mut()
        .ok_or_else(|| BuildError::Usage("the base image config is not a JSON object".into()))?;
    obj.insert("created".into(), json!(created));
    obj.insert("architecture".into(), json!(platform.architecture));
    obj.insert("os".into(), json!(platform.os));
    match &platform.variant {
        Some(v) => obj.insert("variant".into(), json!(v)),
        None => obj.remove("variant"),
    };
    let run = obj.entry("config").or_insert_with(|| json!({}));
    apply_run_config(run, spec, labels)?;
    let rootfs = obj
        .entry("rootfs")
        .or_insert_with(|| json!({"type": "layers", "diff_ids": []}));
    let ids = rootfs
        .get_mut("diff_ids")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| BuildError::Usage("the base image config has no rootfs.diff_ids".into()))?;
    ids.extend(added.iter().map(|a| json!(a.diff_id)));
    let history = obj.entry("history").or_insert_with(|| json!([]));
    let history = history
        .as_array_mut()
        .ok_or_else(|| BuildError::Usage("the base image config's history is not a list".into()))?;
    history.extend(
        added.iter().map(
            |a| json!({"created": created, "created_by": a.created_by, "comment": "cicd build"}),
        ),
    );
    serde_json::to_vec(&cfg).map_err(|e| BuildError::Usage(format!("image config: {e}")))
}

fn apply_run_config(
    run: &mut Value,
    spec: &NativeSpec,
    labels: &BTreeMap<String, String>,
) -> Result<(), BuildError> {
    if run.is_null() {
        *run = json!({});
    }
    let run = run
        .as_object_mut()
        .ok_or_else(|| BuildError::Usage("the base image's `config` is not an object".into()))?;
    if let Some(e) = &spec.entrypoint {
        run.insert("Entrypoint".into(), json!(e));
        // As Docker does: a new entrypoint drops the base's command unless one is given.
        run.remove("Cmd");
    }
    if let Some(c) = &spec.cmd {
        run.insert("Cmd".into(), json!(c));
    }
    if let Some(u) = &spec.user {
        run.insert("User".into(), json!(u));
    }
    if let Some(w) = &spec.workdir {
        run.insert("WorkingDir".into(), json!(w));
    }
    // Env: base entries, replaced by name, then ours in name order.
    let mut env: Vec<String> = run
        .get("Env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    for (k, v) in &spec.env {
        env.retain(|e| e.split_once('=').map_or(e.as_str(), |(n, _)| n) != k);
        env.push(format!("{k}={v}"));
    }
    if !env.is_empty() {
        run.insert("Env".into(), json!(env));
    }
    let mut all: BTreeMap<String, Value> = run
        .get("Labels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (k, v) in labels.iter().chain(&spec.labels) {
        all.insert(k.clone(), json!(v));
    }
    run.insert("Labels".into(), json!(all));
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageManifest<'a> {
    schema_version: u32,
    media_type: &'a str,
    config: &'a Descriptor,
    layers: &'a [Descriptor],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Index<'a> {
    schema_version: u32,
    media_type: &'a str,
    manifests: &'a [Descriptor],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

pub fn manifest(
    config: &Descriptor,
    layers: &[Descriptor],
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    serde_json::to_vec(&ImageManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST,
        config,
        layers,
        annotations,
    })
    .unwrap_or_default()
}

pub fn index(children: &[Descriptor], annotations: &BTreeMap<String, String>) -> Vec<u8> {
    serde_json::to_vec(&Index {
        schema_version: 2,
        media_type: OCI_INDEX,
        manifests: children,
        annotations,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> NativeSpec {
        yaml_serde::from_str(
            "entrypoint: [/hello]\nenv: {B: '2', A: '1'}\nlabels: {x: y}\nuser: '65532:65532'",
        )
        .expect("spec")
    }

    #[test]
    fn config_over_base_replaces_env_and_appends_layers() {
        let base = json!({"architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/bin", "A=0"], "Cmd": ["sh"], "Labels": {"x": "base", "keep": "1"}},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:base"]},
            "history": [{"created_by": "base"}]});
        let p = Platform::parse("linux/arm64").expect("p");
        let added = [Added {
            diff_id: "sha256:ours",
            created_by: "COPY /hello".into(),
        }];
        let bytes = image_config(
            Some(&base),
            &spec(),
            &p,
            &BTreeMap::new(),
            "1970-01-01T00:00:00Z",
            &added,
        )
        .expect("config");
        let v: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(v["architecture"], "arm64");
        assert_eq!(v["config"]["Env"], json!(["PATH=/bin", "A=1", "B=2"]));
        assert_eq!(v["config"]["Cmd"], Value::Null);
        assert_eq!(v["config"]["Labels"], json!({"x": "y", "keep": "1"}));
        assert_eq!(
            v["rootfs"]["diff_ids"],
            json!(["sha256:base", "sha256:ours"])
        );
        assert_eq!(v["history"].as_array().expect("h").len(), 2);
        let again = image_config(
            Some(&base),
            &spec(),
            &p,
            &BTreeMap::new(),
            "1970-01-01T00:00:00Z",
            &added,
        )
        .expect("config");
        assert_eq!(bytes, again);
    }
}
