//! The edge tier: Varnish or a CDN in front of folio, kept as exact as
//! folio's own tiers.
//!
//! Every public cached response names the tags it depends on as surrogate
//! keys (`xkey` for Varnish, `Surrogate-Key` for Fastly-style CDNs,
//! `Cache-Tag` for Cloudflare-style ones; `policy::Fragment::edge_keys`
//! says which). Once edges are configured (`FOLIO_EDGE_PURGE_URLS`) those
//! responses also say how long an edge may keep them (`s-maxage`,
//! `Surrogate-Control`) while browsers still revalidate, and the change feed
//! purges the tags it bumps at every edge (`purge.rs`).

pub(crate) mod forwarded;
pub(crate) mod purge;

use std::fmt::Write as _;

use actix_web::http::header::{HeaderName, HeaderValue};

use crate::cache::Fragment;

pub(crate) use forwarded::TrustedProxies;
pub use purge::{EdgePurger, PurgeError};

/// At most this many edges: each is purged on every write.
pub(crate) const MAX_EDGES: usize = 16;

/// The header an edge reads surrogate keys from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyHeader {
    /// Varnish's xkey vmod: keys separated by spaces.
    Xkey,
    /// Fastly and others: keys separated by spaces.
    SurrogateKey,
    /// Cloudflare and others: keys separated by commas.
    CacheTag,
}

impl KeyHeader {
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "xkey" => Some(Self::Xkey),
            "surrogate-key" => Some(Self::SurrogateKey),
            "cache-tag" => Some(Self::CacheTag),
            _ => None,
        }
    }

    fn parse_setting(raw: &str) -> Result<Self, String> {
        Self::parse(raw).ok_or_else(|| "xkey, surrogate-key or cache-tag".into())
    }

    pub(crate) fn name(self) -> HeaderName {
        HeaderName::from_static(match self {
            Self::Xkey => "xkey",
            Self::SurrogateKey => "surrogate-key",
            Self::CacheTag => "cache-tag",
        })
    }

    pub(crate) fn separator(self) -> char {
        match self {
            Self::Xkey | Self::SurrogateKey => ' ',
            Self::CacheTag => ',',
        }
    }

    /// The header's value for some keys.
    pub(crate) fn join<I: IntoIterator<Item = String>>(self, keys: I) -> String {
        let mut out = String::new();
        for key in keys {
            if !out.is_empty() {
                out.push(self.separator());
            }
            out.push_str(&key);
        }
        out
    }
}

/// The edge settings (`FOLIO_EDGE_*`).
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
#[command(next_help_heading = "Edge (Varnish or a CDN in front)")]
pub struct EdgeSettings {
    /// Base URLs (comma-separated, 16 at most) that take `PURGE` with the
    /// key header; public pages then get `s-maxage`. Unset: no edge keeps
    /// anything.
    #[arg(id = "FOLIO_EDGE_PURGE_URLS", long = "edge-purge-urls", env = "FOLIO_EDGE_PURGE_URLS",
          value_name = "URLS", default_value = "", value_parser = PurgeUrls::parse)]
    pub(crate) purge_urls: PurgeUrls,
    /// The header of surrogate keys and purges: `xkey`, `surrogate-key` or
    /// `cache-tag`.
    #[arg(id = "FOLIO_EDGE_KEY_HEADER", long = "edge-key-header", env = "FOLIO_EDGE_KEY_HEADER",
          value_name = "HEADER", default_value = "xkey", value_parser = KeyHeader::parse_setting)]
    pub(crate) key_header: KeyHeader,
    /// `s-maxage` of public pages while edges are purged (seconds).
    #[arg(id = "FOLIO_EDGE_MAX_AGE", long = "edge-max-age", env = "FOLIO_EDGE_MAX_AGE",
          value_name = "SECONDS", default_value = "3600", value_parser = edge_max_age)]
    pub(crate) max_age: u64,
}

/// The edges' base URLs, without a trailing slash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PurgeUrls(pub Vec<String>);

impl PurgeUrls {
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let mut urls = Vec::new();
        for url in raw.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let parsed = reqwest::Url::parse(url).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none()
            });
            if parsed.is_none() {
                return Err("comma-separated http:// or https:// base URLs".into());
            }
            urls.push(url.trim_end_matches('/').to_owned());
        }
        if urls.len() > MAX_EDGES {
            return Err(format!("at most {MAX_EDGES} URLs"));
        }
        Ok(Self(urls))
    }
}

/// The longest `s-maxage` folio sends: a year, the bound of every TTL
/// setting (`config::MAX_TTL_SECS`, which the settings' tests compare; the
/// edge does not import the settings, which import it).
pub(crate) const MAX_EDGE_MAX_AGE: u64 = 366 * 24 * 3600;

fn edge_max_age(raw: &str) -> Result<u64, String> {
    let max = MAX_EDGE_MAX_AGE;
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("whole seconds from 1 to {max}"))
}

impl EdgeSettings {
    pub(crate) fn purged(&self) -> bool {
        !self.purge_urls.0.is_empty()
    }
}

/// The edge headers of public responses, made once from the settings.
#[derive(Debug, Clone)]
pub struct EdgeHeaders {
    pub(crate) key_header: KeyHeader,
    /// `Surrogate-Control: max-age=…`, only while edges are purged.
    pub(crate) surrogate_control: Option<HeaderValue>,
}

impl EdgeHeaders {
    pub(crate) fn of(settings: &EdgeSettings) -> Self {
        Self {
            key_header: settings.key_header,
            surrogate_control: settings.purged().then(|| {
                HeaderValue::try_from(format!("max-age={}", settings.max_age))
                    .expect("digits make a header value")
            }),
        }
    }

    /// The surrogate keys of a fragment's response.
    /// Written into one string: this runs on every cached hit.
    pub(crate) fn keys_of(&self, fragment: &Fragment) -> HeaderValue {
        use std::fmt::Write;
        let mut value = String::with_capacity(48);
        for tag in fragment.edge_keys() {
            if !value.is_empty() {
                value.push(self.key_header.separator());
            }
            let _ = write!(value, "{tag}");
        }
        HeaderValue::try_from(value).expect("tags are ASCII")
    }
}

/// `Cache-Control` of public pages: browsers keep them `public_max_age`
/// (0: revalidate each time); purged edges keep them `s-maxage`.
pub(crate) fn public_cache_control(
    public_max_age: u64,
    stale_while_revalidate: u64,
    stale_if_error: u64,
    edge: &EdgeSettings,
) -> HeaderValue {
    let mut value = format!("public, max-age={public_max_age}");
    if edge.purged() {
        let _ = write!(value, ", s-maxage={}", edge.max_age);
    }
    let _ = write!(
        value,
        ", stale-while-revalidate={stale_while_revalidate}, stale-if-error={stale_if_error}"
    );
    HeaderValue::try_from(value).expect("digits and ASCII make a header value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, Settings};

    /// An edge keeps a page an hour by default (`default_value` of
    /// `FOLIO_EDGE_MAX_AGE`): purges keep it exact.
    const DEFAULT_EDGE_MAX_AGE: u64 = 3600;

    fn edge(vars: &[(&str, &str)]) -> Result<EdgeSettings, ConfigError> {
        Settings::from_lookup(|k| {
            vars.iter()
                .find(|(var, _)| *var == k)
                .map(|(_, v)| (*v).to_owned())
        })
        .map(|s| s.edge)
    }

    #[test]
    fn edge_settings_default_to_xkey_and_no_edge() {
        let s = edge(&[]).unwrap();
        assert!(!s.purged());
        assert_eq!(s.key_header, KeyHeader::Xkey);
        assert_eq!(s.max_age, DEFAULT_EDGE_MAX_AGE);
        let cc = public_cache_control(0, 0, 60, &s);
        assert_eq!(
            cc,
            "public, max-age=0, stale-while-revalidate=0, stale-if-error=60"
        );
        assert!(EdgeHeaders::of(&s).surrogate_control.is_none());
    }

    #[test]
    fn configured_edges_keep_pages_while_browsers_revalidate() {
        let s = edge(&[
            (
                "FOLIO_EDGE_PURGE_URLS",
                "http://127.0.0.1:6081/, https://edge.example",
            ),
            ("FOLIO_EDGE_KEY_HEADER", "Cache-Tag"),
            ("FOLIO_EDGE_MAX_AGE", "7200"),
        ])
        .unwrap();
        assert_eq!(
            s.purge_urls.0,
            vec!["http://127.0.0.1:6081", "https://edge.example"]
        );
        assert_eq!(s.key_header, KeyHeader::CacheTag);
        assert_eq!(
            public_cache_control(0, 5, 60, &s),
            "public, max-age=0, s-maxage=7200, stale-while-revalidate=5, stale-if-error=60"
        );
        let headers = EdgeHeaders::of(&s);
        assert_eq!(headers.surrogate_control.as_ref().unwrap(), "max-age=7200");
        assert_eq!(
            headers.keys_of(&Fragment::BookJson(7)),
            "all,book:7,ratings:7"
        );
    }

    #[test]
    fn bad_edge_settings_name_the_variable() {
        let many = vec!["http://e"; MAX_EDGES + 1].join(",");
        for (var, value) in [
            ("FOLIO_EDGE_PURGE_URLS", "ftp://x"),
            ("FOLIO_EDGE_PURGE_URLS", "not a url"),
            ("FOLIO_EDGE_PURGE_URLS", "http://x/?a=b"),
            ("FOLIO_EDGE_PURGE_URLS", many.as_str()),
            ("FOLIO_EDGE_KEY_HEADER", "etag"),
            ("FOLIO_EDGE_MAX_AGE", "0"),
            ("FOLIO_EDGE_MAX_AGE", "soon"),
        ] {
            let err = edge(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var);
        }
    }
}
