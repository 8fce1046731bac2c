//! One way to start folio for a test: `spawn_app`, on port 0, with its own
//! SQLite file or PostgreSQL database and its own Redis key prefix.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use redis::TypedCommands;

use folio::cache::Cache;
use folio::config::Settings;
use folio::db::seed::{self, SeedPlan};
use folio::db::Database;
use folio::startup::{self, Application};

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PG_BASE_URL: &str = "postgres://postgres@127.0.0.1:5432";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    Memory,
    Redis,
}

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

/// Fails the test with instructions when Redis is not running.
pub fn require_redis() {
    let client = redis::Client::open(REDIS_URL).unwrap();
    if let Err(e) = client
        .get_connection()
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
    {
        panic!(
            "Redis is not answering at {REDIS_URL} ({e}). Start it with: redis-server --daemonize yes \
             --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no"
        );
    }
}

/// Removes every key under a test's prefix.
pub fn delete_redis_prefix(prefix: &str) {
    let Ok(client) = redis::Client::open(REDIS_URL) else {
        return;
    };
    let Ok(mut conn) = client.get_connection() else {
        return;
    };
    let keys: Vec<String> = match conn.scan_match::<_, String>(format!("{prefix}:*")) {
        Ok(iter) => iter.filter_map(Result::ok).collect(),
        Err(_) => return,
    };
    if !keys.is_empty() {
        let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
    }
}

pub fn redis_conn() -> redis::Connection {
    require_redis();
    redis::Client::open(REDIS_URL)
        .unwrap()
        .get_connection()
        .unwrap()
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Database,
    pub cache: Arc<Cache>,
    pub feed: folio::changes::ChangeFeed,
    pub prefix: String,
    pub backend: Backend,
    owns_prefix: bool,
    database: Arc<TestDatabase>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }

    /// Status, `X-Cache` and body of a GET.
    pub async fn fetch(&self, path: &str) -> (u16, Option<String>, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        let x_cache = response
            .headers()
            .get("x-cache")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, x_cache, response.text().await.unwrap())
    }

    pub async fn seed(&self, books: u32, ratings: u32, seed_value: u64) {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            seed::seed(&db, SeedPlan::new(books, ratings, seed_value, true))
        })
        .await
        .unwrap()
        .expect("seeding failed");
        // The seed left one `all` in the change log: applied now, so that a
        // test's next request does not race the feed. (Without a reachable
        // Redis it waits in the log, and nothing is cached meanwhile.)
        let _ = self.feed.apply_pending().await;
    }

    /// A client that keeps cookies and says it wants HTML, like a browser.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(reqwest::header::HeaderMap::from_iter([(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static("text/html"),
            )]))
            .build()
            .unwrap()
    }

    pub async fn create_admin(&self, email: &str, password: &str) {
        folio::auth::create_admin(
            &self.db,
            folio::domain::Email::parse(email).unwrap(),
            folio::domain::NewPassword::parse(password.to_owned()).unwrap(),
            false,
        )
        .await
        .expect("create an admin");
    }

    /// Fetches the sign-in form with `client` and submits it.
    pub async fn post_login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        post_login_at(&self.address, client, email, password).await
    }

    /// Signs `client` in; returns the session's CSRF token.
    pub async fn login(&self, client: &reqwest::Client, email: &str, password: &str) -> String {
        login_at(&self.address, client, email, password).await
    }

    /// Gives a book a new title through the editor (the write, then the
    /// change feed applied at once), as the admin's form does.
    pub async fn retitle(&self, id: i32, title: &str) {
        let book = self
            .db
            .run(move |c| folio::db::books::find_book(c, id))
            .await
            .unwrap()
            .expect("the book exists");
        let mut input = folio::domain::BookFormInput::from(book);
        input.title = Some(title.to_owned());
        let form = folio::domain::BookForm::parse(&input, 2026).expect("a valid book");
        folio::catalogue::editor::Editor::new(self.db.clone(), self.feed.clone())
            .update_book(folio::domain::BookId::parse(&id.to_string()).unwrap(), form)
            .await
            .expect("the edit");
    }

    /// The CSRF token of the form on the page at `path`, as `client` sees it.
    pub async fn form_token(&self, client: &reqwest::Client, path: &str) -> String {
        csrf_token(
            &client
                .get(self.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
    }

    /// Runs SQL as another client of the database would (psql, the sqlite3
    /// shell, a script): on a connection of its own, not folio's pool.
    pub fn outside_sql(&self, sql: &str) {
        self.outside_connection()
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("outside SQL failed ({e}): {sql}"));
    }

    /// A connection of another client of the database.
    pub fn outside_connection(&self) -> folio::db::DbConn {
        outside_connection(&self.database.url)
    }

    /// The database's URL (for the `folio` command).
    pub fn database_url(&self) -> String {
        self.database.url.clone()
    }

    /// The PostgreSQL database's name (Postgres apps only).
    pub fn db_name(&self) -> String {
        self.database.url.rsplit('/').next().unwrap().to_owned()
    }

    pub async fn book_count(&self) -> i64 {
        self.db.run(folio::db::books::count_books).await.unwrap()
    }

    /// The full key of a fragment in this app's namespace.
    pub fn key(&self, fragment: folio::cache::Fragment) -> String {
        self.cache.keys().fragment(&fragment)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Its listener's connection goes before the test database does.
        self.feed.stop();
        if self.owns_prefix {
            delete_redis_prefix(&self.prefix);
        }
    }
}

pub struct AppOptions {
    pub backend: Backend,
    pub cache: CacheKind,
    /// Extra settings, as environment variables would give them.
    pub env: Vec<(&'static str, String)>,
    /// Another instance's database and cache prefix, to run a second folio
    /// process over the same data.
    pub share: Option<(Arc<TestDatabase>, String)>,
}

impl AppOptions {
    pub fn new(backend: Backend, cache: CacheKind) -> Self {
        Self {
            backend,
            cache,
            env: Vec::new(),
            share: None,
        }
    }

    /// A second instance over `other`'s database and cache.
    pub fn sharing(other: &TestApp) -> Self {
        Self {
            backend: other.backend,
            cache: CacheKind::Redis,
            env: Vec::new(),
            share: Some((other.database.clone(), other.prefix.clone())),
        }
    }

    pub fn with(mut self, var: &'static str, value: impl Into<String>) -> Self {
        self.env.push((var, value.into()));
        self
    }
}

pub async fn spawn_app(backend: Backend, cache: CacheKind) -> TestApp {
    spawn_app_with(AppOptions::new(backend, cache)).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let owns_prefix = options.share.is_none();
    let (database, prefix) = match options.share {
        Some(shared) => shared,
        None => (
            Arc::new(TestDatabase::new(options.backend)),
            unique_name("test"),
        ),
    };
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), database.url.clone()),
        ("FOLIO_BIND".into(), "127.0.0.1:0".into()),
        ("FOLIO_CACHE_PREFIX".into(), prefix.clone()),
    ]);
    if options.cache == CacheKind::Redis {
        require_redis();
        env.insert("REDIS_URL".into(), REDIS_URL.into());
    }
    // 50 ms is the production budget for a healthy Redis next door; the
    // suite runs dozens of servers at once on two cores, where a healthy
    // Redis may take longer, and a test that asserts a hit would then see
    // the cache fail open. Tests of outages set the production value.
    env.insert("REDIS_TIMEOUT_MS".into(), "1000".into());
    for (k, v) in options.env {
        env.insert(k.into(), v);
    }
    let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings are valid");
    let db = startup::open_database(&settings)
        .await
        .expect("open the test database");
    let stores = startup::build_stores(&settings)
        .await
        .expect("build the cache and session stores");
    let cache = stores.cache.clone();
    let app = Application::build(settings, db.clone(), stores)
        .await
        .expect("build the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let feed = app.feed().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        cache,
        feed,
        prefix,
        backend: options.backend,
        owns_prefix,
        database,
    }
}

/// The CSRF token of the first form on a page.
pub fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf_token on the page: {html}"))
        + marker.len();
    html[start..start + 64].to_owned()
}

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "a long enough password";

/// A page with its per-visitor form token (and the visitor id a book page's
/// rating form carries) blanked, to compare two visits.
pub fn without_token(html: &str) -> String {
    let mut page = html.to_owned();
    for marker in ["name=\"csrf_token\" value=\"", "name=\"reader\" value=\""] {
        if let Some(at) = page.find(marker) {
            let start = at + marker.len();
            page = format!(
                "{}{}",
                &page[..start],
                &page[(start + 64).min(page.len())..]
            );
        }
    }
    page
}

/// Fetches the sign-in form at `base` (folio, or a proxy in front) with
/// `client` and submits it.
pub async fn post_login_at(
    base: &str,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let form = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap();
    let token = csrf_token(&form.text().await.unwrap());
    client
        .post(format!("{base}/admin/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap()
}

/// Signs `client` in at `base`; returns the session's CSRF token.
pub async fn login_at(base: &str, client: &reqwest::Client, email: &str, password: &str) -> String {
    let response = post_login_at(base, client, email, password).await;
    assert_eq!(
        response.status(),
        303,
        "login failed: {}",
        response.text().await.unwrap()
    );
    let dashboard = client.get(format!("{base}/admin")).send().await.unwrap();
    assert_eq!(dashboard.status(), 200);
    csrf_token(&dashboard.text().await.unwrap())
}
