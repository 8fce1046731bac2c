//! The stored form of a cached value: a small text header, then the body.
//!
//! ```text
//! F3 <created_ms> <stale_at_ms> <compute_us> <flags> <expires_at_ms> <gzip_len> <br_len>\n
//! <tag>=<version> <tag>=<version> ...\n
//! <body bytes><gzip copy><brotli copy>
//! ```
//! The second line is what the Redis read script checks against the current
//! tag versions, so it stays plain text. Bodies of `COMPRESS_MIN_BYTES` or
//! more are stored LZ4-compressed (flag 1); smaller ones as they are. The
//! gzip and brotli copies (see `encoding.rs`) follow as they will be sent.

use bytes::{BufMut, Bytes, BytesMut};

use super::encoding::Encodings;
use super::tag_versions::TagVersions;

const MAGIC: &str = "F3";
const FLAG_LZ4: u32 = 1;
/// Smaller bodies gain little from compression and cost a copy.
pub(crate) const COMPRESS_MIN_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) created_ms: u64,
    /// From this instant the entry is expired: served stale while one
    /// request refreshes it (the store keeps it a while longer).
    pub(crate) stale_at_ms: u64,
    /// How long the value took to compute (for early refresh).
    pub(crate) compute_us: u64,
    /// The end of its TTL: from then on only a grace copy (the store keeps
    /// it for the grace period beyond).
    pub(crate) expires_at_ms: u64,
    /// Each tag the value depends on, with the version it was computed under.
    pub(crate) deps: TagVersions,
    pub(crate) body: Bytes,
    /// Compressed copies of `body`, served as they are.
    pub(crate) encodings: Encodings,
}

impl Entry {
    pub(crate) fn encode(&self) -> Bytes {
        let (flags, body) = if self.body.len() >= COMPRESS_MIN_BYTES {
            (
                FLAG_LZ4,
                Bytes::from(lz4_flex::compress_prepend_size(&self.body)),
            )
        } else {
            (0, self.body.clone())
        };
        let deps = &self.deps;
        let (gzip, br) = (
            self.encodings.gzip.as_deref().unwrap_or_default(),
            self.encodings.br.as_deref().unwrap_or_default(),
        );
        let header = format!(
            "{MAGIC} {} {} {} {flags} {} {} {}\n{deps}\n",
            self.created_ms,
            self.stale_at_ms,
            self.compute_us,
            self.expires_at_ms,
            gzip.len(),
            br.len()
        );
        let mut out = BytesMut::with_capacity(header.len() + body.len() + gzip.len() + br.len());
        out.put_slice(header.as_bytes());
        out.put_slice(&body);
        out.put_slice(gzip);
        out.put_slice(br);
        out.freeze()
    }

    /// Parses a stored entry; `None` for anything not written by this format.
    /// An uncompressed body shares the input's memory.
    pub(crate) fn decode(raw: &Bytes) -> Option<Entry> {
        let first = raw.iter().position(|&b| b == b'\n')?;
        let second = first + 1 + raw[first + 1..].iter().position(|&b| b == b'\n')?;
        let header = std::str::from_utf8(&raw[..first]).ok()?;
        let mut fields = header.split(' ');
        if fields.next()? != MAGIC {
            return None;
        }
        let created_ms = fields.next()?.parse().ok()?;
        let stale_at_ms = fields.next()?.parse().ok()?;
        let compute_us = fields.next()?.parse().ok()?;
        let flags: u32 = fields.next()?.parse().ok()?;
        let expires_at_ms = fields.next()?.parse().ok()?;
        let gzip_len: usize = fields.next()?.parse().ok()?;
        let br_len: usize = fields.next()?.parse().ok()?;
        let deps = TagVersions::parse(std::str::from_utf8(&raw[first + 1..second]).ok()?)?;
        let copies_at = raw.len().checked_sub(gzip_len + br_len)?;
        if copies_at < second + 1 {
            return None;
        }
        let stored = raw.slice(second + 1..copies_at);
        let copy = |from: usize, len: usize| (len > 0).then(|| raw.slice(from..from + len));
        let encodings = Encodings {
            gzip: copy(copies_at, gzip_len),
            br: copy(copies_at + gzip_len, br_len),
        };
        let body = if flags & FLAG_LZ4 != 0 {
            Bytes::from(lz4_flex::decompress_size_prepended(&stored).ok()?)
        } else {
            stored
        };
        Some(Entry {
            created_ms,
            stale_at_ms,
            compute_us,
            expires_at_ms,
            deps,
            body,
            encodings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let entry = Entry {
            created_ms: 1,
            stale_at_ms: 2,
            compute_us: 3,
            expires_at_ms: 4,
            deps: TagVersions::new(vec![
                ("chart".into(), 0),
                ("book:7".into(), 1_700_000_000_000_000),
            ]),
            body: Bytes::from_static(b"<p>\nhello</p>\n"),
            encodings: Encodings {
                gzip: Some(Bytes::from_static(b"gz\nbytes")),
                br: Some(Bytes::from_static(b"br")),
            },
        };
        assert_eq!(Entry::decode(&entry.encode()), Some(entry));
    }

    #[test]
    fn no_deps_and_empty_body() {
        let entry = Entry {
            created_ms: 5,
            stale_at_ms: 6,
            compute_us: 0,
            expires_at_ms: 7,
            deps: TagVersions::default(),
            body: Bytes::new(),
            encodings: Encodings::default(),
        };
        assert_eq!(Entry::decode(&entry.encode()), Some(entry));
    }

    #[test]
    fn large_bodies_are_compressed_small_ones_are_not() {
        let page = "<li>The Silent Garden · Ada Abbott</li>\n".repeat(200);
        let big = Entry {
            created_ms: 1,
            stale_at_ms: 2,
            compute_us: 3,
            expires_at_ms: 4,
            deps: TagVersions::default(),
            body: Bytes::from(page),
            encodings: Encodings::default(),
        };
        let stored = big.encode();
        assert!(
            stored.len() < big.body.len() / 4,
            "{} of {}",
            stored.len(),
            big.body.len()
        );
        assert!(
            std::str::from_utf8(&stored[..stored.iter().position(|&b| b == b'\n').unwrap()])
                .unwrap()
                .ends_with(" 1 4 0 0")
        );
        assert_eq!(Entry::decode(&stored), Some(big));

        let small = Entry {
            created_ms: 1,
            stale_at_ms: 2,
            compute_us: 3,
            expires_at_ms: 4,
            deps: TagVersions::default(),
            body: Bytes::from_static(b"tiny"),
            encodings: Encodings::default(),
        };
        let stored = small.encode();
        assert!(stored.ends_with(b"tiny"));
        assert_eq!(Entry::decode(&stored), Some(small));
    }

    #[test]
    fn rejects_foreign_values() {
        assert_eq!(Entry::decode(&Bytes::from_static(b"hello")), None);
        assert_eq!(
            Entry::decode(&Bytes::from_static(b"F1 1 2 3\n\nbody")),
            None
        );
        assert_eq!(
            Entry::decode(&Bytes::from_static(b"F2 1 2 3 0\n\nbody")),
            None
        );
        assert_eq!(
            Entry::decode(&Bytes::from_static(b"F3 1 2 3 1 4 0 0\n\nnot lz4")),
            None
        );
        // Copies longer than what is there.
        assert_eq!(
            Entry::decode(&Bytes::from_static(b"F3 1 2 3 0 4 90 0\n\nbody")),
            None
        );
    }
}
