//! Wakes the feed when the database says something committed, from a thread
//! of its own with a connection of its own (not the request pool's):
//!
//! * `PostgreSQL`: `LISTEN folio_cache_changes`; the triggers `NOTIFY` at
//!   commit. Reading what arrived is a non-blocking socket read every
//!   10 ms, no query. A notification is only a hint: after (re)connecting
//!   the feed drains anyway, and every 2 s regardless.
//! * `SQLite`: `PRAGMA data_version` every 25 ms (microseconds each); it
//!   changes whenever another connection, of any process, committed.
//!
//! The thread holds the feed weakly and ends once the feed is gone or
//! stopped.

use std::sync::Weak;
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::{ChangeFeed, Inner};
use crate::config::DatabaseUrl;

const PG_POLL: Duration = Duration::from_millis(10);
const SQLITE_POLL: Duration = Duration::from_millis(25);
const RECONNECT_AFTER: Duration = Duration::from_millis(500);
/// A silent `PostgreSQL` connection may be dead without saying so: one
/// `SELECT 1` this often finds out.
const PG_CHECK: Duration = Duration::from_secs(5);

pub(super) fn spawn(feed: &ChangeFeed) -> Option<thread::JoinHandle<()>> {
    let url = feed.inner.db.url().clone();
    let weak = std::sync::Arc::downgrade(&feed.inner);
    let spawned = thread::Builder::new()
        .name("folio-change-listener".into())
        .spawn(move || match url {
            DatabaseUrl::Postgres(url) => listen_postgres(&url, &weak),
            DatabaseUrl::Sqlite(path) => watch_sqlite(&path, &weak),
        });
    spawned
        .map_err(|e| tracing::error!(error = %e, "change feed: no listener thread; the log is read every 2 s"))
        .ok()
}

/// Wakes the feed; `false` once the feed is gone.
fn wake(weak: &Weak<Inner>) -> bool {
    match weak.upgrade() {
        Some(inner) => {
            inner.wake.notify_one();
            true
        }
        None => false,
    }
}

fn alive(weak: &Weak<Inner>) -> bool {
    weak.upgrade()
        .is_some_and(|inner| !inner.stopped.load(std::sync::atomic::Ordering::Acquire))
}

fn listen_postgres(url: &str, weak: &Weak<Inner>) {
    while alive(weak) {
        let mut conn = match PgConnection::establish(url)
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                c.batch_execute("LISTEN folio_cache_changes")
                    .map_err(|e| e.to_string())?;
                Ok(c)
            }) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "change listener: cannot reach PostgreSQL");
                thread::sleep(RECONNECT_AFTER);
                continue;
            }
        };
        tracing::debug!("change listener: listening on PostgreSQL");
        // Whatever committed while nobody listened.
        if !wake(weak) {
            return;
        }
        let mut checked = Instant::now();
        loop {
            thread::sleep(PG_POLL);
            let mut woke = false;
            let mut broken = false;
            for note in conn.notifications_iter() {
                if note.is_ok() {
                    woke = true;
                } else {
                    broken = true;
                    break;
                }
            }
            if checked.elapsed() > PG_CHECK {
                checked = Instant::now();
                broken |= conn.batch_execute("SELECT 1").is_err();
            }
            if woke && !wake(weak) || !alive(weak) {
                return;
            }
            if broken {
                tracing::warn!("change listener: lost its PostgreSQL connection; reconnecting");
                break;
            }
        }
    }
}

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

fn data_version(conn: &mut SqliteConnection) -> Option<i64> {
    diesel::sql_query("PRAGMA data_version")
        .get_result::<DataVersion>(conn)
        .ok()
        .map(|v| v.data_version)
}

fn watch_sqlite(path: &str, weak: &Weak<Inner>) {
    let mut conn = loop {
        match SqliteConnection::establish(path) {
            Ok(c) => break c,
            Err(e) => {
                tracing::debug!(error = %e, "change listener: cannot open the SQLite file");
                if !alive(weak) {
                    return;
                }
                thread::sleep(RECONNECT_AFTER);
            }
        }
    };
    let mut seen = data_version(&mut conn);
    while alive(weak) {
        thread::sleep(SQLITE_POLL);
        let now = data_version(&mut conn);
        if now != seen {
            seen = now;
            if !wake(weak) {
                return;
            }
        }
    }
}
