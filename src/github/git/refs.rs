//! The refs of a remote repository as `git ls-remote` sees them: the protocol-v2 `ls-refs`
//! request and its answer, and the protocol-v0 advertisement servers without v2 send.

use std::collections::BTreeMap;

use super::pktline::{self, Packet, PktError};

/// Branches and tags of one repository, tags peeled to the commit they point at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefMap {
    /// Tag name → commit id (annotated tags already peeled).
    pub tags: BTreeMap<String, String>,
    /// Branch name → commit id.
    pub heads: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RefsError {
    #[error(transparent)]
    Pkt(#[from] PktError),
    #[error("ref line is not `<object id> <refname>`: {0:?}")]
    Line(String),
    #[error("server error: {0}")]
    Server(String),
}

/// The body of a v2 `ls-refs` request for tags and branches, peeled.
pub fn ls_refs_request(agent: &str) -> Vec<u8> {
    let mut body = Vec::new();
    pktline::data(&mut body, b"command=ls-refs\n");
    pktline::data(&mut body, format!("agent={agent}\n").as_bytes());
    pktline::delim(&mut body);
    pktline::data(&mut body, b"peel\n");
    pktline::data(&mut body, b"ref-prefix refs/tags/\n");
    pktline::data(&mut body, b"ref-prefix refs/heads/\n");
    pktline::flush(&mut body);
    body
}

/// Parses a v2 `ls-refs` answer: `<oid> <ref>[ symref-target:<t>][ peeled:<oid>]`.
pub fn parse_ls_refs(body: &[u8]) -> Result<RefMap, RefsError> {
    let mut map = RefMap::default();
    for packet in pktline::decode(body)? {
        let Packet::Data(line) = packet else { continue };
        let line = text(line);
        if let Some(msg) = line.strip_prefix("ERR ") {
            return Err(RefsError::Server(msg.to_owned()));
        }
        let mut words = line.split(' ');
        let (Some(oid), Some(name)) = (words.next(), words.next()) else {
            return Err(RefsError::Line(line.to_owned()));
        };
        if !is_oid(oid) {
            return Err(RefsError::Line(line.to_owned()));
        }
        let peeled = words
            .find_map(|w| w.strip_prefix("peeled:"))
            .filter(|p| is_oid(p));
        map.insert(name, peeled.unwrap_or(oid));
    }
    Ok(map)
}

/// Parses a v0 `info/refs?service=git-upload-pack` advertisement (`^{}` lines are peels).
pub fn parse_advertisement(body: &[u8]) -> Result<RefMap, RefsError> {
    let mut map = RefMap::default();
    let mut peeled: Vec<(String, String)> = Vec::new();
    for packet in pktline::decode(body)? {
        let Packet::Data(line) = packet else { continue };
        let line = text(line);
        if line.starts_with('#') {
            continue;
        }
        if let Some(msg) = line.strip_prefix("ERR ") {
            return Err(RefsError::Server(msg.to_owned()));
        }
        // The first ref carries capabilities after a NUL.
        let line = line.split('\0').next().unwrap_or_default();
        let Some((oid, name)) = line.split_once(' ') else {
            return Err(RefsError::Line(line.to_owned()));
        };
        if !is_oid(oid) {
            return Err(RefsError::Line(line.to_owned()));
        }
        match name.strip_suffix("^{}") {
            Some(tag) => peeled.push((tag.to_owned(), oid.to_owned())),
            None => map.insert(name, oid),
        }
    }
    for (name, oid) in peeled {
        map.insert(&name, &oid);
    }
    Ok(map)
}

impl RefMap {
    fn insert(&mut self, name: &str, oid: &str) {
        if let Some(tag) = name.strip_prefix("refs/tags/") {
            self.tags.insert(tag.to_owned(), oid.to_owned());
        } else if let Some(head) = name.strip_prefix("refs/heads/") {
            self.heads.insert(head.to_owned(), oid.to_owned());
        }
    }
}

fn text(line: &[u8]) -> &str {
    let s = std::str::from_utf8(line).unwrap_or_default();
    s.strip_suffix('\n').unwrap_or(s)
}

pub fn is_oid(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64)
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const C: &str = "3333333333333333333333333333333333333333";

    fn pkts(lines: &[&str]) -> Vec<u8> {
        let mut b = Vec::new();
        for l in lines {
            pktline::data(&mut b, l.as_bytes());
        }
        pktline::flush(&mut b);
        b
    }

    #[test]
    fn v2_answer_with_peeled_tags() {
        let body = pkts(&[
            &format!("{A} refs/heads/main\n"),
            &format!("{B} refs/tags/v1.0.0 peeled:{C}\n"),
            &format!("{C} refs/tags/v1\n"),
        ]);
        let map = parse_ls_refs(&body).expect("parses");
        assert_eq!(map.heads["main"], A);
        assert_eq!(map.tags["v1.0.0"], C);
        assert_eq!(map.tags["v1"], C);
        assert!(matches!(
            parse_ls_refs(&pkts(&["ERR no such repo\n"])),
            Err(RefsError::Server(_))
        ));
        assert!(matches!(
            parse_ls_refs(&pkts(&["nonsense\n"])),
            Err(RefsError::Line(_))
        ));
    }

    #[test]
    fn v0_advertisement() {
        let body = pkts(&[
            "# service=git-upload-pack\n",
            &format!("{A} HEAD\0multi_ack symref=HEAD:refs/heads/main\n"),
            &format!("{A} refs/heads/main\n"),
            &format!("{B} refs/tags/v2.0.0\n"),
            &format!("{C} refs/tags/v2.0.0^{{}}\n"),
        ]);
        let map = parse_advertisement(&body).expect("parses");
        assert_eq!(map.heads["main"], A);
        assert_eq!(map.tags["v2.0.0"], C);
    }

    #[test]
    fn request_shape() {
        let body = ls_refs_request("cicd/0.1.0");
        let text = String::from_utf8(body).expect("ascii");
        assert!(text.starts_with("0014command=ls-refs\n"));
        assert!(text.ends_with("001bref-prefix refs/heads/\n0000"));
    }
}
