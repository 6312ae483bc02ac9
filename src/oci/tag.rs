//! Pointing more tags at an image: the manifest a location names is resolved once (so every
//! tag gets the same digest) and written under each tag; no blob moves.

use serde::Serialize;

use super::digest::Digest;
use super::error::OciError;
use super::reference::validate_tag;
use super::store::Store;
use super::transport::Location;

#[derive(Debug, Serialize)]
pub struct Tagged {
    pub digest: Digest,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub tags: Vec<String>,
}

/// Checks every tag's syntax (before anything is written).
pub fn validate(tags: &[String]) -> Result<(), OciError> {
    for tag in tags {
        validate_tag(tag).map_err(OciError::Syntax)?;
    }
    Ok(())
}

/// Tags the image `image` names in `store` with each of `tags`.
pub async fn tag(store: &Store, image: &Location, tags: &[String]) -> Result<Tagged, OciError> {
    validate(tags)?;
    let root = store.resolve(image).await?;
    for tag in tags {
        store.set_tag(&root, Some(tag)).await?;
    }
    Ok(Tagged {
        digest: root.digest,
        media_type: root.media_type,
        tags: tags.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::layout::Layout;
    use crate::oci::store::Fetched;

    #[tokio::test]
    async fn tags_a_layout_image_and_refuses_bad_tags() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::Layout(Layout::create(dir.path()).expect("layout"));
        let config = store
            .put_blob_bytes("application/vnd.oci.image.config.v1+json", "{}".into())
            .await
            .expect("config");
        let manifest = serde_json::json!({"schemaVersion": 2,
            "mediaType": crate::oci::manifest::OCI_MANIFEST, "config": config, "layers": []});
        let m = Fetched::new(
            manifest.to_string().into_bytes(),
            crate::oci::manifest::OCI_MANIFEST,
        );
        store.put_manifest(&m, Some("v1")).await.expect("manifest");
        let loc = Location::parse(&format!("oci:{}:v1", dir.path().display())).expect("loc");
        let tagged = tag(&store, &loc, &["v2".into(), "latest".into()])
            .await
            .expect("tagged");
        assert_eq!(tagged.digest, m.digest);
        for t in ["v1", "v2", "latest"] {
            let found = store.manifest(t).await.expect("read").expect("tagged");
            assert_eq!(found.digest, m.digest);
        }
        let e = tag(&store, &loc, &["bad tag".into()])
            .await
            .expect_err("bad");
        assert!(e.is_bad_input());
        assert!(e.to_string().starts_with("invalid tag `bad tag`"), "{e}");
    }
}
