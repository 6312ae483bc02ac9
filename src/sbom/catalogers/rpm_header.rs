//! One rpm header as rpmdb stores it (the "header blob": no lead, no magic): big-endian index
//! count and data length, 16-byte index entries (tag, type, offset, count), then the data
//! store. Only the string and integer tags the rpm cataloger reads are decoded; every offset
//! and count is checked against the blob, so a hostile database yields `None`, never a panic.
//! (No maintained crate exposes a parser for bare rpmdb blobs: the `rpm` crate reads whole
//! `.rpm` files with their lead and signature header.)

pub const NAME: u32 = 1000;
pub const VERSION: u32 = 1001;
pub const RELEASE: u32 = 1002;
pub const EPOCH: u32 = 1003;
pub const SUMMARY: u32 = 1004;
pub const VENDOR: u32 = 1011;
pub const LICENSE: u32 = 1014;
pub const ARCH: u32 = 1022;
pub const SOURCERPM: u32 = 1044;
pub const REQUIRENAME: u32 = 1049;
pub const PROVIDENAME: u32 = 1047;

const INT32: u32 = 4;
const STRING: u32 = 6;
const STRING_ARRAY: u32 = 8;
const I18NSTRING: u32 = 9;
/// rpm's own ceiling on index entries per header.
const MAX_ENTRIES: usize = 0xffff;
/// Strings per array tag read (a package requires a few hundred at most).
const MAX_STRINGS: usize = 10_000;

/// A parsed header: its index and data store.
pub struct Header<'a> {
    entries: Vec<(u32, u32, usize, usize)>,
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Header<'a> {
    pub fn parse(blob: &'a [u8]) -> Option<Self> {
        let il = usize::try_from(be32(blob, 0)?).ok()?;
        let dl = usize::try_from(be32(blob, 4)?).ok()?;
        if il == 0 || il > MAX_ENTRIES {
            return None;
        }
        let start = il.checked_mul(16)?.checked_add(8)?;
        let data = blob.get(start..start.checked_add(dl)?)?;
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * 16;
            let (tag, ty) = (be32(blob, at)?, be32(blob, at + 4)?);
            let offset = usize::try_from(be32(blob, at + 8)?).ok()?;
            let count = usize::try_from(be32(blob, at + 12)?).ok()?;
            entries.push((tag, ty, offset, count));
        }
        Some(Self { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<(u32, usize, usize)> {
        self.entries
            .iter()
            .find(|e| e.0 == tag)
            .map(|&(_, ty, off, count)| (ty, off, count))
    }

    fn strings_at(&self, offset: usize, count: usize) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut at = offset;
        for _ in 0..count.min(MAX_STRINGS) {
            let rest = self.data.get(at..)?;
            let end = memchr::memchr(0, rest)?;
            out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            at = at.checked_add(end + 1)?;
        }
        Some(out)
    }

    /// A string tag (`STRING`, or the first of an `I18NSTRING`/`STRING_ARRAY`).
    pub fn string(&self, tag: u32) -> Option<String> {
        let (ty, off, count) = self.entry(tag)?;
        match ty {
            STRING | I18NSTRING | STRING_ARRAY => {
                self.strings_at(off, count.max(1))?.into_iter().next()
            }
            _ => None,
        }
    }

    /// Every string of a `STRING_ARRAY` tag.
    pub fn strings(&self, tag: u32) -> Vec<String> {
        match self.entry(tag) {
            Some((STRING_ARRAY, off, count)) => self.strings_at(off, count).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The first value of an `INT32` tag.
    pub fn int32(&self, tag: u32) -> Option<u32> {
        match self.entry(tag)? {
            (INT32, off, count) if count >= 1 => be32(self.data, off),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header with NAME (string), EPOCH (int32) and REQUIRENAME (array).
    fn blob() -> Vec<u8> {
        let data = b"bash\0\0\0\0\0\0\0\x01glibc\0ncurses\0".to_vec();
        let mut b = Vec::new();
        b.extend(3u32.to_be_bytes());
        b.extend((data.len() as u32).to_be_bytes());
        for (tag, ty, off, count) in [
            (NAME, STRING, 0u32, 1u32),
            (EPOCH, INT32, 8, 1),
            (REQUIRENAME, STRING_ARRAY, 12, 2),
        ] {
            for v in [tag, ty, off, count] {
                b.extend(v.to_be_bytes());
            }
        }
        b.extend(data);
        b
    }

    #[test]
    fn reads_strings_ints_and_arrays() {
        let b = blob();
        let h = Header::parse(&b).expect("parsed");
        assert_eq!(h.string(NAME).as_deref(), Some("bash"));
        assert_eq!(h.int32(EPOCH), Some(1));
        assert_eq!(h.strings(REQUIRENAME), ["glibc", "ncurses"]);
        assert_eq!(h.string(VERSION), None);
    }

    #[test]
    fn malformed_blobs_give_none_not_panics() {
        let b = blob();
        for cut in 0..b.len() {
            if let Some(h) = Header::parse(&b[..cut]) {
                let _ = (h.string(NAME), h.int32(EPOCH), h.strings(REQUIRENAME));
            }
        }
        assert!(Header::parse(&[0xff; 8]).is_none());
        let mut bad = b.clone();
        bad[8 + 8..8 + 12].copy_from_slice(&u32::MAX.to_be_bytes()); // NAME offset
        let h = Header::parse(&bad).expect("index still fits");
        assert_eq!(h.string(NAME), None);
    }
}
