//! The stand-in's stateful default answers, one function per resource (releases and their
//! assets; deployments and their statuses).

use super::*;

pub fn release_routes(ctx: &Ctx, s: &mut State, c: &Call) -> Option<(u16, Value)> {
    let m = |p: &str| matches(p, c.path);
    let not_found = || (404, not_found());
    let find = |s: &State, id: &str| {
        id.parse::<u64>()
            .ok()
            .filter(|id| s.releases.contains_key(id))
    };
    if let Some(p) = m("/repos/{owner}/{repo}/releases") {
        return Some(match c.method {
            "GET" => (
                200,
                Value::Array(
                    s.releases
                        .iter()
                        .rev()
                        .map(|(id, r)| with_assets(r, s.assets.get(id)))
                        .collect(),
                ),
            ),
            "POST" => {
                let fields: Value = serde_json::from_slice(c.body).unwrap_or(Value::Null);
                let Some(tag) = fields["tag_name"].as_str() else {
                    return Some((422, invalid("Release", "tag_name", "missing_field")));
                };
                if s.releases.values().any(|r| r["tag_name"] == tag) {
                    return Some((422, invalid("Release", "tag_name", "already_exists")));
                }
                let id = s.id();
                let r = new_release(ctx, &p["owner"], &p["repo"], id, &fields);
                s.releases.insert(id, r.clone());
                (201, r)
            }
            _ => return None,
        });
    }
    if let Some(p) = m("/repos/{owner}/{repo}/releases/tags/{tag}") {
        if c.method != "GET" {
            return None;
        }
        let tag = percent_decode(&p["tag"]);
        return Some(
            match s
                .releases
                .iter()
                .find(|(_, r)| r["tag_name"] == tag.as_str())
            {
                Some((id, r)) => (200, with_assets(r, s.assets.get(id))),
                None => not_found(),
            },
        );
    }
    if let Some(p) = m("/repos/{owner}/{repo}/releases/{release_id}") {
        let Some(id) = find(s, &p["release_id"]) else {
            return Some(not_found());
        };
        return Some(match c.method {
            "GET" => (200, with_assets(&s.releases[&id], s.assets.get(&id))),
            "PATCH" => {
                let fields: Value = serde_json::from_slice(c.body).unwrap_or(Value::Null);
                if let Some(r) = s.releases.get_mut(&id) {
                    merge_release(r, &fields);
                }
                (200, with_assets(&s.releases[&id], s.assets.get(&id)))
            }
            "DELETE" => {
                s.releases.remove(&id);
                s.assets.remove(&id);
                (204, Value::Null)
            }
            _ => return None,
        });
    }
    if let Some(p) = m("/repos/{owner}/{repo}/releases/{release_id}/assets") {
        let Some(id) = find(s, &p["release_id"]) else {
            return Some(not_found());
        };
        return match (c.on, c.method) {
            (Host::Api, "GET") => Some((
                200,
                Value::Array(
                    s.assets
                        .get(&id)
                        .map(|a| a.iter().map(|a| a.json.clone()).collect())
                        .unwrap_or_default(),
                ),
            )),
            (Host::Uploads, "POST") => Some(upload(ctx, s, c, &p, id)),
            _ => None,
        };
    }
    if let Some(p) = m("/repos/{owner}/{repo}/releases/assets/{asset_id}") {
        let wanted: u64 = p["asset_id"].parse().unwrap_or(0);
        let place = s.assets.iter().find_map(|(rid, list)| {
            list.iter()
                .position(|a| a.json["id"] == wanted)
                .map(|i| (*rid, i))
        });
        let Some((rid, i)) = place else {
            return Some(not_found());
        };
        return Some(match c.method {
            "GET" => (200, s.assets[&rid][i].json.clone()),
            "DELETE" => {
                if let Some(list) = s.assets.get_mut(&rid) {
                    list.remove(i);
                }
                (204, Value::Null)
            }
            _ => return None,
        });
    }
    None
}

fn upload(
    ctx: &Ctx,
    s: &mut State,
    c: &Call,
    p: &BTreeMap<String, String>,
    release: u64,
) -> (u16, Value) {
    let name = c
        .query
        .split('&')
        .find_map(|kv| kv.strip_prefix("name="))
        .map(percent_decode)
        .unwrap_or_default();
    if name.is_empty() {
        return (422, invalid("ReleaseAsset", "name", "missing_field"));
    }
    if s.assets
        .get(&release)
        .is_some_and(|l| l.iter().any(|a| a.json["name"] == name.as_str()))
    {
        return (422, invalid("ReleaseAsset", "name", "already_exists"));
    }
    let id = s.id();
    let tag = s.releases[&release]["tag_name"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let mut a = ctx.example("release-asset-response-for-successful-upload");
    a["id"] = json!(id);
    a["name"] = json!(name);
    a["label"] = Value::Null;
    a["size"] = json!(c.body.len());
    a["content_type"] = json!("application/octet-stream");
    a["digest"] = json!(format!("sha256:{:x}", Sha256::digest(c.body)));
    a["download_count"] = json!(0);
    a["url"] = json!(format!(
        "{}/repos/{}/{}/releases/assets/{id}",
        ctx.api, p["owner"], p["repo"]
    ));
    a["browser_download_url"] = json!(format!(
        "{}/{}/{}/releases/download/{tag}/{name}",
        ctx.api, p["owner"], p["repo"]
    ));
    s.assets.entry(release).or_default().push(Asset {
        json: a.clone(),
        bytes: c.body.to_vec(),
    });
    (201, a)
}

pub fn deployment_routes(ctx: &Ctx, s: &mut State, c: &Call) -> Option<(u16, Value)> {
    let m = |p: &str| matches(p, c.path);
    if let Some(p) = m("/repos/{owner}/{repo}/deployments") {
        return Some(match c.method {
            "GET" => (
                200,
                Value::Array(s.deployments.values().rev().cloned().collect()),
            ),
            "POST" => {
                let f: Value = serde_json::from_slice(c.body).unwrap_or(Value::Null);
                let Some(git_ref) = f["ref"].as_str() else {
                    return Some((422, invalid("Deployment", "ref", "missing_field")));
                };
                let id = s.id();
                let url = format!(
                    "{}/repos/{}/{}/deployments/{id}",
                    ctx.api, p["owner"], p["repo"]
                );
                let mut d = ctx.example("deployment");
                d["id"] = json!(id);
                d["url"] = json!(url);
                d["statuses_url"] = json!(format!("{url}/statuses"));
                d["ref"] = json!(git_ref);
                d["sha"] = json!(git_ref);
                for key in ["task", "environment", "description", "payload"] {
                    if let Some(v) = f.get(key) {
                        d[key] = v.clone();
                    }
                }
                d["original_environment"] = d["environment"].clone();
                for key in ["transient_environment", "production_environment"] {
                    d[key] = f.get(key).cloned().unwrap_or(json!(false));
                }
                s.deployments.insert(id, d.clone());
                (201, d)
            }
            _ => return None,
        });
    }
    if let Some(p) = m("/repos/{owner}/{repo}/deployments/{deployment_id}") {
        let id: u64 = p["deployment_id"].parse().unwrap_or(0);
        return (c.method == "GET").then(|| match s.deployments.get(&id) {
            Some(d) => (200, d.clone()),
            None => (404, not_found()),
        });
    }
    if let Some(p) = m("/repos/{owner}/{repo}/deployments/{deployment_id}/statuses") {
        let id: u64 = p["deployment_id"].parse().unwrap_or(0);
        if !s.deployments.contains_key(&id) {
            return Some((404, not_found()));
        }
        return Some(match c.method {
            "GET" => (
                200,
                Value::Array(
                    s.statuses
                        .get(&id)
                        .map(|l| l.iter().rev().cloned().collect())
                        .unwrap_or_default(),
                ),
            ),
            "POST" => {
                let f: Value = serde_json::from_slice(c.body).unwrap_or(Value::Null);
                let Some(state) = f["state"].as_str() else {
                    return Some((422, invalid("DeploymentStatus", "state", "missing_field")));
                };
                let sid = s.id();
                let deployment = s.deployments[&id].clone();
                let mut st = ctx.example("deployment-status");
                st["id"] = json!(sid);
                st["state"] = json!(state);
                st["url"] = json!(format!(
                    "{}/statuses/{sid}",
                    deployment["url"].as_str().unwrap_or("")
                ));
                st["deployment_url"] = deployment["url"].clone();
                st["environment"] = f
                    .get("environment")
                    .cloned()
                    .unwrap_or(deployment["environment"].clone());
                for key in ["description", "environment_url", "log_url", "target_url"] {
                    if let Some(v) = f.get(key) {
                        st[key] = v.clone();
                    }
                }
                s.statuses.entry(id).or_default().push(st.clone());
                (201, st)
            }
            _ => return None,
        });
    }
    None
}

fn not_found() -> Value {
    json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"})
}

fn invalid(resource: &str, field: &str, code: &str) -> Value {
    json!({
        "message": "Validation Failed",
        "errors": [{"resource": resource, "code": code, "field": field}],
        "documentation_url": "https://docs.github.com/rest"
    })
}

pub fn unknown() -> (u16, Value) {
    (404, not_found())
}
