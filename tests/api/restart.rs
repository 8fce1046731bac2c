//! folio stopped and started again as a process of its own: a write made
//! while no folio runs shows once it is back, though Redis still holds the
//! old entries.

use std::net::TcpListener;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;

use crate::support::{outside_connection, Backend, TestDatabase, REDIS_URL};

/// `folio serve` as a process of its own, on a free port.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    async fn start(database_url: &str, prefix: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_folio"))
            .args(["serve", "--no-demo-data"])
            .env("DATABASE_URL", database_url)
            .env("REDIS_URL", REDIS_URL)
            .env("FOLIO_CACHE_PREFIX", prefix)
            .env("FOLIO_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .current_dir(std::env::temp_dir())
            .spawn()
            .expect("start folio");
        let server = Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while reqwest::get(format!("{}/healthz", server.address))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "folio did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    async fn fetch(&self, path: &str) -> (Option<String>, String) {
        let response = reqwest::get(format!("{}{path}", self.address))
            .await
            .unwrap();
        let x_cache = response
            .headers()
            .get("x-cache")
            .map(|v| v.to_str().unwrap().to_owned());
        (x_cache, response.text().await.unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A write made while no folio runs is applied before a restarted folio
/// serves a cached page, though Redis still holds the old entries.
#[tokio::test]
async fn a_write_made_while_folio_is_stopped_shows_after_restart() {
    crate::support::require_redis();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let database = TestDatabase::new(backend);
        let prefix = crate::support::unique_name("stopped");
        {
            let url = folio::config::DatabaseUrl::parse(&database.url).unwrap();
            let db = folio::db::Database::connect(&url).unwrap();
            db.migrate().unwrap();
            folio::db::seed::seed(&db, folio::db::seed::SeedPlan::new(10, 100, 78, false)).unwrap();
        }
        let server = Server::start(&database.url, &prefix).await;
        server.fetch("/books/3").await;
        assert_eq!(server.fetch("/books/3").await.0.as_deref(), Some("HIT"));
        drop(server);

        outside_connection(&database.url)
            .batch_execute("UPDATE books SET title = 'Changed While Folio Slept' WHERE id = 3")
            .unwrap();
        let server = Server::start(&database.url, &prefix).await;
        let (_, body) = server.fetch("/books/3").await;
        assert!(
            body.contains("Changed While Folio Slept"),
            "{backend:?}: the first page after the restart is old"
        );
        drop(server);
        crate::support::delete_redis_prefix(&prefix);
    }
}
