//! Listing the tags of one repository or layout, which is how an environment's history is
//! read: the registry's `GET /v2/<repo>/tags/list` (following `Link` pages, each page capped)
//! or a layout's `index.json` names.

use reqwest::StatusCode;

use crate::http::Capped;
use crate::oci::error::OciError;
use crate::oci::layout::ref_name;
use crate::oci::store::Store;

/// Bytes of one tags page we read; a repository with more tags is paged by the registry.
const PAGE_MAX: usize = 8 << 20;
/// Pages followed before giving up (a registry that links to itself forever).
const PAGES_MAX: usize = 200;

/// Every tag in `store` (none for a repository that does not exist yet).
pub async fn list(store: &Store) -> Result<Vec<String>, OciError> {
    match store {
        Store::Layout(l) => Ok(l
            .entries()?
            .iter()
            .filter_map(|d| ref_name(d).map(str::to_owned))
            .collect()),
        Store::Registry { registry, repo } => {
            let mut tags = Vec::new();
            let mut path = format!("/v2/{repo}/tags/list?n=1000");
            for _ in 0..PAGES_MAX {
                let scopes = crate::oci::distribution::pull_scope(repo);
                let url_path = path.clone();
                let resp = registry
                    .send("GET tags/list", repo, &scopes, |c, base| {
                        Some(c.get(format!("{base}{url_path}")))
                    })
                    .await?;
                if resp.status() == StatusCode::NOT_FOUND {
                    return Ok(tags);
                }
                let resp = registry.expect_success(resp, "GET tags/list", repo).await?;
                let next = next_page(resp.headers().get("link").and_then(|v| v.to_str().ok()));
                let body = read_capped(resp, &registry.host, repo).await?;
                let page: Page = serde_json::from_slice(&body).map_err(|e| {
                    OciError::Manifest(format!(
                        "{}/{repo}: the tag list is not JSON: {e}",
                        registry.host
                    ))
                })?;
                tags.extend(page.tags.unwrap_or_default());
                match next {
                    Some(n) if n.starts_with(&format!("/v2/{repo}/tags/list")) => path = n,
                    _ => return Ok(tags),
                }
            }
            Err(OciError::Manifest(format!(
                "{}/{repo}: more than {PAGES_MAX} pages of tags",
                registry.host
            )))
        }
    }
}

#[derive(serde::Deserialize)]
struct Page {
    tags: Option<Vec<String>>,
}

async fn read_capped(
    mut resp: reqwest::Response,
    host: &str,
    repo: &str,
) -> Result<Vec<u8>, OciError> {
    crate::http::collect_capped(&mut resp, PAGE_MAX)
        .await
        .map_err(|e| match e {
            Capped::TooLarge => {
                OciError::Manifest(format!("{host}/{repo}: a tag list page larger than 8 MiB"))
            }
            Capped::Body(e) => OciError::Network {
                registry: host.to_owned(),
                action: "reading the tag list".into(),
                message: crate::http::chain(&e),
            },
        })
}

/// The path of `Link: </v2/…>; rel="next"`, if any.
fn next_page(link: Option<&str>) -> Option<String> {
    let link = link?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        if !params.contains("rel=\"next\"") {
            return None;
        }
        let t = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        // Only a path on the same registry is followed.
        t.starts_with("/v2/").then(|| t.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_page(Some("</v2/a/tags/list?n=2&last=b>; rel=\"next\"")),
            Some("/v2/a/tags/list?n=2&last=b".into())
        );
        assert_eq!(next_page(Some("<https://evil/v2/x>; rel=\"next\"")), None);
        assert_eq!(next_page(Some("</v2/a>; rel=\"prev\"")), None);
        assert_eq!(next_page(Some("garbage")), None);
        assert_eq!(next_page(None), None);
    }
}
