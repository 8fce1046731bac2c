//! The types settings parse into, and the parsers clap calls for them. Each
//! parser's error says what it expects; `config` puts the variable's name
//! in front.

use std::net::SocketAddr;
use std::time::Duration;

/// The longest TTL a setting may ask for: one year.
pub(crate) const MAX_TTL_SECS: u64 = 366 * 24 * 3600;

/// Where the catalogue lives; the scheme of `DATABASE_URL` picks the backend.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (`sqlite://PATH`, `sqlite:PATH` or a plain path).
    Sqlite(String),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("a non-empty SQLite path or postgres:// URL".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() {
            return Err("a path after sqlite://".into());
        }
        if path.contains("://") {
            return Err("sqlite://PATH, a plain path, or a postgres:// URL".into());
        }
        Ok(Self::Sqlite(path.to_owned()))
    }

    pub(crate) fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }

    /// The URL with any password masked, for logs.
    pub(crate) fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => path.clone(),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

/// Never prints a password.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.backend_name(), self.redacted())
    }
}

/// A `redis://` (or `rediss://`, `redis+unix://`, `unix://`) URL, or
/// `redis+sentinel://host:port,…/master-name` (see `crate::redis::Target`);
/// it may hold a password, so its Debug masks it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RedisUrl(String);

impl RedisUrl {
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        crate::redis::Target::parse(raw)?;
        Ok(Self(raw.to_owned()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisUrl({self})")
    }
}

/// For logs: the password masked.
impl std::fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_password(&self.0))
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
pub(crate) fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// The namespace in front of every cache key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CachePrefix(String);

impl CachePrefix {
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err("1 to 64 characters from A-Z a-z 0-9 _ - .".into())
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A setting that must never be printed: its Debug is a mask.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `FOLIO_SECRET_KEY`: long enough to key an HMAC.
    pub(crate) fn parse_key(raw: &str) -> Result<Self, String> {
        if raw.len() >= 32 {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!("at least 32 characters, not {}", raw.len()))
        }
    }

    /// `FOLIO_METRICS_TOKEN`: one word a client can put in a header.
    pub(crate) fn parse_token(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() >= 16 && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err("at least 16 printable ASCII characters without spaces".into())
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

pub(crate) fn socket_addr(raw: &str) -> Result<SocketAddr, String> {
    raw.trim()
        .parse()
        .map_err(|_| "an address with a port, such as 127.0.0.1:8080".into())
}

/// `on` or `off`.
pub(crate) fn on_off(raw: &str) -> Result<bool, String> {
    match raw.trim() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("on or off".into()),
    }
}

/// A whole number from `LO` to `HI`, as the type its setting holds.
pub(crate) fn whole<const LO: u64, const HI: u64, T: TryFrom<u64>>(raw: &str) -> Result<T, String> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (LO..=HI).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| format!("a whole number from {LO} to {HI}"))
}

/// Whole seconds from 1 to a year: a TTL.
pub(crate) fn ttl(raw: &str) -> Result<Duration, String> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=MAX_TTL_SECS).contains(n))
        .map(Duration::from_secs)
        .ok_or_else(|| format!("whole seconds from 1 to {MAX_TTL_SECS}"))
}

/// Seconds from 0 to a year: a lifetime clients may add to a response.
pub(crate) fn seconds_or_zero(raw: &str) -> Result<u64, String> {
    whole::<0, MAX_TTL_SECS, u64>(raw)
}

/// Milliseconds from `LO` to `HI`.
pub(crate) fn millis<const LO: u64, const HI: u64>(raw: &str) -> Result<Duration, String> {
    whole::<LO, HI, u64>(raw).map(Duration::from_millis)
}
