//! The data layer: one diesel schema, two backends, chosen by the URL's scheme.
//!
//! Diesel is synchronous; [`Database::run`] moves every query onto tokio's
//! blocking pool so that no request handler ever blocks the async executor.

pub(crate) mod admins;
pub mod books;
pub(crate) mod browse;
pub(crate) mod bulk;
pub(crate) mod bulk_load;
pub mod changes;
pub mod models;
pub mod schema;
pub(crate) mod search;
pub mod seed;
pub(crate) mod sitemap;
pub mod writes;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;

pub(crate) const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub(crate) const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; queries written once run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// A transaction that writes. On `SQLite` its first statement takes the write
/// lock (waiting up to `busy_timeout` for another writer): a transaction that
/// reads first and writes later holds a snapshot, and if another connection
/// commits meanwhile its first write fails at once with "database is
/// locked", whatever the timeout. `PostgreSQL` needs nothing of the kind.
pub(crate) fn write_transaction<T, E>(
    conn: &mut DbConn,
    write: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if let DbConn::Sqlite(c) = conn {
            // Writes nothing, but an UPDATE takes the lock before it reads.
            c.batch_execute("UPDATE books SET id = id WHERE 0")?;
        }
        write(conn)
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Every pooled connection stayed busy: the database answers, slowly.
    #[error("the database is busy: {0}")]
    Busy(String),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cached data: {0}")]
    Encoding(#[from] serde_json::Error),
}

impl DataError {
    /// The database could not be reached (as opposed to a query's own error).
    pub(crate) fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        matches!(
            self,
            Self::Unavailable(_)
                | Self::Busy(_)
                | Self::Query(
                    Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _)
                        | Error::BrokenTransactionManager
                )
        )
    }
}

impl DataError {
    /// Unavailable because it cannot be reached, not because it is busy.
    pub(crate) fn is_unreachable(&self) -> bool {
        self.is_unavailable() && !matches!(self, Self::Busy(_))
    }
}

/// The book a read or a write names is not there (never was, or was deleted
/// meanwhile).
#[derive(Debug, thiserror::Error)]
#[error("there is no book with id {0}")]
pub struct NoSuchBook(pub i32);

/// Queries sent to the database through one pool, counted by the
/// connections themselves (diesel instrumentation) for `/metrics`.
#[derive(Debug, Default)]
pub struct QueryCounts {
    /// Every query but the change feed's and the pool's `SELECT 1` checks.
    pub total: AtomicU64,
    /// The chart's ranking: the one query the cache exists to spare.
    pub chart: AtomicU64,
    /// Reads and deletes of the change log (the change feed's own work,
    /// which no page request makes).
    pub(crate) change_log: AtomicU64,
}

struct CountQueries(Arc<QueryCounts>);

impl Instrumentation for CountQueries {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            // Only the ranking sums stars; backends quote names differently.
            let sql = query.to_string().replace(['"', '`'], "");
            if sql.contains("cache_changes") {
                self.0.change_log.fetch_add(1, Ordering::Relaxed);
                return;
            }
            // The pool's check of a connection it hands out: no page's query.
            if sql == "SELECT 1" {
                return;
            }
            self.0.total.fetch_add(1, Ordering::Relaxed);
            if sql.contains("sum(ratings.stars)") {
                self.0.chart.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Opens connections of the backend the URL names. diesel's own
/// `MultiConnection::establish` tries each backend in turn and hides why
/// `PostgreSQL` failed, so the choice is made here, by scheme.
#[derive(Debug, Clone)]
pub struct DbConnectionManager {
    url: DatabaseUrl,
    counts: Arc<QueryCounts>,
}

impl ManageConnection for DbConnectionManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                conn.set_instrumentation(CountQueries(self.counts.clone()));
                Ok(DbConn::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; busy_timeout makes a
                // writer wait for the lock instead of failing at once. The page
                // cache is per connection and 2 MiB by default: after the chart
                // query had run on every connection it held most of folio's
                // memory. The OS caches the file anyway: 512 KiB each.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -512;",
                )
                .map_err(r2d2::Error::QueryError)?;
                conn.set_instrumentation(CountQueries(self.counts.clone()));
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

pub(crate) type DbPool = Pool<DbConnectionManager>;
pub type PooledConn = PooledConnection<DbConnectionManager>;

/// The pool plus the knowledge of which backend it talks to.
#[derive(Clone)]
pub struct Database {
    pool: DbPool,
    /// Shared: every request clones the database handle.
    url: Arc<DatabaseUrl>,
    counts: Arc<QueryCounts>,
}

impl Database {
    /// Connects (checking one connection at once, so a wrong URL fails here).
    pub fn connect(url: &DatabaseUrl) -> Result<Self, DataError> {
        let size = match url {
            // Each SQLite connection keeps its own page cache; on two cores
            // four readers already saturate the CPU (see `cache_size` below).
            DatabaseUrl::Sqlite(_) => 4,
            DatabaseUrl::Postgres(_) => 16,
        };
        let counts = Arc::new(QueryCounts::default());
        let cannot_open = |e: r2d2::PoolError| {
            DataError::Unavailable(format!(
                "cannot open {} database {}: {e}",
                url.backend_name(),
                url.redacted()
            ))
        };
        // No idle connections made ahead of need (`min_idle` 0): r2d2 makes
        // those on its own threads at any time, and a process that exits
        // while one of them is inside libpq's connect (its GSSAPI start)
        // crashes in libpq's exit handlers — a `folio export` that has
        // written its output then dies of SIGSEGV. Connections are made when
        // a caller waits for one, and kept while idle as before.
        let pool = Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(2))
            .build_unchecked(DbConnectionManager {
                url: url.clone(),
                counts: counts.clone(),
            });
        drop(pool.get().map_err(cannot_open)?);
        Ok(Self {
            pool,
            url: Arc::new(url.clone()),
            counts,
        })
    }

    pub(crate) fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub(crate) fn backend_name(&self) -> &'static str {
        self.url.backend_name()
    }

    pub fn query_counts(&self) -> &QueryCounts {
        &self.counts
    }

    /// Whether the database answers now (for `/readyz`).
    pub(crate) async fn ping(&self) -> Result<(), DataError> {
        self.run(|c| Ok(c.batch_execute("SELECT 1")?)).await
    }

    /// A connection for synchronous code (CLI commands, seeding).
    pub fn conn(&self) -> Result<PooledConn, DataError> {
        self.pool
            .get()
            .map_err(|e| DataError::Unavailable(e.to_string()))
    }

    /// Runs `f` with a connection on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DataError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, DataError> + Send + 'static,
    {
        self.run_as(f).await
    }

    /// [`Database::run`] for closures with their own error type.
    pub(crate) async fn run_as<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DataError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| {
                // Every connection open and none idle: they are all busy, so
                // the database answers; fewer: new ones could not be opened.
                let state = pool.state();
                if state.connections >= pool.max_size() && state.idle_connections == 0 {
                    DataError::Busy(e.to_string())
                } else {
                    DataError::Unavailable(e.to_string())
                }
            })?;
            f(&mut conn)
        })
        .await
        .map_err(|e| DataError::Unavailable(format!("database task failed: {e}")))?
    }

    /// Applies the embedded migrations of this backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize, DataError> {
        let mut conn = self.conn()?;
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConn::Postgres(c) => c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
        };
        applied.map_err(|e| DataError::Migration(e.to_string()))
    }
}
