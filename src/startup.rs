//! Builds the parts (database, cache, sessions, catalogue) and the server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};

use crate::auth::limits::Limits;
use crate::auth::password::PasswordChecks;
use crate::auth::session::Sessions;
use crate::auth::visitor::VisitorTokens;
use crate::auth::Accounts;
use crate::cache::{Cache, CacheConfig, FolioPolicy, StoreError, Ttls};
use crate::catalogue::editor::Editor;
use crate::catalogue::Catalogue;
use crate::changes::ChangeFeed;
use crate::config::{RedisUrl, Settings};
use crate::db::{DataError, Database};
use crate::edge::{self, EdgePurger};
use crate::kv::Kv;
use crate::redis::{KeySpace, Redis};
use crate::web::{self as routes, AppState};

/// The in-process backend's bound.
pub(crate) const MEMORY_CACHE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("cache: {0}")]
    Cache(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Connects to the database and applies pending migrations.
pub async fn open_database(settings: &Settings) -> Result<Database, DataError> {
    let url = settings.database.url.clone();
    tokio::task::spawn_blocking(move || {
        let db = Database::connect(&url)?;
        let applied = db.migrate()?;
        tracing::info!(
            backend = db.backend_name(),
            database = %url.redacted(),
            migrations_applied = applied,
            "database ready"
        );
        Ok::<_, DataError>(db)
    })
    .await
    .map_err(|e| DataError::Unavailable(e.to_string()))?
}

/// The shared stores the settings ask for: Redis when `REDIS_URL` is set
/// (cache, sessions and counters shared by every instance), process memory
/// otherwise.
pub struct Stores {
    pub cache: Arc<Cache>,
    pub(crate) kv: Arc<Kv>,
    /// The key of visitors' form tokens, the same on every instance.
    pub(crate) secret: Vec<u8>,
}

fn secret_key_name(settings: &Settings) -> String {
    KeySpace::new(settings.redis.prefix.as_str()).secret()
}

/// `FOLIO_SECRET_KEY`; else one kept in Redis, made by whichever instance
/// starts first; else (no Redis) one made now.
async fn visitor_secret(settings: &Settings, kv: &Kv) -> Vec<u8> {
    if let Some(key) = &settings.auth.secret_key {
        return key.expose().as_bytes().to_vec();
    }
    let fresh = crate::token::random_token();
    if let Kv::Redis(_) = kv {
        let key = secret_key_name(settings);
        if kv.set_if_absent(&key, fresh.as_bytes()).await.is_ok() {
            if let Ok(Some(shared)) = kv.get(&key).await {
                return shared;
            }
        }
        tracing::warn!("Redis is not answering: visitors' form tokens use a key of this instance only until restart");
    }
    fresh.into_bytes()
}

pub async fn build_stores(settings: &Settings) -> Result<Stores, StoreError> {
    let keys = KeySpace::new(settings.redis.prefix.as_str());
    let policy = FolioPolicy::new(Ttls {
        top_books: settings.cache.top_books_ttl,
        sample: settings.cache.ttl,
        grace: settings.cache.grace,
    });
    let (cache, kv) = if let Some(url) = &settings.redis.url {
        redis_stores(settings, url, keys, policy).await?
    } else {
        tracing::info!(
            max_bytes = MEMORY_CACHE_BYTES,
            "cache and sessions: in-process (REDIS_URL is not set)"
        );
        let cache = Cache::in_memory(keys, policy, MEMORY_CACHE_BYTES);
        (cache, Kv::memory())
    };
    let secret = visitor_secret(settings, &kv).await;
    Ok(Stores {
        cache: Arc::new(cache),
        kv: Arc::new(kv),
        secret,
    })
}

/// The cache and the sessions' store over one Redis layer (one pool, one
/// breaker) for every Redis call: cache, coherence, sessions, counters.
async fn redis_stores(
    settings: &Settings,
    url: &RedisUrl,
    keys: KeySpace,
    policy: FolioPolicy,
) -> Result<(Cache, Kv), StoreError> {
    let redis = Arc::new(Redis::open(url.expose(), keys.clone(), settings.redis.timeout).await?);
    redis.start();
    let config = CacheConfig {
        local_bytes: settings.cache.local_cache_bytes(),
        ..CacheConfig::default()
    };
    let cache = Cache::with_redis(redis.clone(), policy, config);
    let kv = Kv::Redis(redis.clone());
    match kv.get(&keys.ping()).await {
        Ok(_) => tracing::info!(
            redis = %url,
            master = redis.master_url().as_deref().unwrap_or("none"),
            prefix = settings.redis.prefix.as_str(),
            local_tier_bytes = settings.cache.local_cache_bytes(),
            "cache and sessions: Redis, with an in-process tier in front"
        ),
        Err(e) => tracing::warn!(
            redis = %url, error = %e,
            "cache: Redis is unavailable; pages are computed from the database until it answers"
        ),
    }
    Ok((cache, kv))
}

/// Blocking threads of each HTTP worker (the largest database pool is 16).
const BLOCKING_THREADS_PER_WORKER: usize = 16;

/// Sign-ins that may wait for each password-checking thread.
const PASSWORD_QUEUE_PER_THREAD: usize = 8;

/// How long a stopping instance finishes requests in flight.
pub(crate) const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

pub struct Application {
    port: u16,
    server: Server,
    feed: ChangeFeed,
}

impl Application {
    /// Binds the listener (port 0 picks a free port), applies what changed
    /// in the database while no instance ran, starts the change feed, and
    /// builds the server.
    pub async fn build(
        settings: Settings,
        db: Database,
        stores: Stores,
    ) -> Result<Self, StartupError> {
        let bind_error = |source| StartupError::Bind {
            addr: settings.http.bind.to_string(),
            source,
        };
        let listener = TcpListener::bind(settings.http.bind).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();

        let prefix = settings.redis.prefix.as_str();
        let accounts = Accounts::new(
            db.clone(),
            Sessions::new(stores.kv.clone(), prefix, settings.auth.session_ttl),
            Limits::new(stores.kv.clone(), prefix, settings.auth.ratings_per_hour),
            VisitorTokens::new(&stores.secret),
            match (&settings.auth.secret_key, &*stores.kv) {
                (None, Kv::Redis(_)) => Some((stores.kv.clone(), secret_key_name(&settings))),
                _ => None,
            },
            PasswordChecks::start(
                settings.auth.password_threads,
                PASSWORD_QUEUE_PER_THREAD * settings.auth.password_threads,
                settings.auth.password_wait,
            ),
        );
        let feed = ChangeFeed::with_edge(
            db.clone(),
            stores.cache.clone(),
            EdgePurger::new(&settings.edge),
        );
        // Before Redis is used again after an outage, what changed meanwhile
        // is applied.
        let recovering = feed.clone();
        stores.cache.start(Arc::new(move || {
            let feed = recovering.clone();
            Box::pin(async move {
                match feed.apply_pending_recovering().await {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::warn!(error = %e, "change feed: could not apply the log after the outage");
                        false
                    }
                }
            })
        }));
        feed.start().await;
        let editor = Editor::new(db.clone(), feed.clone());

        let route_settings = settings.clone();
        let limits = routes::middleware::ConnectionLimits::of(&settings);
        let public_cache_control = edge::public_cache_control(
            settings.http.public_max_age,
            settings.http.stale_while_revalidate,
            settings.cache.grace.as_secs(),
            &settings.edge,
        );
        let edge_headers = edge::EdgeHeaders::of(&settings.edge);
        let state = web::Data::new(AppState {
            settings,
            catalogue: Catalogue::new(db, stores.cache),
            editor,
            accounts,
            public_cache_control,
            edge: edge_headers,
        });
        let server = HttpServer::new(move || {
            App::new()
                // The body bound, compression, the security headers and
                // the access log, in one layer (`web::middleware`).
                .wrap(routes::middleware::Envelope)
                .app_data(state.clone())
                .configure(|cfg| routes::routes(cfg, &route_settings))
                .default_service(web::to(routes::no_route))
        })
        // Database work runs on each worker's blocking threads; beyond the
        // pool's connections more threads would only wait (and each costs
        // memory), so work queues instead.
        .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
        .workers(limits.workers)
        .max_connections(limits.per_worker)
        .client_request_timeout(limits.header_timeout)
        .client_disconnect_timeout(limits.disconnect_timeout)
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: format!("port {port}"),
            source,
        })?
        .run();
        Ok(Self { port, server, feed })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The instance's change feed (a hook of the api tests, which apply
    /// pending changes and stop it themselves).
    pub fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully: the
    /// listener closes at once (a proxy sends new requests to the other
    /// instances), requests in flight are finished (for up to
    /// `SHUTDOWN_GRACE`), and the change feed stops following the database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        let feed = self.feed.clone();
        let _ = tokio::task::spawn_blocking(move || feed.stop()).await;
        tracing::info!("folio stopped: in-flight requests were answered");
        served
    }
}
