//! The stored form of a cached value: a small text header, then the body.
//!
//! ```text
//! F1 <created_ms> <expires_ms> <compute_us>\n
//! <tag>=<version> <tag>=<version> ...\n
//! <body bytes>
//! ```
//! The second line is what the Redis read script checks against the current
//! tag versions, so it stays plain text. The body is served as it is stored.

use bytes::{BufMut, Bytes, BytesMut};

const MAGIC: &str = "F1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub created_ms: u64,
    pub expires_ms: u64,
    /// How long the value took to compute (for early refresh).
    pub compute_us: u64,
    /// Each tag the value depends on, with the version it was computed under.
    pub deps: Vec<(String, u64)>,
    pub body: Bytes,
}

impl Entry {
    pub fn encode(&self) -> Bytes {
        let mut deps = String::new();
        for (i, (tag, version)) in self.deps.iter().enumerate() {
            if i > 0 {
                deps.push(' ');
            }
            deps.push_str(tag);
            deps.push('=');
            deps.push_str(&version.to_string());
        }
        let header = format!(
            "{MAGIC} {} {} {}\n{deps}\n",
            self.created_ms, self.expires_ms, self.compute_us
        );
        let mut out = BytesMut::with_capacity(header.len() + self.body.len());
        out.put_slice(header.as_bytes());
        out.put_slice(&self.body);
        out.freeze()
    }

    /// Parses a stored entry; `None` for anything not written by this format.
    /// The body shares the input's memory.
    pub fn decode(raw: Bytes) -> Option<Entry> {
        let first = raw.iter().position(|&b| b == b'\n')?;
        let second = first + 1 + raw[first + 1..].iter().position(|&b| b == b'\n')?;
        let header = std::str::from_utf8(&raw[..first]).ok()?;
        let mut fields = header.split(' ');
        if fields.next()? != MAGIC {
            return None;
        }
        let created_ms = fields.next()?.parse().ok()?;
        let expires_ms = fields.next()?.parse().ok()?;
        let compute_us = fields.next()?.parse().ok()?;
        let deps = std::str::from_utf8(&raw[first + 1..second])
            .ok()?
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|pair| {
                let (tag, version) = pair.split_once('=')?;
                Some((tag.to_owned(), version.parse().ok()?))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Entry {
            created_ms,
            expires_ms,
            compute_us,
            deps,
            body: raw.slice(second + 1..),
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
            expires_ms: 2,
            compute_us: 3,
            deps: vec![
                ("chart".into(), 0),
                ("book:7".into(), 1_700_000_000_000_000),
            ],
            body: Bytes::from_static(b"<p>\nhello</p>\n"),
        };
        assert_eq!(Entry::decode(entry.encode()), Some(entry));
    }

    #[test]
    fn no_deps_and_empty_body() {
        let entry = Entry {
            created_ms: 5,
            expires_ms: 6,
            compute_us: 0,
            deps: vec![],
            body: Bytes::new(),
        };
        assert_eq!(Entry::decode(entry.encode()), Some(entry));
    }

    #[test]
    fn rejects_foreign_values() {
        assert_eq!(Entry::decode(Bytes::from_static(b"hello")), None);
        assert_eq!(Entry::decode(Bytes::from_static(b"F0 1 2 3\n\nbody")), None);
        assert_eq!(Entry::decode(Bytes::from_static(b"F1 1 2\n\nbody")), None);
    }
}
