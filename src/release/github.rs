//! The GitHub release for a tag, made idempotent: create it or bring the existing one to the
//! wanted name/body/flags (no request when it already is), then upload each asset that is
//! not there. An asset already there with the same SHA-256 is left alone; one with other
//! bytes under the same name is an error unless `replace` (then deleted and uploaded again).

use serde::Serialize;

use super::assets::AssetFile;
use crate::github::api::ApiError;
use crate::github::releases::{Release, ReleaseFields, Releases};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A changed asset under a name already published, without `--replace` (exit 1).
    #[error(
        "release {tag} already has an asset `{name}` with other contents (sha256 {theirs}, this release's is {ours}); pass --replace to replace it"
    )]
    Changed {
        tag: String,
        name: String,
        theirs: String,
        ours: String,
    },
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
    /// The file changed after `SHA256SUMS` listed it (exit 2): uploading it would publish
    /// bytes the checksums (and their signature) do not vouch for.
    #[error(
        "{path} changed after SHA256SUMS listed it (sha256 {listed}, now {now}); nothing more was uploaded: release again from unchanged files"
    )]
    Moved {
        path: String,
        listed: String,
        now: String,
    },
    #[error("GitHub: {0}")]
    Api(#[from] ApiError),
}

/// What publishing did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Published {
    pub url: String,
    pub id: u64,
    /// `created`, `updated` or `unchanged`.
    pub release: String,
    pub uploaded: Vec<String>,
    pub replaced: Vec<String>,
    pub unchanged: Vec<String>,
}

pub async fn publish(
    client: &Releases,
    fields: &ReleaseFields,
    files: &[AssetFile],
    replace: bool,
) -> Result<Published, PublishError> {
    let (release, state) = match client.by_tag(&fields.tag_name).await? {
        None => (client.create(fields).await?, "created"),
        Some(existing) if same(&existing, fields) => (existing, "unchanged"),
        Some(existing) => (client.update(existing.id, fields).await?, "updated"),
    };
    let mut out = Published {
        url: release.html_url.clone(),
        id: release.id,
        release: state.to_owned(),
        ..Published::default()
    };
    let present = client.assets(release.id).await?;
    // Check every name before uploading any, so a refused re-run changes nothing.
    let mut plan = Vec::new();
    for file in files {
        let ours = format!("sha256:{}", file.sha256);
        match present.iter().find(|a| a.name == file.name) {
            Some(a) if a.digest.as_deref() == Some(ours.as_str()) => {
                out.unchanged.push(file.name.clone());
            }
            Some(a) if !replace => {
                return Err(PublishError::Changed {
                    tag: fields.tag_name.clone(),
                    name: file.name.clone(),
                    theirs: a.digest.clone().unwrap_or_else(|| "unknown".into()),
                    ours,
                });
            }
            Some(a) => plan.push((file, Some(a.id))),
            None => plan.push((file, None)),
        }
    }
    for (file, old) in plan {
        let bytes = std::fs::read(&file.path)
            .map_err(|e| PublishError::Read(file.path.display().to_string(), e))?;
        // The bytes sent are the bytes listed: checked after reading, before anything moves.
        let now = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&bytes));
        if now != file.sha256 {
            return Err(PublishError::Moved {
                path: file.path.display().to_string(),
                listed: file.sha256.clone(),
                now,
            });
        }
        if let Some(id) = old {
            client.delete_asset(id).await?;
            out.replaced.push(file.name.clone());
        } else {
            out.uploaded.push(file.name.clone());
        }
        upload(client, &release, &file.name, &bytes).await?;
    }
    Ok(out)
}

async fn upload(
    client: &Releases,
    release: &Release,
    name: &str,
    bytes: &[u8],
) -> Result<(), PublishError> {
    client.upload(release, name, bytes).await?;
    Ok(())
}

/// Whether the release already says what `fields` asks (`make_latest` is not readable back,
/// so a release that matches otherwise is left as it is).
fn same(r: &Release, f: &ReleaseFields) -> bool {
    r.name.as_deref() == Some(f.name.as_str())
        && r.body.as_deref() == Some(f.body.as_str())
        && r.prerelease == f.prerelease
        && !r.draft
}
