//! Compressed copies of a cached body, made once when it is computed and
//! served as stored: a hit does no compression work.
//!
//! gzip (every client) and brotli (every current browser) are kept beside
//! the plain body; which one a request gets is decided from its
//! `Accept-Encoding` by [`Coding::choose`].

use std::io::Write;

use bytes::Bytes;

/// Bodies smaller than this gain too little to be worth a second copy.
pub(crate) const MIN_BYTES: usize = 1024;
/// gzip's best: done once per computation, read many times.
const GZIP_LEVEL: u32 = 9;
/// brotli 9 gives most of 11's gain at a tenth of its time.
const BROTLI_QUALITY: i32 = 9;
const BROTLI_WINDOW: i32 = 22;

/// The compressed copies of one body (none for small ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encodings {
    pub(crate) gzip: Option<Bytes>,
    pub(crate) br: Option<Bytes>,
}

impl Encodings {
    /// Compresses `body` both ways, unless it is small. CPU work: call it
    /// off the async executor.
    pub(crate) fn of(body: &[u8]) -> Self {
        if body.len() < MIN_BYTES {
            return Self::default();
        }
        let mut gzip =
            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(GZIP_LEVEL));
        let gzip = gzip
            .write_all(body)
            .and_then(|()| gzip.finish())
            .ok()
            .map(Bytes::from);
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: BROTLI_QUALITY,
            lgwin: BROTLI_WINDOW,
            ..Default::default()
        };
        let br = brotli::BrotliCompress(&mut &body[..], &mut br, &params)
            .ok()
            .map(|_| Bytes::from(br));
        Self { gzip, br }
    }

    /// The stored bytes for `coding`, if there are any.
    pub(crate) fn get(&self, coding: Coding) -> Option<&Bytes> {
        match coding {
            Coding::Identity => None,
            Coding::Gzip => self.gzip.as_ref(),
            Coding::Brotli => self.br.as_ref(),
        }
    }

    /// Bytes held, for the in-process tier's weigher.
    pub(crate) fn bytes(&self) -> usize {
        self.gzip.as_ref().map_or(0, Bytes::len) + self.br.as_ref().map_or(0, Bytes::len)
    }
}

/// A content coding folio stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` value (none for the plain body).
    pub(crate) fn header(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }

    /// What sets this coding's `ETag` apart from the plain body's: each
    /// encoding is its own representation (RFC 9110 8.8.3).
    pub(crate) fn etag_suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => "-gz",
            Coding::Brotli => "-br",
        }
    }

    /// The best stored coding that `accept_encoding` allows: brotli, then
    /// gzip, then the plain body. Codings with `q=0` are refused; `*`
    /// stands for any coding not named.
    pub(crate) fn choose(accept_encoding: &str, stored: &Encodings) -> Coding {
        Self::pick(accept_encoding, stored.br.is_some(), stored.gzip.is_some())
    }

    /// The coding to compress a response with on the fly: brotli, then
    /// gzip, if `accept_encoding` allows one.
    pub(crate) fn preferred(accept_encoding: &str) -> Coding {
        Self::pick(accept_encoding, true, true)
    }

    fn pick(accept_encoding: &str, have_br: bool, have_gzip: bool) -> Coding {
        let mut br = None;
        let mut gzip = None;
        let mut any = None;
        for item in accept_encoding.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let accepted = q > 0.0;
            if name.eq_ignore_ascii_case("br") {
                br = Some(accepted);
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(accepted);
            } else if name == "*" {
                any = Some(accepted);
            }
        }
        let allows = |named: Option<bool>| named.or(any).unwrap_or(false);
        if have_br && allows(br) {
            Coding::Brotli
        } else if have_gzip && allows(gzip) {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn both() -> Encodings {
        Encodings::of(
            "<li>The Silent Garden · Ada Abbott</li>\n"
                .repeat(100)
                .as_bytes(),
        )
    }

    #[test]
    fn both_copies_decode_to_the_body_and_are_smaller() {
        let body = "<li>The Silent Garden · Ada Abbott</li>\n".repeat(100);
        let stored = Encodings::of(body.as_bytes());
        let mut gunzipped = String::new();
        flate2::read::GzDecoder::new(&stored.gzip.as_ref().unwrap()[..])
            .read_to_string(&mut gunzipped)
            .unwrap();
        assert_eq!(gunzipped, body);
        let mut unbrotlied = String::new();
        brotli::Decompressor::new(&stored.br.as_ref().unwrap()[..], 4096)
            .read_to_string(&mut unbrotlied)
            .unwrap();
        assert_eq!(unbrotlied, body);
        assert!(stored.bytes() < body.len() / 10, "{}", stored.bytes());
        assert_eq!(Encodings::of(b"tiny"), Encodings::default());
    }

    #[test]
    fn the_best_accepted_coding_wins() {
        let stored = both();
        for (accept, want) in [
            ("gzip, deflate, br, zstd", Coding::Brotli),
            ("gzip", Coding::Gzip),
            ("GZIP;q=0.5", Coding::Gzip),
            ("br;q=0, gzip", Coding::Gzip),
            ("br;q=0, gzip;q=0", Coding::Identity),
            ("*", Coding::Brotli),
            ("*;q=0, gzip", Coding::Gzip),
            ("identity", Coding::Identity),
            ("deflate, zstd", Coding::Identity),
            ("", Coding::Identity),
        ] {
            assert_eq!(Coding::choose(accept, &stored), want, "{accept}");
        }
        // Nothing stored: the plain body, whatever the client says.
        assert_eq!(
            Coding::choose("br, gzip", &Encodings::default()),
            Coding::Identity
        );
    }
}
