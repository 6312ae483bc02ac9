//! Git's pkt-line framing (gitprotocol-common): 4 hex digits of length, then the payload;
//! `0000` flush, `0001` delimiter, `0002` response end.

/// One decoded packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    Data(&'a [u8]),
    Flush,
    Delim,
    ResponseEnd,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed pkt-line at byte {offset}: {reason}")]
pub struct PktError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Largest packet git allows (65520 bytes including the 4-byte header).
const MAX_PKT: usize = 65520;

/// Appends a data packet.
pub fn data(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(format!("{:04x}", payload.len() + 4).as_bytes());
    out.extend_from_slice(payload);
}

pub fn flush(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0000");
}

pub fn delim(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0001");
}

/// Splits a buffer into packets; never panics.
pub fn decode(mut buf: &[u8]) -> Result<Vec<Packet<'_>>, PktError> {
    let total = buf.len();
    let mut out = Vec::new();
    while !buf.is_empty() {
        let offset = total - buf.len();
        let err = |reason| PktError { offset, reason };
        let header = buf.get(..4).ok_or(err("truncated length"))?;
        let len = std::str::from_utf8(header)
            .ok()
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .ok_or(err("length is not 4 hex digits"))?;
        match len {
            0 => out.push(Packet::Flush),
            1 => out.push(Packet::Delim),
            2 => out.push(Packet::ResponseEnd),
            3 => return Err(err("length 3 is reserved")),
            n if n > MAX_PKT => return Err(err("packet longer than 65520 bytes")),
            n => out.push(Packet::Data(buf.get(4..n).ok_or(err("truncated payload"))?)),
        }
        buf = &buf[len.max(4)..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        let mut buf = Vec::new();
        data(&mut buf, b"command=ls-refs\n");
        delim(&mut buf);
        flush(&mut buf);
        assert_eq!(&buf[..4], b"0014");
        assert_eq!(
            decode(&buf).expect("decodes"),
            [
                Packet::Data(b"command=ls-refs\n"),
                Packet::Delim,
                Packet::Flush
            ]
        );
        assert!(decode(b"00").is_err());
        assert!(decode(b"0009abc").is_err());
        assert!(decode(b"zzzz").is_err());
        assert!(decode(b"0003").is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn encoded_payloads_decode(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..100), 0..8)) {
            let mut buf = Vec::new();
            for p in &payloads {
                data(&mut buf, p);
            }
            let got = decode(&buf).expect("valid");
            prop_assert_eq!(got.len(), payloads.len());
            for (g, p) in got.iter().zip(&payloads) {
                prop_assert_eq!(g, &Packet::Data(p));
            }
        }
    }
}
