//! A database of the test's own (a `SQLite` file, or a `PostgreSQL` database
//! created and dropped), and what other programs do to it: a connection
//! of their own, the database taken away.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::unique_name;
use super::TestApp;

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PG_BASE_URL: &str = "postgres://postgres@127.0.0.1:5432";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test and is removed after it.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    PgDatabase(String),
}

impl TestDatabase {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("folio-tests");
                std::fs::create_dir_all(&dir).expect("create a temp dir for SQLite files");
                let path = dir.join(format!("{}.db", unique_name("t")));
                Self {
                    url: format!("sqlite://{}", path.display()),
                    cleanup: Cleanup::File(path),
                }
            }
            Backend::Postgres => {
                let name = unique_name("folio_test");
                let mut admin = PgConnection::establish(PG_ADMIN_URL).unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is not answering at {PG_ADMIN_URL} ({e}). Start it with: \
                         pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
                    )
                });
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create a test database");
                Self {
                    url: format!("{PG_BASE_URL}/{name}"),
                    cleanup: Cleanup::PgDatabase(name),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PgDatabase(name) => {
                if let Ok(mut admin) = PgConnection::establish(PG_ADMIN_URL) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// A connection to `url` of its own, as another program would open it.
pub fn outside_connection(url: &str) -> folio::db::DbConn {
    match url.strip_prefix("sqlite://") {
        Some(path) => {
            let mut conn = diesel::SqliteConnection::establish(path).expect("open the SQLite file");
            conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                .unwrap();
            folio::db::DbConn::Sqlite(conn)
        }
        None => folio::db::DbConn::Postgres(
            PgConnection::establish(url).expect("connect to the test database"),
        ),
    }
}

/// Takes the test's `PostgreSQL` database away (no new connections, every
/// open one ended) or gives it back, as an outage would.
pub fn take_database_down(app: &TestApp, down: bool) {
    let name = app.db_name();
    let mut admin = PgConnection::establish(PG_ADMIN_URL).unwrap();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {}",
            !down
        ))
        .unwrap();
    if down {
        admin
            .batch_execute(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ))
            .unwrap();
    }
}
