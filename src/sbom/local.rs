//! Layers this run built from files on this machine ([`Local`]: `cicd release` right after
//! its native build), read for the SBOM from their tar written again
//! ([`crate::build::layer::write_tar`], on its own thread, through a pipe) instead of fetching
//! the pushed blob back. The tar is hashed as it is read and must be the `diff_id` the image
//! config names for that layer: a source file changed since the build is refused, never
//! described.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::build::BuildError;
use crate::build::layer::{Local, write_tar};
use crate::oci::store::Store;

use super::changeset::{Changeset, Shared};
use super::error::SbomError;
use super::source::{self, Image};
use super::walk::{self, Layer, Wants};

#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    rootfs: RootFs,
}

#[derive(Default, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// For each layer of `img` (in manifest order), the local layer whose `diff_id` its config
/// names at that index; `None` for the layers to fetch (a base image's, or all of them when
/// `local` is empty: then the config is not read). A config that does not list one
/// `diff_id` per layer matches nothing.
pub async fn matching<'l>(
    store: &Store,
    img: &Image,
    local: &'l [Local],
) -> Result<Vec<Option<&'l Local>>, SbomError> {
    if local.is_empty() {
        return Ok(vec![None; img.layers.len()]);
    }
    let bytes = source::config_bytes(store, &img.config).await?;
    let config: Config =
        serde_json::from_slice(&bytes).map_err(|e| source::not_json(store, &img.config, &e))?;
    let ids = config.rootfs.diff_ids;
    if ids.len() != img.layers.len() {
        return Ok(vec![None; img.layers.len()]);
    }
    Ok(ids
        .iter()
        .map(|id| local.iter().find(|l| l.diff_id == *id))
        .collect())
}

/// Reads `local`'s tar (written again from its files) into `layer`'s [`Changeset`]; the tar
/// must hash to `local.diff_id`. Blocks: call from a reader thread.
pub fn read(
    layer: &Layer<'_>,
    local: &Local,
    wants: Wants,
    shared: Arc<Shared>,
) -> Result<Changeset, SbomError> {
    let fail = |message: String| SbomError::Layer {
        image: layer.image.to_owned(),
        digest: layer.digest.to_string(),
        message,
        external: false,
    };
    let (reader, writer) = io::pipe().map_err(|e| fail(format!("cannot open a pipe: {e}")))?;
    let name = Path::new(layer.digest.as_str());
    let (read, written) = std::thread::scope(|scope| {
        let writing = scope.spawn(move || {
            let out = io::BufWriter::with_capacity(1 << 16, writer);
            let mut out = write_tar(&local.entries, local.mtime, out, name)?;
            out.flush().map_err(BuildError::io(name))
        });
        let read = walk::read_plain_layer(layer, reader, wants, shared);
        (read, writing.join())
    });
    match written {
        Err(_) => return Err(SbomError::Render("a layer writer panicked".into())),
        // The reader stopped first (its own error is the one to say).
        Ok(Err(BuildError::Io { source, .. })) if source.kind() == io::ErrorKind::BrokenPipe => {}
        Ok(Err(e)) => {
            return Err(fail(format!(
                "writing it again from the build's files: {e}"
            )));
        }
        Ok(Ok(())) => {}
    }
    let (changes, got) = read?;
    if got != local.diff_id.as_str() {
        return Err(fail(format!(
            "its tar written again from the build's files is {got}, not the diff_id {} the \
             image config names: {} changed after the build; run the release again",
            local.diff_id,
            sources(local)
        )));
    }
    Ok(changes)
}

/// The layer's source files, for the error (the first few: one of them changed).
fn sources(local: &Local) -> String {
    const SHOWN: usize = 3;
    let mut names: Vec<String> = local
        .entries
        .iter()
        .take(SHOWN)
        .map(|e| e.src.display().to_string())
        .collect();
    if local.entries.len() > SHOWN {
        names.push(format!("{} more", local.entries.len() - SHOWN));
    }
    match names.len() {
        1 => names.remove(0),
        _ => format!("one of {}", names.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::layer::{Entry, diff_id};
    use crate::oci::digest::Digest;
    use crate::sbom::catalogers::WANTS;
    use crate::sbom::tree::Tree;

    const METADATA: &[u8] = b"Metadata-Version: 2.1\nName: localpkg\nVersion: 0.3.1\n";
    const AT: &str = "/usr/lib/python3/dist-packages/localpkg-0.3.1.dist-info/METADATA";

    fn local(dir: &Path) -> Local {
        let src = dir.join("METADATA");
        std::fs::write(&src, METADATA).expect("METADATA");
        let entries = vec![Entry {
            src,
            dst: AT.into(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        }];
        let diff_id = diff_id(&entries, 7, Path::new("layer")).expect("diff_id");
        Local {
            entries,
            mtime: 7,
            diff_id,
        }
    }

    fn read_it(local: &Local) -> Result<Tree, SbomError> {
        let digest = Digest::of(b"the pushed blob");
        let layer = Layer {
            index: 0,
            digest: &digest,
            size: 0,
            image: "registry/app",
        };
        let mut tree = Tree::default();
        read(&layer, local, WANTS, Arc::default())?.apply(&mut tree)?;
        Ok(tree)
    }

    #[test]
    fn a_layer_written_again_is_read_like_the_pushed_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let tree = read_it(&local(dir.path())).expect("read");
        let (_, kept) = tree.read(AT.trim_start_matches('/')).expect("kept");
        assert_eq!(&kept[..], METADATA);
    }

    // See: issue 14. A file changed between the build and the SBOM is refused, naming the
    // layer, the diff_id and the file.
    #[test]
    fn a_source_file_changed_after_the_build_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let local = local(dir.path());
        std::fs::write(&local.entries[0].src, b"Name: something-else\n").expect("change");
        let err = read_it(&local).expect_err("a changed file was described");
        let text = err.to_string();
        assert!(text.contains(&local.diff_id), "{text}");
        assert!(text.contains("changed after the build"), "{text}");
        assert!(
            text.contains(&local.entries[0].src.display().to_string()),
            "{text}"
        );
        let pushed = Digest::of(b"the pushed blob").to_string();
        assert!(text.contains(&pushed), "{text}");
    }

    #[test]
    fn a_source_file_removed_after_the_build_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let local = local(dir.path());
        std::fs::remove_file(&local.entries[0].src).expect("remove");
        let text = read_it(&local).expect_err("a removed file").to_string();
        assert!(text.contains("writing it again"), "{text}");
        assert!(text.contains("METADATA"), "{text}");
    }
}
