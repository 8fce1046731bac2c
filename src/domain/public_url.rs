//! The site's own address as readers reach it (`FOLIO_PUBLIC_URL`): the
//! sitemap and `robots.txt` must name absolute URLs, and a cached page must
//! never take its host from a request's `Host` header, which anyone sets.

use std::net::SocketAddr;

/// `http://host[:port]` or `https://…`, without a path or a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicUrl(String);

impl PublicUrl {
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim().trim_end_matches('/');
        let expected = || {
            "an http:// or https:// address without a path, e.g. https://books.example.com"
                .to_owned()
        };
        let host = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"))
            .ok_or_else(expected)?;
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
        if !host_ok {
            return Err(expected());
        }
        Ok(Self(raw.to_owned()))
    }

    /// Without the setting: the address folio listens on (`localhost` for
    /// a wildcard bind such as `0.0.0.0:8080`).
    pub(crate) fn from_bind(bind: SocketAddr) -> Self {
        if bind.ip().is_unspecified() {
            Self(format!("http://localhost:{}", bind.port()))
        } else {
            Self(format!("http://{bind}"))
        }
    }

    /// The absolute URL of a path (`/books/1`).
    pub(crate) fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::PublicUrl;

    #[test]
    fn an_address_without_a_path_is_taken() {
        let url = PublicUrl::parse("https://books.example.com/").unwrap();
        assert_eq!(url.join("/books/1"), "https://books.example.com/books/1");
        assert!(PublicUrl::parse("http://127.0.0.1:8080").is_ok());
        for bad in [
            "books.example.com",
            "ftp://x",
            "https://",
            "https://a/b",
            "https://a b",
            "https://a\"b",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            PublicUrl::from_bind("0.0.0.0:8080".parse().unwrap()).join(""),
            "http://localhost:8080"
        );
    }
}
