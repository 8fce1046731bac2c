//! What the integration tests stand on, one job a file: folio started in
//! the test (`app`), requests as a reader or an admin makes them
//! (`requests`), a signed-in admin and the book form (`admin`), a database
//! of the test's own and changes made from outside folio (`database`), Redis and its faults (`redis`), load
//! under which parts fail (`load`), and the other
//! processes a test starts and stops by their PID: folio's own binary
//! (`process`), Varnish and nginx (`proxies`), Redis Sentinel (`sentinel`),
//! headless Chromium (`browser`).

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub mod admin;
pub mod app;
pub mod browser;
pub mod database;
pub mod imports;
pub mod load;
pub mod process;
pub mod proxies;
pub mod redis;
pub mod requests;
pub mod sentinel;

pub use self::app::*;
pub use self::database::*;
pub use self::redis::{delete_redis_prefix, redis_conn, require_redis, REDIS_URL};
pub use self::requests::*;

/// A name no other test (in this run or a parallel one) uses.
pub fn unique_name(kind: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{kind}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
