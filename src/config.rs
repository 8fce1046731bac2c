//! Settings, read from the environment (and `.env`) in one place.
//!
//! Every variable is parsed into a typed value here; a bad value stops folio
//! with a message that names the variable and what it expects.

use std::net::SocketAddr;
use std::time::Duration;

/// Where the catalogue lives; the scheme of `DATABASE_URL` picks the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
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

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }

    /// The URL with any password masked, for logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => path.clone(),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
pub fn redact_password(url: &str) -> String {
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
pub struct CachePrefix(String);

impl CachePrefix {
    pub fn parse(raw: &str) -> Result<Self, String> {
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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub redis_url: Option<String>,
    pub cache_prefix: CachePrefix,
    pub bind: SocketAddr,
    /// TTL of the `/cache` sample list.
    pub cache_ttl: Duration,
    /// TTL of the monthly chart.
    pub top_books_ttl: Duration,
    /// How long past its TTL a cached copy is kept, to stand in while the
    /// database cannot answer (`stale-if-error`).
    pub cache_grace: Duration,
    /// Whether the uncached routes `/sample` and `/top/uncached` exist.
    pub uncached_routes: bool,
    /// The longest any one Redis command may take before folio gives up on it.
    pub redis_timeout: Duration,
    /// How long a session lives from sign-in (or from a reader's first form).
    pub session_ttl: Duration,
    /// Mark the session cookie `Secure` (the site is served over https).
    pub secure_cookies: bool,
    /// Ratings one client address may give per hour.
    pub ratings_per_hour: u64,
    /// How many search result pages the cache keeps at most (one per slot).
    pub search_cache_slots: u32,
    /// Bytes of the in-process tier in front of Redis (0: none).
    pub local_cache_bytes: u64,
    /// `Cache-Control: public, max-age=…` of public pages, in seconds.
    pub public_max_age: u64,
    /// `…, stale-while-revalidate=…` of public pages, in seconds.
    pub stale_while_revalidate: u64,
    /// Serve `/_bench/constant` (the benchmark's baseline route).
    pub bench_routes: bool,
    /// The key of visitors' form tokens; unset: shared through Redis, or
    /// made at start without Redis.
    pub secret_key: Option<String>,
    /// Password checks that may run at once (each holds 19 MiB).
    pub password_threads: usize,
    /// How long a sign-in may wait for a password check before a 503.
    pub password_wait: Duration,
    /// With it, `/metrics` and `/readyz`'s details need `Authorization:
    /// Bearer <token>`.
    pub metrics_token: Option<Secret>,
    /// How long a client may take to send a request's head.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_timeout: Duration,
    /// Open connections one instance accepts; more wait in the listen queue.
    pub max_connections: usize,
    /// Varnish or a CDN in front (`FOLIO_EDGE_*`, `src/edge/`).
    pub edge: crate::edge::EdgeSettings,
    /// Proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: crate::edge::TrustedProxies,
    /// The site's address for absolute URLs (sitemap, robots.txt).
    pub public_url: crate::domain::PublicUrl,
}

/// A setting that must never be printed: its Debug is a mask.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}={value:?} is not valid: expected {expected}")]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub expected: String,
}

/// The longest TTL a setting may ask for: one year.
const MAX_TTL_SECS: u64 = 366 * 24 * 3600;

impl Settings {
    /// Reads the process environment, after loading `.env` if there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any lookup function; the one place that knows the
    /// variables, their defaults and their bounds.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &'static str| lookup(var).filter(|v| !v.trim().is_empty());
        let invalid = |var: &'static str, value: &str, expected: &str| ConfigError {
            var,
            value: value.to_owned(),
            expected: expected.to_owned(),
        };

        let database_url = match get("DATABASE_URL") {
            Some(v) => DatabaseUrl::parse(&v).map_err(|e| invalid("DATABASE_URL", &v, &e))?,
            None => DatabaseUrl::Sqlite("folio.db".into()),
        };
        let redis_url = match get("REDIS_URL") {
            Some(v)
                if v.starts_with("redis://")
                    || v.starts_with("rediss://")
                    || v.starts_with("redis+unix://")
                    || v.starts_with("unix://") =>
            {
                Some(v)
            }
            Some(v) => {
                return Err(invalid(
                    "REDIS_URL",
                    &v,
                    "a redis:// or rediss:// URL, or unset for the in-process cache",
                ))
            }
            None => None,
        };
        let cache_prefix = match get("FOLIO_CACHE_PREFIX") {
            Some(v) => CachePrefix::parse(&v).map_err(|e| invalid("FOLIO_CACHE_PREFIX", &v, &e))?,
            None => CachePrefix("folio".into()),
        };
        let bind = match get("FOLIO_BIND") {
            Some(v) => v.trim().parse().map_err(|_| {
                invalid(
                    "FOLIO_BIND",
                    &v,
                    "an address with a port, such as 127.0.0.1:8080",
                )
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let seconds = |var: &'static str, default: u64| -> Result<Duration, ConfigError> {
            match get(var) {
                None => Ok(Duration::from_secs(default)),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if (1..=MAX_TTL_SECS).contains(&n) => Ok(Duration::from_secs(n)),
                    _ => Err(invalid(
                        var,
                        &v,
                        &format!("whole seconds from 1 to {MAX_TTL_SECS}"),
                    )),
                },
            }
        };
        let cache_ttl = seconds("CACHE_TTL", 300)?;
        let top_books_ttl = seconds("TOP_BOOKS_TTL", 30 * 24 * 3600)?;
        let cache_grace = seconds(
            "FOLIO_CACHE_GRACE",
            crate::cache::policy::DEFAULT_GRACE.as_secs(),
        )?;
        let switch = |var: &'static str, default: bool| -> Result<bool, ConfigError> {
            match get(var).as_deref().map(str::trim) {
                None => Ok(default),
                Some("on") => Ok(true),
                Some("off") => Ok(false),
                Some(v) => Err(invalid(var, v, "on or off")),
            }
        };
        let uncached_routes = switch("FOLIO_UNCACHED_ROUTES", true)?;
        let secure_cookies = switch("FOLIO_SECURE_COOKIES", false)?;
        let session_ttl = seconds("FOLIO_SESSION_TTL", 8 * 3600)?;
        let number = |var: &'static str,
                      default: u64,
                      range: std::ops::RangeInclusive<u64>|
         -> Result<u64, ConfigError> {
            match get(var) {
                None => Ok(default),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if range.contains(&n) => Ok(n),
                    _ => Err(invalid(
                        var,
                        &v,
                        &format!("a whole number from {} to {}", range.start(), range.end()),
                    )),
                },
            }
        };
        let ratings_per_hour = number("FOLIO_RATINGS_PER_HOUR", 20, 1..=10_000)?;
        let search_cache_slots = number("FOLIO_SEARCH_CACHE_SLOTS", 1024, 1..=65_536)? as u32;
        let local_cache_bytes = number("FOLIO_LOCAL_CACHE_MB", 32, 0..=4096)? * 1024 * 1024;
        let public_max_age = number("FOLIO_PUBLIC_MAX_AGE", 0, 0..=MAX_TTL_SECS)?;
        let stale_while_revalidate = number("FOLIO_STALE_WHILE_REVALIDATE", 0, 0..=MAX_TTL_SECS)?;
        let bench_routes = switch("FOLIO_BENCH_ROUTES", false)?;
        let secret_key = match get("FOLIO_SECRET_KEY") {
            Some(v) if v.len() >= 32 => Some(v),
            Some(v) => {
                return Err(invalid(
                    "FOLIO_SECRET_KEY",
                    "(hidden)",
                    &format!("at least 32 characters, not {}", v.len()),
                ))
            }
            None => None,
        };
        let redis_timeout = Duration::from_millis(number("REDIS_TIMEOUT_MS", 50, 1..=10_000)?);
        let password_threads = number("FOLIO_PASSWORD_THREADS", 2, 1..=64)? as usize;
        let password_wait =
            Duration::from_millis(number("FOLIO_PASSWORD_WAIT_MS", 3000, 1..=60_000)?);
        let metrics_token = match get("FOLIO_METRICS_TOKEN") {
            Some(v) if v.trim().len() >= 16 && v.trim().bytes().all(|b| b.is_ascii_graphic()) => {
                Some(Secret(v.trim().to_owned()))
            }
            Some(_) => {
                return Err(invalid(
                    "FOLIO_METRICS_TOKEN",
                    "(hidden)",
                    "at least 16 printable ASCII characters without spaces",
                ))
            }
            None => None,
        };
        let header_timeout =
            Duration::from_millis(number("FOLIO_HEADER_TIMEOUT_MS", 5_000, 100..=600_000)?);
        let body_timeout =
            Duration::from_millis(number("FOLIO_BODY_TIMEOUT_MS", 10_000, 100..=600_000)?);
        let max_connections = number("FOLIO_MAX_CONNECTIONS", 4096, 1..=1_000_000)? as usize;
        let edge = crate::edge::EdgeSettings::parse(
            get("FOLIO_EDGE_PURGE_URLS").as_deref(),
            get("FOLIO_EDGE_KEY_HEADER").as_deref(),
            get("FOLIO_EDGE_MAX_AGE").as_deref(),
            MAX_TTL_SECS,
        )?;
        let trusted_proxies = match get("FOLIO_TRUSTED_PROXIES") {
            Some(v) => crate::edge::TrustedProxies::parse(&v)
                .map_err(|e| invalid("FOLIO_TRUSTED_PROXIES", &v, &e))?,
            None => crate::edge::TrustedProxies::default(),
        };
        let public_url = match get("FOLIO_PUBLIC_URL") {
            Some(v) => crate::domain::PublicUrl::parse(&v)
                .map_err(|e| invalid("FOLIO_PUBLIC_URL", &v, &e))?,
            None => crate::domain::PublicUrl::from_bind(bind),
        };

        Ok(Self {
            database_url,
            redis_url,
            cache_prefix,
            bind,
            cache_ttl,
            top_books_ttl,
            cache_grace,
            uncached_routes,
            redis_timeout,
            session_ttl,
            secure_cookies,
            ratings_per_hour,
            search_cache_slots,
            local_cache_bytes,
            public_max_age,
            stale_while_revalidate,
            bench_routes,
            secret_key,
            password_threads,
            password_wait,
            metrics_token,
            header_timeout,
            body_timeout,
            max_connections,
            edge,
            trusted_proxies,
            public_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_nothing() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("folio.db".into()));
        assert_eq!(s.redis_url, None);
        assert_eq!(s.cache_prefix.as_str(), "folio");
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.cache_ttl, Duration::from_secs(300));
        assert_eq!(s.top_books_ttl, Duration::from_secs(2_592_000));
        assert_eq!(s.cache_grace, Duration::from_secs(2 * 24 * 3600));
        assert!(s.uncached_routes);
        assert!(
            s.max_connections >= 1024,
            "a burst of readers is never refused"
        );
        assert_eq!(s.metrics_token, None);
    }

    #[test]
    fn the_metrics_token_is_never_printed() {
        let s = settings(&[("FOLIO_METRICS_TOKEN", "a-very-secret-token-123")]).unwrap();
        assert_eq!(
            s.metrics_token.as_ref().unwrap().expose(),
            "a-very-secret-token-123"
        );
        assert!(!format!("{s:?}").contains("a-very-secret"));
    }

    #[test]
    fn database_url_scheme_picks_the_backend() {
        for (raw, want) in [
            (
                "sqlite://data/f.db",
                DatabaseUrl::Sqlite("data/f.db".into()),
            ),
            ("sqlite:f.db", DatabaseUrl::Sqlite("f.db".into())),
            ("/tmp/f.db", DatabaseUrl::Sqlite("/tmp/f.db".into())),
            (
                "postgres://u@h/db",
                DatabaseUrl::Postgres("postgres://u@h/db".into()),
            ),
            (
                "postgresql://u@h/db",
                DatabaseUrl::Postgres("postgresql://u@h/db".into()),
            ),
        ] {
            assert_eq!(DatabaseUrl::parse(raw).unwrap(), want, "{raw}");
        }
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("CACHE_TTL", "abc"),
            ("CACHE_TTL", "0"),
            ("TOP_BOOKS_TTL", "99999999999999999999"),
            ("FOLIO_CACHE_GRACE", "forever"),
            ("FOLIO_BIND", "localhost"),
            ("FOLIO_UNCACHED_ROUTES", "yes"),
            ("FOLIO_CACHE_PREFIX", "has space"),
            ("REDIS_URL", "http://x"),
            ("FOLIO_SECURE_COOKIES", "true"),
            ("FOLIO_SESSION_TTL", "0"),
            ("FOLIO_RATINGS_PER_HOUR", "1000000"),
            ("FOLIO_LOCAL_CACHE_MB", "-1"),
            ("FOLIO_PUBLIC_MAX_AGE", "soon"),
            ("FOLIO_BENCH_ROUTES", "1"),
            ("FOLIO_SECRET_KEY", "short"),
            ("FOLIO_PASSWORD_THREADS", "0"),
            ("FOLIO_PASSWORD_WAIT_MS", "a while"),
            ("FOLIO_METRICS_TOKEN", "short"),
            ("FOLIO_METRICS_TOKEN", "has a space in the middle"),
            ("FOLIO_HEADER_TIMEOUT_MS", "0"),
            ("FOLIO_BODY_TIMEOUT_MS", "-1"),
            ("FOLIO_MAX_CONNECTIONS", "0"),
            ("DATABASE_URL", "mysql://x/y"),
            ("FOLIO_EDGE_PURGE_URLS", "ftp://edge"),
            ("FOLIO_EDGE_KEY_HEADER", "etag"),
            ("FOLIO_TRUSTED_PROXIES", "localhost"),
        ] {
            let err = settings(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var);
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn passwords_are_masked_in_logs() {
        assert_eq!(
            redact_password("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
    }
}
