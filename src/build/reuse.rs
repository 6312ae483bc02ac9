//! Layers this machine compressed before, so a re-run (or another image with the same files)
//! does not compress and send them again. A layer is streamed to its destination while it is
//! compressed, so its digest is only known at the end; this remembers, per set of source
//! files (path, size, times, inode) and compression level, the `diff_id`, digest and size it
//! had and where it went, in `$XDG_CACHE_HOME/cicd/layers.json` (else `~/.cache/…`).
//!
//! Nothing here is trusted on its word: a remembered layer is used only when the files, tarred
//! and hashed again (no compression), give the same `diff_id`, and the destination answers a
//! `HEAD` with that digest and size — after mounting it from a repository it was sent to
//! before, when it is not there yet. Otherwise the layer is built and sent as usual. A cache
//! that cannot be read or written only costs that work.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::layer::{Built, Entry};
use crate::oci::digest::Digest;
use crate::oci::manifest::Descriptor;
use crate::oci::store::Store;

/// Entries kept; the least recently used go first.
const KEEP: usize = 256;
/// A cache file larger than this is not read (256 entries take well under 200 KiB).
const MAX_BYTES: u64 = 4 << 20;
/// Repositories remembered per layer (mount candidates).
const REPOS: usize = 4;

/// One remembered layer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Known {
    pub diff_id: String,
    pub digest: Digest,
    pub size: u64,
    /// `host/repository` it was stored in, newest first.
    #[serde(default)]
    pub repos: Vec<String>,
    #[serde(default)]
    pub used: u64,
}

#[derive(Default, Serialize, Deserialize)]
struct File {
    version: u32,
    layers: BTreeMap<String, Known>,
}

pub struct Cache {
    path: Option<PathBuf>,
    file: File,
}

impl Cache {
    /// The user's cache (empty when there is no cache directory or the file is unreadable).
    pub fn load() -> Self {
        let dir = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache"))
            });
        Self::load_from(dir.map(|d| d.join("cicd").join("layers.json")))
    }

    /// The cache in `path` (empty when absent, unreadable or not a cache).
    pub fn load_from(path: Option<PathBuf>) -> Self {
        let file = path
            .as_deref()
            .and_then(|p| crate::fs::read_found(p, MAX_BYTES).ok())
            .and_then(|b| serde_json::from_slice::<File>(&b).ok())
            .filter(|f| f.version == 1)
            .unwrap_or_default();
        Self { path, file }
    }

    pub fn get(&self, key: &str) -> Option<&Known> {
        self.file.layers.get(key)
    }

    /// Remembers that `built` (made from the files `key` names) is stored in `place`.
    pub fn record(&mut self, key: String, built: &Built, place: Option<String>) {
        let next = self.file.layers.values().map(|k| k.used).max().unwrap_or(0) + 1;
        let mut repos = match self.file.layers.get(&key) {
            Some(k) if k.digest == built.digest => k.repos.clone(),
            _ => Vec::new(),
        };
        if let Some(p) = place {
            repos.retain(|r| *r != p);
            repos.insert(0, p);
            repos.truncate(REPOS);
        }
        self.file.layers.insert(
            key,
            Known {
                diff_id: built.diff_id.clone(),
                digest: built.digest.clone(),
                size: built.size,
                repos,
                used: next,
            },
        );
        while self.file.layers.len() > KEEP {
            let oldest = self
                .file
                .layers
                .iter()
                .min_by_key(|(_, k)| k.used)
                .map(|(key, _)| key.clone());
            match oldest {
                Some(key) => self.file.layers.remove(&key),
                None => break,
            };
        }
    }

    /// Writes the cache (a temporary file renamed into place); failures are ignored.
    pub fn save(&mut self) {
        let Some(path) = &self.path else { return };
        let Some(dir) = path.parent() else { return };
        self.file.version = 1;
        let Ok(bytes) = serde_json::to_vec(&self.file) else {
            return;
        };
        let _ = std::fs::create_dir_all(dir).and_then(|()| {
            let mut tmp = crate::fs::temp_file_in(dir)?;
            std::io::Write::write_all(&mut tmp, &bytes)?;
            tmp.persist(path).map(|_| ()).map_err(|e| e.error)
        });
    }
}

/// What names a layer's inputs: the compression level, the mtime written in it, and per
/// file where it goes, its mode and owner and the source's path, size, times and inode. A
/// file rewritten since changes its ctime; the `diff_id` check catches the rest.
pub fn key(entries: &[Entry], mtime: u64, level: u32) -> Option<String> {
    let mut text = format!(
        "cicd {} gzip level {level} mtime {mtime}\n",
        env!("CARGO_PKG_VERSION")
    );
    for e in entries {
        let m = std::fs::metadata(&e.src).ok()?;
        text.push_str(&format!(
            "{}\0{:o}\0{}\0{}\0{}\0{}\0{}.{}\0{}.{}\0{}\0{}\n",
            e.dst,
            e.mode,
            e.uid,
            e.gid,
            e.src.display(),
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
            m.ino(),
            m.dev()
        ));
    }
    Some(Digest::of(text.as_bytes()).hex().to_owned())
}

/// Where a layer stored in `dst` is remembered as being (`host/repository`; none for a layout).
pub fn place(dst: &Store) -> Option<String> {
    match dst {
        Store::Registry { registry, repo } => Some(format!("{}/{repo}", registry.host)),
        Store::Layout(_) => None,
    }
}

/// Whether `dst` holds `known` now — checked by digest and size, after mounting it from a
/// repository of the same registry it was sent to before when it is not there.
pub async fn present(dst: &Store, known: &Known) -> bool {
    let desc = Descriptor {
        media_type: super::layer::LAYER_MEDIA_TYPE.into(),
        digest: known.digest.clone(),
        size: known.size,
        ..Descriptor::default()
    };
    match dst {
        Store::Layout(_) => dst.has_blob(&desc).await.unwrap_or(false),
        Store::Registry { registry, repo } => {
            if registry.blob_matches(repo, &desc).await.unwrap_or(false) {
                return true;
            }
            let prefix = format!("{}/", registry.host);
            for from in known.repos.iter().filter_map(|r| r.strip_prefix(&prefix)) {
                if from == repo {
                    continue;
                }
                match registry
                    .start_upload(repo, Some((&desc.digest, from)))
                    .await
                {
                    Ok(None) => {
                        return registry.blob_matches(repo, &desc).await.unwrap_or(false);
                    }
                    Ok(Some(location)) => registry.cancel_upload(repo, &location).await,
                    Err(_) => {}
                }
            }
            false
        }
    }
}

/// `known` as this build's layer, once [`present`] and the `diff_id` held.
pub fn built(known: &Known) -> Built {
    Built {
        digest: known.digest.clone(),
        diff_id: known.diff_id.clone(),
        size: known.size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(n: u8) -> Built {
        Built {
            digest: Digest::of(&[n]),
            diff_id: Digest::of(&[n, n]).to_string(),
            size: u64::from(n),
        }
    }

    #[test]
    fn keys_follow_the_files_and_the_level_and_the_cache_keeps_the_newest() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("f");
        std::fs::write(&f, b"one").expect("f");
        let e = vec![Entry {
            src: f.clone(),
            dst: "/f".into(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        }];
        let k = key(&e, 0, 1).expect("key");
        assert_eq!(key(&e, 0, 1), Some(k.clone()));
        assert_ne!(key(&e, 0, 6), Some(k.clone()));
        assert_ne!(key(&e, 1, 1), Some(k.clone()));
        std::fs::write(&f, b"two!").expect("f");
        assert_ne!(key(&e, 0, 1), Some(k.clone()));
        std::fs::remove_file(&f).expect("rm");
        assert_eq!(key(&e, 0, 1), None);

        let path = dir.path().join("c/layers.json");
        let mut cache = Cache::load_from(Some(path.clone()));
        cache.record("a".into(), &built(1), Some("h/r1".into()));
        cache.record("a".into(), &built(1), Some("h/r2".into()));
        assert_eq!(
            cache.get("a").map(|k| k.repos.clone()),
            Some(vec!["h/r2".to_string(), "h/r1".to_string()])
        );
        for n in 0..(KEEP + 3) {
            cache.record(format!("k{n}"), &built(2), None);
        }
        assert_eq!(cache.file.layers.len(), KEEP);
        assert!(cache.get("a").is_none(), "the oldest entry goes first");
        cache.save();
        let again = Cache::load_from(Some(path.clone()));
        assert_eq!(again.file.layers.len(), KEEP);
        assert_eq!(again.get("k3"), cache.get("k3"));
        // A file that is not a cache is an empty cache.
        std::fs::write(&path, b"{not json").expect("w");
        assert!(Cache::load_from(Some(path.clone())).file.layers.is_empty());
        // Nor is one too large to be ours read at all.
        let mut big = serde_json::to_vec(&again.file).expect("json");
        big.resize(MAX_BYTES as usize + 1, b' ');
        std::fs::write(&path, &big).expect("w");
        assert!(Cache::load_from(Some(path)).file.layers.is_empty());
    }
}
