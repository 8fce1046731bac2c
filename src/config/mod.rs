//! Settings: declared once, here, as clap arguments read from the
//! environment (and `.env`), so `folio --help` is the one list of them (the
//! README's table is checked against it). They are grouped by concern; each
//! value is parsed into a typed one (`values.rs`), and a bad value stops
//! folio with a message that names the variable and what it expects.
//! Secrets (`Secret`, the URLs' passwords) never print.

mod values;

use std::net::SocketAddr;
use std::time::Duration;

use clap::{ArgAction, Args, FromArgMatches};

pub use values::DatabaseUrl;
use values::{millis, on_off, seconds_or_zero, socket_addr, ttl, whole};
pub(crate) use values::{CachePrefix, RedisUrl, Secret};

/// Every setting of one instance.
#[derive(Args, Clone, Debug)]
pub struct Settings {
    #[command(flatten)]
    pub(crate) database: DatabaseSettings,
    #[command(flatten)]
    pub(crate) redis: RedisSettings,
    #[command(flatten)]
    pub(crate) cache: CacheSettings,
    #[command(flatten)]
    pub(crate) http: HttpSettings,
    #[command(flatten)]
    pub(crate) auth: AuthSettings,
    #[command(flatten)]
    pub(crate) edge: crate::edge::EdgeSettings,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Database")]
pub(crate) struct DatabaseSettings {
    #[expect(clippy::doc_markdown, reason = "--help's text, read on a terminal")]
    /// `sqlite://PATH`, `sqlite:PATH` or a plain path: SQLite;
    /// `postgres://…` or `postgresql://…`: PostgreSQL.
    #[arg(id = "DATABASE_URL", long = "database-url", env = "DATABASE_URL",
          value_name = "URL", default_value = "folio.db", hide_env_values = true,
          value_parser = DatabaseUrl::parse)]
    pub(crate) url: DatabaseUrl,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Redis")]
pub(crate) struct RedisSettings {
    /// Unset: cache, sessions and rate limits live in process memory (one
    /// instance). Set: in Redis, shared by every instance;
    /// `redis+sentinel://host:port,…/master-name` follows the master Redis
    /// Sentinel names.
    #[arg(id = "REDIS_URL", long = "redis-url", env = "REDIS_URL", value_name = "URL",
          hide_env_values = true, value_parser = RedisUrl::parse)]
    pub(crate) url: Option<RedisUrl>,
    /// The longest one Redis command may take (ms); then folio serves from
    /// the database.
    #[arg(id = "REDIS_TIMEOUT_MS", long = "redis-timeout-ms", env = "REDIS_TIMEOUT_MS",
          value_name = "MS", default_value = "50", value_parser = millis::<1, 10_000>)]
    pub(crate) timeout: Duration,
    /// Namespace of every Redis key, so several sites or test runs share
    /// one Redis.
    #[arg(id = "FOLIO_CACHE_PREFIX", long = "cache-prefix", env = "FOLIO_CACHE_PREFIX",
          value_name = "PREFIX", default_value = "folio", value_parser = CachePrefix::parse)]
    pub(crate) prefix: CachePrefix,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Cache")]
pub(crate) struct CacheSettings {
    /// Seconds the `/cache` sample list is kept.
    #[arg(id = "CACHE_TTL", long = "cache-ttl", env = "CACHE_TTL", value_name = "SECONDS",
          default_value = "300", value_parser = ttl)]
    pub(crate) ttl: Duration,
    /// Seconds the monthly chart is kept (30 days).
    #[arg(id = "TOP_BOOKS_TTL", long = "top-books-ttl", env = "TOP_BOOKS_TTL",
          value_name = "SECONDS", default_value = "2592000", value_parser = ttl)]
    pub(crate) top_books_ttl: Duration,
    /// Seconds a cached copy is kept past its TTL, served (marked stale)
    /// while the database cannot answer; also `stale-if-error` (2 days).
    #[arg(id = "FOLIO_CACHE_GRACE", long = "cache-grace", env = "FOLIO_CACHE_GRACE",
          value_name = "SECONDS", default_value = "172800", value_parser = ttl)]
    pub(crate) grace: Duration,
    /// With Redis: megabytes of the in-process tier in front of it; 0 turns
    /// it off.
    #[arg(id = "FOLIO_LOCAL_CACHE_MB", long = "local-cache-mb", env = "FOLIO_LOCAL_CACHE_MB",
          value_name = "MB", default_value = "32", value_parser = whole::<0, 4096, u64>)]
    pub(crate) local_cache_mb: u64,
    /// Search result pages the cache keeps at most, whatever the number of
    /// distinct queries.
    #[arg(id = "FOLIO_SEARCH_CACHE_SLOTS", long = "search-cache-slots",
          env = "FOLIO_SEARCH_CACHE_SLOTS", value_name = "N", default_value = "1024",
          value_parser = whole::<1, 65_536, u32>)]
    pub(crate) search_slots: u32,
    /// `off` answers 404 on `/sample` and `/top/uncached`, which let anyone
    /// load the database.
    #[arg(id = "FOLIO_UNCACHED_ROUTES", long = "uncached-routes", env = "FOLIO_UNCACHED_ROUTES",
          value_name = "on|off", default_value = "on", action = ArgAction::Set,
          value_parser = on_off)]
    pub(crate) uncached_routes: bool,
}

impl CacheSettings {
    pub(crate) fn local_cache_bytes(&self) -> u64 {
        self.local_cache_mb * 1024 * 1024
    }
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "HTTP")]
pub(crate) struct HttpSettings {
    /// Address and port to listen on (`0.0.0.0:8080` in a container).
    #[arg(id = "FOLIO_BIND", long = "bind", env = "FOLIO_BIND", value_name = "ADDR",
          default_value = "127.0.0.1:8080", value_parser = socket_addr)]
    pub(crate) bind: SocketAddr,
    /// `Cache-Control: public, max-age=…` of public pages; above 0, clients
    /// may show a page that old after an edit.
    #[arg(id = "FOLIO_PUBLIC_MAX_AGE", long = "public-max-age", env = "FOLIO_PUBLIC_MAX_AGE",
          value_name = "SECONDS", default_value = "0", value_parser = seconds_or_zero)]
    pub(crate) public_max_age: u64,
    /// `…, stale-while-revalidate=…` of public pages; the same trade-off.
    #[arg(id = "FOLIO_STALE_WHILE_REVALIDATE", long = "stale-while-revalidate",
          env = "FOLIO_STALE_WHILE_REVALIDATE", value_name = "SECONDS", default_value = "0",
          value_parser = seconds_or_zero)]
    pub(crate) stale_while_revalidate: u64,
    /// A request's head must arrive within this (ms); else 408.
    #[arg(id = "FOLIO_HEADER_TIMEOUT_MS", long = "header-timeout-ms",
          env = "FOLIO_HEADER_TIMEOUT_MS", value_name = "MS", default_value = "5000",
          value_parser = millis::<100, 600_000>)]
    pub(crate) header_timeout: Duration,
    /// A request's body must arrive within this (ms); else 408.
    #[arg(id = "FOLIO_BODY_TIMEOUT_MS", long = "body-timeout-ms", env = "FOLIO_BODY_TIMEOUT_MS",
          value_name = "MS", default_value = "10000", value_parser = millis::<100, 600_000>)]
    pub(crate) body_timeout: Duration,
    /// Open connections per instance; more wait in the listen queue.
    #[arg(id = "FOLIO_MAX_CONNECTIONS", long = "max-connections", env = "FOLIO_MAX_CONNECTIONS",
          value_name = "N", default_value = "4096", value_parser = whole::<1, 1_000_000, usize>)]
    pub(crate) max_connections: usize,
    /// `on` serves `/_bench/constant?bytes=N`, a constant body through
    /// folio's own stack.
    #[arg(id = "FOLIO_BENCH_ROUTES", long = "bench-routes", env = "FOLIO_BENCH_ROUTES",
          value_name = "on|off", default_value = "off", action = ArgAction::Set,
          value_parser = on_off)]
    pub(crate) bench_routes: bool,
    /// Proxies (`127.0.0.1,10.0.0.0/8`) whose `X-Forwarded-For` names the
    /// client. Unset: the TCP peer, always.
    #[arg(id = "FOLIO_TRUSTED_PROXIES", long = "trusted-proxies", env = "FOLIO_TRUSTED_PROXIES",
          value_name = "NETS", default_value = "",
          value_parser = crate::edge::TrustedProxies::parse)]
    pub(crate) trusted_proxies: crate::edge::TrustedProxies,
    /// The site's address for absolute URLs (sitemap, robots.txt), e.g.
    /// `https://books.example.com`. Unset: the bind address.
    #[arg(id = "FOLIO_PUBLIC_URL", long = "public-url", env = "FOLIO_PUBLIC_URL",
          value_name = "URL", value_parser = crate::domain::PublicUrl::parse)]
    pub(crate) public_url: Option<crate::domain::PublicUrl>,
}

impl HttpSettings {
    /// `FOLIO_PUBLIC_URL`, or the address folio listens on.
    pub(crate) fn public_url(&self) -> crate::domain::PublicUrl {
        self.public_url
            .clone()
            .unwrap_or_else(|| crate::domain::PublicUrl::from_bind(self.bind))
    }
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Accounts and abuse")]
pub(crate) struct AuthSettings {
    /// Seconds a session lives from sign-in (absolute, never extended).
    #[arg(id = "FOLIO_SESSION_TTL", long = "session-ttl", env = "FOLIO_SESSION_TTL",
          value_name = "SECONDS", default_value = "28800", value_parser = ttl)]
    pub(crate) session_ttl: Duration,
    /// `on` marks the session cookie `Secure` (the site is served over https).
    #[arg(id = "FOLIO_SECURE_COOKIES", long = "secure-cookies", env = "FOLIO_SECURE_COOKIES",
          value_name = "on|off", default_value = "off", action = ArgAction::Set,
          value_parser = on_off)]
    pub(crate) secure_cookies: bool,
    /// Ratings one client address may give per hour.
    #[arg(id = "FOLIO_RATINGS_PER_HOUR", long = "ratings-per-hour",
          env = "FOLIO_RATINGS_PER_HOUR", value_name = "N", default_value = "20",
          value_parser = whole::<1, 10_000, u64>)]
    pub(crate) ratings_per_hour: u64,
    /// Key of visitors' form tokens (32+ characters). Unset: made once and
    /// kept in Redis, or made at start without Redis.
    #[arg(id = "FOLIO_SECRET_KEY", long = "secret-key", env = "FOLIO_SECRET_KEY",
          value_name = "KEY", hide_env_values = true, value_parser = Secret::parse_key)]
    pub(crate) secret_key: Option<Secret>,
    /// Password checks (argon2id, 19 MiB each) that run at once.
    #[arg(id = "FOLIO_PASSWORD_THREADS", long = "password-threads",
          env = "FOLIO_PASSWORD_THREADS", value_name = "N", default_value = "2",
          value_parser = whole::<1, 64, usize>)]
    pub(crate) password_threads: usize,
    /// How long a sign-in may wait for a check (ms); then 503.
    #[arg(id = "FOLIO_PASSWORD_WAIT_MS", long = "password-wait-ms",
          env = "FOLIO_PASSWORD_WAIT_MS", value_name = "MS", default_value = "3000",
          value_parser = millis::<1, 60_000>)]
    pub(crate) password_wait: Duration,
    /// Set (16+ printable characters): `/metrics` and `/readyz` answer only
    /// `Authorization: Bearer <token>`.
    #[arg(id = "FOLIO_METRICS_TOKEN", long = "metrics-token", env = "FOLIO_METRICS_TOKEN",
          value_name = "TOKEN", hide_env_values = true, value_parser = Secret::parse_token)]
    pub(crate) metrics_token: Option<Secret>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}={value:?} is not valid: expected {expected}")]
pub struct ConfigError {
    pub(crate) var: String,
    pub(crate) value: String,
    pub(crate) expected: String,
}

impl Settings {
    /// Builds settings from a lookup of variables other than the process's
    /// environment (a hook of the unit and api tests): each setting's variable becomes its flag (an
    /// empty value counts as unset), so the one declaration above holds every
    /// name, default and bound.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut argv = vec!["folio".to_owned()];
        let declared = Self::augment_args(clap::Command::new("folio"));
        // The lookup is the only source: clap must not read the process's.
        let command = declared.clone().mut_args(|arg| {
            if let Some(var) = arg.get_env().and_then(|v| v.to_str()) {
                if let Some(value) = lookup(var).filter(|v| !v.trim().is_empty()) {
                    let long = arg.get_long().expect("every setting has a flag");
                    argv.push(format!("--{long}={value}"));
                }
            }
            arg.env(None::<&str>)
        });
        let matches = command
            .try_get_matches_from(argv)
            .map_err(|e| config_error(&declared, &e))?;
        Self::from_arg_matches(&matches).map_err(|e| config_error(&declared, &e))
    }

    /// The variables of every setting, in declaration order.
    pub fn variables() -> Vec<String> {
        Self::augment_args(clap::Command::new("folio"))
            .get_arguments()
            .filter_map(|a| a.get_env()?.to_str().map(str::to_owned))
            .collect()
    }

    /// Loads `.env` (without overriding the environment) and unsets the
    /// settings' variables that are set but empty: they count as unset.
    /// Call before any other thread starts, then parse with clap.
    pub(crate) fn prepare_environment() {
        let _ = dotenvy::dotenv();
        for var in Self::variables() {
            let empty =
                std::env::var_os(&var).is_some_and(|v| v.to_string_lossy().trim().is_empty());
            if empty {
                std::env::remove_var(&var);
            }
        }
    }
}

/// clap's error about a setting, as "VAR=value is not valid: expected …"
/// (secrets' values hidden); `None` when it is not about one.
pub(crate) fn setting_error(command: &clap::Command, error: &clap::Error) -> Option<ConfigError> {
    use clap::error::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    )
    .then(|| config_error(command, error))
    .filter(|e| !e.var.is_empty())
}

fn config_error(command: &clap::Command, error: &clap::Error) -> ConfigError {
    use clap::error::{ContextKind, ContextValue};
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let flag = context(ContextKind::InvalidArg).unwrap_or_default();
    let long = flag
        .trim_start_matches("--")
        .split([' ', '='])
        .next()
        .unwrap_or_default()
        .to_owned();
    let arg = command
        .get_arguments()
        .find(|a| a.get_long() == Some(long.as_str()));
    let var = arg
        .and_then(|a| a.get_env()?.to_str().map(str::to_owned))
        .unwrap_or_default();
    let value = if arg.is_some_and(clap::Arg::is_hide_env_values_set) {
        "(hidden)".to_owned()
    } else {
        context(ContextKind::InvalidValue).unwrap_or_default()
    };
    let expected =
        std::error::Error::source(error).map_or_else(|| error.to_string(), ToString::to_string);
    ConfigError {
        var,
        value,
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::values::{redact_password, MAX_TTL_SECS};
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
    fn the_edge_bounds_its_max_age_as_every_ttl_setting() {
        assert_eq!(crate::edge::MAX_EDGE_MAX_AGE, MAX_TTL_SECS);
        let s = settings(&[(
            "REDIS_URL",
            "redis+sentinel://127.0.0.1:26379,h:26380/folio",
        )])
        .unwrap();
        assert!(s.redis.url.is_some());
    }

    #[test]
    fn defaults_need_nothing() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database.url, DatabaseUrl::Sqlite("folio.db".into()));
        assert_eq!(s.redis.url, None);
        assert_eq!(s.redis.prefix.as_str(), "folio");
        assert_eq!(s.http.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.cache.ttl, Duration::from_secs(300));
        assert_eq!(s.cache.top_books_ttl, Duration::from_secs(2_592_000));
        assert_eq!(s.cache.grace, Duration::from_secs(2 * 24 * 3600));
        assert!(s.cache.uncached_routes);
        assert!(
            s.http.max_connections >= 1024,
            "a burst of readers is never refused"
        );
        assert_eq!(s.auth.metrics_token, None);
    }

    #[test]
    fn no_secret_is_ever_printed() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://folio:db-password-1@db/folio"),
            ("REDIS_URL", "redis://:redis-password-2@cache:6379"),
            ("FOLIO_SECRET_KEY", "secret-key-3-secret-key-3-secret-key-3"),
            ("FOLIO_METRICS_TOKEN", "metrics-token-4-metrics"),
        ])
        .unwrap();
        let printed = format!("{s:?}");
        for secret in [
            "db-password-1",
            "redis-password-2",
            "secret-key-3",
            "metrics-token-4",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(
            printed.contains("db/folio"),
            "the rest still shows: {printed}"
        );
        let err = settings(&[("FOLIO_SECRET_KEY", "too-short-secret")]).unwrap_err();
        assert!(!err.to_string().contains("too-short"), "{err}");
    }

    #[test]
    fn empty_values_count_as_unset() {
        let s = settings(&[("CACHE_TTL", ""), ("REDIS_URL", "  ")]).unwrap();
        assert_eq!(s.cache.ttl, Duration::from_secs(300));
        assert_eq!(s.redis.url, None);
    }

    /// The README's settings table and the declarations above list the same
    /// variables with the same defaults.
    #[test]
    fn the_readme_table_lists_every_setting_with_its_default() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("## Settings")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("a Settings section");
        let mut documented = std::collections::BTreeMap::new();
        for row in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let var = cells[1].trim_matches('`').to_owned();
            let default = cells[2]
                .strip_prefix('`')
                .and_then(|d| d.split('`').next())
                .unwrap_or("")
                .to_owned();
            documented.insert(var, default);
        }
        let command = Settings::augment_args(clap::Command::new("folio"));
        for arg in command.get_arguments() {
            let var = arg.get_env().unwrap().to_str().unwrap();
            let default = arg
                .get_default_values()
                .first()
                .map(|d| d.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let readme_default = documented
                .remove(var)
                .unwrap_or_else(|| panic!("{var} is not in the README's table"));
            assert_eq!(readme_default, default, "{var}'s default in the README");
        }
        // Read by the tracing filter and by `folio admin create` themselves.
        documented.remove("RUST_LOG");
        documented.remove("FOLIO_ADMIN_PASSWORD");
        assert!(
            documented.is_empty(),
            "the README documents settings folio does not have: {documented:?}"
        );
    }

    #[test]
    fn the_metrics_token_is_never_printed() {
        let s = settings(&[("FOLIO_METRICS_TOKEN", "a-very-secret-token-123")]).unwrap();
        assert_eq!(
            s.auth.metrics_token.as_ref().unwrap().expose(),
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
            ("REDIS_URL", "redis+sentinel://127.0.0.1:26379"),
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
