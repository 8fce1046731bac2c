//! Invalidation: never stale after a write, on two instances, under a forced
//! race, without a stampede, and without losing a write's invalidation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::join_all;

use folio::cache::Fragment;

use crate::support::{
    spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, ADMIN_EMAIL, ADMIN_PASSWORD,
};

/// After each edit returns, many concurrent readers on two instances all see
/// the new title, round after round.
#[tokio::test]
async fn readers_on_two_instances_never_see_an_old_title() {
    let a = spawn_app(Backend::Postgres, CacheKind::Redis).await;
    a.seed(40, 2_000, 21).await;
    let b = spawn_app_with(AppOptions::sharing(&a)).await;
    a.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = a.browser();
    let token = a.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let top: Vec<serde_json::Value> = a.get("/api/top-books").await.json().await.unwrap();
    let id = top[0]["id"].as_i64().unwrap();

    for round in 0..15 {
        let title = format!("Round {round} title");
        let r = admin
            .post(a.url(&format!("/admin/books/{id}")))
            .form(&[
                ("title", title.as_str()),
                ("author", "Same Author"),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "round {round}");
        let paths = [
            format!("/books/{id}"),
            format!("/api/books/{id}"),
            "/".into(),
            "/api/top-books".into(),
            "/books".into(),
        ];
        let reads = (0..8).flat_map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            paths
                .iter()
                .map(move |p| async move { (p.clone(), app.fetch(p).await.2) })
        });
        for (path, body) in join_all(reads).await {
            assert!(body.contains(&title), "round {round}: {path} is stale");
        }
    }
    // The in-process tier was on and answered: the exactness above held with it.
    for app in [&a, &b] {
        let local_hits: u64 = app
            .cache
            .metrics()
            .by_name()
            .map(|(_, m)| m.get(folio::cache::metrics::Event::HitLocal))
            .sum();
        assert!(local_hits > 0, "the in-process tier never answered");
    }
}

/// The classic race, forced: a reader reads the old row, the writer commits
/// and invalidates, then the reader stores what it read. The stored entry
/// must not be served.
#[tokio::test]
async fn a_reader_cannot_put_an_old_value_back_after_invalidation() {
    for cache_kind in [CacheKind::Redis, CacheKind::Memory] {
        let app = spawn_app(Backend::Sqlite, cache_kind).await;
        app.seed(5, 50, 22).await;
        let id = 2;
        let (read_done_tx, read_done_rx) = tokio::sync::oneshot::channel::<()>();
        let (write_done_tx, write_done_rx) = tokio::sync::oneshot::channel::<()>();

        let reader = {
            let cache = app.cache.clone();
            let db = app.db.clone();
            tokio::spawn(async move {
                cache
                    .get_or_compute(Fragment::BookPage(id), move |_| async move {
                        let old = db
                            .run(move |c| folio::db::books::find_book(c, id))
                            .await?
                            .unwrap();
                        read_done_tx.send(()).unwrap();
                        write_done_rx.await.unwrap();
                        Ok::<_, folio::catalogue::CatalogueError>(Bytes::from(format!(
                            "<h1>{}</h1>",
                            old.title
                        )))
                    })
                    .await
                    .unwrap()
            })
        };

        read_done_rx.await.unwrap();
        app.retitle(id, "The New Title").await;
        write_done_tx.send(()).unwrap();
        let stale = reader.await.unwrap();
        assert!(
            !String::from_utf8_lossy(&stale.body).contains("The New Title"),
            "the interleaving was not forced"
        );

        let (status, x_cache, body) = app.fetch(&format!("/books/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            x_cache.as_deref(),
            Some("MISS"),
            "{cache_kind:?}: the old entry was served"
        );
        assert!(
            body.contains("The New Title"),
            "{cache_kind:?}: stale page after the write"
        );
    }
}

/// After an edit, a crowd of readers arriving at once computes the page once.
#[tokio::test]
async fn an_edit_does_not_cause_a_stampede() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(20, 500, 23).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = app.browser();
    let token = app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.fetch("/books/4").await;
    let r = admin
        .post(app.url("/admin/books/4"))
        .form(&[
            ("title", "Hot Book"),
            ("author", "Someone"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let before = app.cache.computes("book_page");
    let bodies = join_all((0..64).map(|_| app.fetch("/books/4"))).await;
    assert!(bodies
        .iter()
        .all(|(s, _, b)| *s == 200 && b.contains("Hot Book")));
    let after = app.cache.computes("book_page");
    assert_eq!(
        after - before,
        1,
        "the page was computed {} times",
        after - before
    );
}

/// The same, seen from inside the engine: concurrent callers share one
/// computation.
#[tokio::test]
async fn concurrent_misses_share_one_computation() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let results = join_all((0..100).map(|_| {
        let calls = calls.clone();
        let cache = app.cache.clone();
        async move {
            cache
                .get_or_compute(Fragment::SampleList, |_| async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    Ok::<_, std::convert::Infallible>(Bytes::from_static(b"computed"))
                })
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(results.iter().all(|r| r.body == "computed"));
}

#[tokio::test]
async fn cache_clear_by_tag_on_the_command_line() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Redis).await;
    app.seed(5, 50, 25).await;
    app.fetch("/books/2").await;
    app.fetch("/books/3").await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["cache", "clear", "--tag", "book:2"])
        .env("REDIS_URL", crate::support::REDIS_URL)
        .env("FOLIO_CACHE_PREFIX", &app.prefix)
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(app.fetch("/books/2").await.1.as_deref(), Some("MISS"));
    assert_eq!(app.fetch("/books/3").await.1.as_deref(), Some("HIT"));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["cache", "clear"])
        .env("REDIS_URL", crate::support::REDIS_URL)
        .env("FOLIO_CACHE_PREFIX", &app.prefix)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(app.fetch("/books/3").await.1.as_deref(), Some("MISS"));
}

/// A request that arrives after a write has returned must not be handed the
/// result of a computation that read the database before the write.
#[tokio::test]
async fn a_computation_from_before_a_write_is_not_shared_after_it() {
    for cache_kind in [CacheKind::Redis, CacheKind::Memory] {
        let app = spawn_app(Backend::Sqlite, cache_kind).await;
        app.seed(5, 50, 26).await;
        let id = 3;
        let (read_done_tx, read_done_rx) = tokio::sync::oneshot::channel::<()>();
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        let slow = {
            let (cache, db) = (app.cache.clone(), app.db.clone());
            tokio::spawn(async move {
                cache
                    .get_or_compute(Fragment::BookPage(id), move |_| async move {
                        let old = db
                            .run(move |c| folio::db::books::find_book(c, id))
                            .await?
                            .unwrap();
                        read_done_tx.send(()).unwrap();
                        release_rx.await.unwrap();
                        Ok::<_, folio::catalogue::CatalogueError>(Bytes::from(old.title))
                    })
                    .await
                    .unwrap()
            })
        };
        read_done_rx.await.unwrap();
        app.retitle(id, "Written Meanwhile").await;
        // The write has returned; now a reader arrives while the slow
        // computation is still in flight, and joins it.
        let late = {
            let (cache, db) = (app.cache.clone(), app.db.clone());
            tokio::spawn(async move {
                cache
                    .get_or_compute(Fragment::BookPage(id), move |_| async move {
                        let now = db
                            .run(move |c| folio::db::books::find_book(c, id))
                            .await?
                            .unwrap();
                        Ok::<_, folio::catalogue::CatalogueError>(Bytes::from(now.title))
                    })
                    .await
                    .unwrap()
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        release_tx.send(()).unwrap();
        let slow = slow.await.unwrap();
        assert_ne!(
            slow.body, "Written Meanwhile",
            "{cache_kind:?}: the interleaving was not forced"
        );
        let late = late.await.unwrap();
        assert_eq!(
            late.body, "Written Meanwhile",
            "{cache_kind:?}: a late reader got the old title"
        );
    }
}

/// A tag key that disappears (evicted, cleared) proves nothing: what
/// depended on it is computed again, never served on a guess.
#[tokio::test]
async fn a_lost_tag_key_means_recompute() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Redis).with("FOLIO_LOCAL_CACHE_MB", "0"),
    )
    .await;
    app.seed(12, 200, 27).await;
    app.fetch("/books/10").await;
    assert_eq!(app.fetch("/books/10").await.1.as_deref(), Some("HIT"));
    let mut redis = crate::support::redis_conn();
    let _: () = redis::cmd("DEL")
        .arg(format!("{}:tag:ratings:10", app.prefix))
        .query(&mut redis)
        .unwrap();
    assert_eq!(app.fetch("/books/10").await.1.as_deref(), Some("MISS"));
    assert_eq!(app.fetch("/books/10").await.1.as_deref(), Some("HIT"));
}

/// Many ratings at once on `SQLite`: every one is written, none fails.
#[tokio::test]
async fn concurrent_ratings_all_land() {
    let app = spawn_app_with(
        AppOptions::new(Backend::Sqlite, CacheKind::Memory).with("FOLIO_RATINGS_PER_HOUR", "1000"),
    )
    .await;
    app.seed(5, 10, 28).await;
    // 150 readers (one reader's ratings replace each other).
    let mut readers = Vec::new();
    for _ in 0..150 {
        let reader = app.browser();
        let token = app.form_token(&reader, "/books/2").await;
        readers.push((reader, token));
    }
    let before: serde_json::Value = app.get("/api/books/2").await.json().await.unwrap();
    let statuses = join_all(readers.into_iter().enumerate().map(|(i, (reader, token))| {
        let url = app.url("/books/2/ratings");
        async move {
            let stars = (1 + i % 5).to_string();
            reader
                .post(url)
                .form(&[("stars", stars.as_str()), ("csrf_token", token.as_str())])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    }))
    .await;
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
    let after: serde_json::Value = app.get("/api/books/2").await.json().await.unwrap();
    assert_eq!(
        after["ratings"]["count"].as_i64().unwrap(),
        before["ratings"]["count"].as_i64().unwrap() + 150
    );
}
