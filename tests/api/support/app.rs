//! One way to start folio for a test: `spawn_app`, on port 0, with its own
//! `SQLite` file or `PostgreSQL` database and its own Redis key prefix.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use diesel::connection::SimpleConnection;

use folio::cache::Cache;
use folio::config::Settings;
use folio::db::seed::{self, SeedPlan};
use folio::db::Database;
use folio::startup::{self, Application};

use super::database::{outside_connection, Backend, TestDatabase};
use super::redis::{delete_redis_prefix, require_redis, REDIS_URL};
use super::unique_name;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    Memory,
    Redis,
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

    /// The `PostgreSQL` database's name (Postgres apps only).
    pub fn db_name(&self) -> String {
        self.database.url.rsplit('/').next().unwrap().to_owned()
    }

    pub async fn book_count(&self) -> i64 {
        self.db.run(folio::db::books::count_books).await.unwrap()
    }

    /// The id of the book with this title.
    pub async fn book_id(&self, title: &'static str) -> i32 {
        self.db
            .run(move |c| {
                use diesel::prelude::*;
                use folio::db::schema::books;
                Ok(books::table
                    .filter(books::title.eq(title))
                    .select(books::id)
                    .first::<i32>(c)?)
            })
            .await
            .unwrap()
    }

    /// Every book's version, in the order of their ids.
    pub async fn book_versions(&self) -> Vec<i64> {
        self.db
            .run(|c| {
                use diesel::prelude::*;
                use folio::db::schema::books;
                Ok(books::table
                    .order_by(books::id)
                    .select(books::version)
                    .load(c)?)
            })
            .await
            .unwrap()
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

/// How often the apps' databases ran the chart query, together.
pub fn chart_queries(apps: &[&TestApp]) -> u64 {
    apps.iter()
        .map(|a| a.db.query_counts().chart.load(Ordering::SeqCst))
        .sum()
}
