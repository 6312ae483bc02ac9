//! Commit dates from a Git server without an API: a protocol-v2 `fetch` of just the commits
//! asked for (`deepen 1`, `filter tree:0`), and a reader for the packfile it answers with.

use std::collections::HashMap;

use flate2::{Decompress, FlushDecompress, Status};
use sha1::{Digest, Sha1};

use super::pktline::{self, Packet, PktError};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PackError {
    #[error(transparent)]
    Pkt(#[from] PktError),
    #[error("server error: {0}")]
    Server(String),
    #[error("malformed packfile: {0}")]
    Pack(&'static str),
}

/// A v2 `fetch` for the commits `wants`, one level deep, without trees (when `filter`).
pub fn fetch_request(agent: &str, wants: &[String], filter: bool) -> Vec<u8> {
    let mut body = Vec::new();
    pktline::data(&mut body, b"command=fetch\n");
    pktline::data(&mut body, format!("agent={agent}\n").as_bytes());
    pktline::delim(&mut body);
    pktline::data(&mut body, b"no-progress\n");
    pktline::data(&mut body, b"deepen 1\n");
    if filter {
        pktline::data(&mut body, b"filter tree:0\n");
    }
    for want in wants {
        pktline::data(&mut body, format!("want {want}\n").as_bytes());
    }
    pktline::data(&mut body, b"done\n");
    pktline::flush(&mut body);
    body
}

/// The packfile inside a `fetch` answer (side-band channel 1 of the `packfile` section).
pub fn packfile(answer: &[u8]) -> Result<Vec<u8>, PackError> {
    let mut in_pack = false;
    let mut pack = Vec::new();
    for packet in pktline::decode(answer)? {
        let Packet::Data(data) = packet else { continue };
        if !in_pack {
            let line = std::str::from_utf8(data).unwrap_or_default().trim_end();
            if let Some(msg) = line.strip_prefix("ERR ") {
                return Err(PackError::Server(msg.to_owned()));
            }
            in_pack = line == "packfile";
            continue;
        }
        match data.split_first() {
            Some((1, bytes)) => pack.extend_from_slice(bytes),
            Some((3, msg)) => {
                return Err(PackError::Server(
                    String::from_utf8_lossy(msg).trim().to_owned(),
                ));
            }
            _ => {}
        }
    }
    if pack.is_empty() {
        return Err(PackError::Pack("no packfile section"));
    }
    Ok(pack)
}

/// Commit id → committer time (Unix seconds) of every undeltified commit in a packfile.
pub fn commit_times(pack: &[u8]) -> Result<HashMap<String, i64>, PackError> {
    if pack.len() < 12 || &pack[..4] != b"PACK" {
        return Err(PackError::Pack("no PACK header"));
    }
    let count = u32::from_be_bytes([pack[8], pack[9], pack[10], pack[11]]);
    let mut pos = 12;
    let mut out = HashMap::new();
    for _ in 0..count {
        let byte = |p: usize| {
            pack.get(p)
                .copied()
                .ok_or(PackError::Pack("truncated object header"))
        };
        let mut b = byte(pos)?;
        pos += 1;
        let kind = (b >> 4) & 7;
        let mut size = u64::from(b & 15);
        let mut shift = 4;
        while b & 0x80 != 0 {
            b = byte(pos)?;
            pos += 1;
            if shift > 60 {
                return Err(PackError::Pack("object size overflows"));
            }
            size |= u64::from(b & 0x7f) << shift;
            shift += 7;
        }
        match kind {
            6 => loop {
                // Offset delta: a varint offset precedes the data.
                let b = byte(pos)?;
                pos += 1;
                if b & 0x80 == 0 {
                    break;
                }
            },
            7 => pos += 20,
            _ => {}
        }
        let limit = usize::try_from(size).map_err(|_| PackError::Pack("object too large"))?;
        let (data, used) = inflate(
            pack.get(pos..).ok_or(PackError::Pack("truncated object"))?,
            limit,
        )?;
        pos += used;
        if kind == 1 {
            let mut hasher = Sha1::new();
            hasher.update(format!("commit {}\0", data.len()).as_bytes());
            hasher.update(&data);
            let id: String = hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if let Some(time) = committer_time(&data) {
                out.insert(id, time);
            }
        }
    }
    Ok(out)
}

/// Inflates one zlib stream of `size` bytes; returns the data and the input bytes used.
fn inflate(input: &[u8], size: usize) -> Result<(Vec<u8>, usize), PackError> {
    let mut z = Decompress::new(true);
    let mut out = Vec::with_capacity(size.min(1 << 20));
    loop {
        out.reserve(4096);
        let before = z.total_out();
        let in_pos = usize::try_from(z.total_in())
            .unwrap_or(usize::MAX)
            .min(input.len());
        let status = z
            .decompress_vec(&input[in_pos..], &mut out, FlushDecompress::None)
            .map_err(|_| PackError::Pack("bad zlib data"))?;
        if out.len() > size {
            return Err(PackError::Pack("object larger than its header says"));
        }
        match status {
            Status::StreamEnd => break,
            _ if z.total_out() == before && in_pos >= input.len() => {
                return Err(PackError::Pack("truncated zlib data"));
            }
            _ => {}
        }
    }
    Ok((out, usize::try_from(z.total_in()).unwrap_or(input.len())))
}

/// `committer Name <email> 1700000000 +0000` → 1700000000.
fn committer_time(commit: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(commit).ok()?;
    let line = text
        .lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.starts_with("committer "))?;
    let mut words = line.rsplit(' ');
    let _tz = words.next()?;
    words.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn committer_line() {
        let c = b"tree x\nauthor A <a@b> 1 +0000\ncommitter C D <c@d> 1767225600 +0100\n\nmsg\ncommitter X <x> 5 +0000\n";
        assert_eq!(committer_time(c), Some(1_767_225_600));
        assert_eq!(committer_time(b"tree x\n"), None);
    }

    #[test]
    fn malformed_packs_are_errors() {
        assert!(commit_times(b"").is_err());
        assert!(commit_times(b"PACK\0\0\0\x02\0\0\0\x01\x91").is_err());
        assert!(commit_times(b"PACK\0\0\0\x02\0\0\0\x01\x10\x78\x9c").is_err());
        assert!(packfile(b"0000").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut pack = b"PACK\0\0\0\x02\0\0\0\x03".to_vec();
            pack.extend(&bytes);
            let _ = commit_times(&pack);
            let _ = packfile(&bytes);
        }
    }
}
