//! The tags already at a release destination, which the tag engine reads to decide what
//! moves: a registry repository's `GET /v2/<repo>/tags/list` (every page, following `Link`),
//! or the reference names in an image layout's `index.json`. A repository or layout that does
//! not exist yet has no tags.

use crate::oci::distribution::pull_scope;
use crate::oci::error::OciError;
use crate::oci::layout::{Layout, ref_name};
use crate::oci::transport::Location;

/// Pages read at most (100 tags each): a repository with more is refused, not half-read.
const MAX_PAGES: usize = 100;

pub async fn tags(
    ctx: &crate::oci::store::Context,
    loc: &Location,
) -> Result<Vec<String>, OciError> {
    match loc {
        Location::Layout { path, .. } => {
            if !path.join("index.json").is_file() {
                return Ok(Vec::new());
            }
            let layout = Layout::open(path)?;
            Ok(layout
                .entries()?
                .iter()
                .filter_map(|d| ref_name(d).map(str::to_owned))
                .collect())
        }
        Location::Registry(r) => {
            let registry = ctx.registry(&r.registry)?;
            let repo = r.repository.clone();
            let mut out = Vec::new();
            let mut next = Some(format!("/v2/{repo}/tags/list?n=100"));
            let mut pages = 0;
            while let Some(path) = next.take() {
                pages += 1;
                if pages > MAX_PAGES {
                    return Err(OciError::Unsupported(format!(
                        "{} lists more than {} tags in {repo}; cicd reads at most that many",
                        r.registry,
                        MAX_PAGES * 100
                    )));
                }
                let action = format!("GET /v2/{repo}/tags/list");
                let resp = registry
                    .send(&action, &repo, &pull_scope(&repo), |c, base| {
                        Some(c.get(format!("{base}{path}")))
                    })
                    .await?;
                if resp.status().as_u16() == 404 {
                    return Ok(Vec::new());
                }
                let resp = registry.expect_success(resp, &action, &repo).await?;
                next = resp
                    .headers()
                    .get("link")
                    .and_then(|l| l.to_str().ok())
                    .and_then(next_link);
                // A page of tag names: one that streams on is a failure, not memory.
                let bytes = crate::http::read_capped(resp, 16 << 20)
                    .await
                    .map_err(|e| OciError::Network {
                        registry: r.registry.clone(),
                        action: action.clone(),
                        message: e.to_string().into(),
                    })?;
                let body: TagList = serde_json::from_slice(&bytes).map_err(|e| {
                    OciError::Manifest(format!("{} answered {action} with {e}", r.registry))
                })?;
                out.extend(body.tags.unwrap_or_default());
            }
            Ok(out)
        }
    }
}

#[derive(serde::Deserialize)]
struct TagList {
    tags: Option<Vec<String>>,
}

/// The path of `Link: </v2/…?last=x&n=100>; rel="next"`; only a same-host path is followed.
fn next_link(header: &str) -> Option<String> {
    let (target, params) = header.split_once(';')?;
    if !params.contains("rel=\"next\"") {
        return None;
    }
    let path = target.trim().strip_prefix('<')?.strip_suffix('>')?;
    path.starts_with("/v2/").then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_paths_on_the_same_registry() {
        assert_eq!(
            next_link("</v2/a/tags/list?last=b&n=100>; rel=\"next\"").as_deref(),
            Some("/v2/a/tags/list?last=b&n=100")
        );
        assert_eq!(next_link("<https://evil/v2/x>; rel=\"next\""), None);
        assert_eq!(next_link("</v2/a>; rel=\"prev\""), None);
        assert_eq!(next_link("garbage"), None);
    }
}
