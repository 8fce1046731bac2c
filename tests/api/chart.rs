//! The chart against a straightforward computation, on both databases.

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;

use folio::db::models::{NewBook, NewRating};
use folio::db::schema::{books, ratings};
use folio::db::seed::{self, SeedPlan};
use folio::db::{books as queries, DbConn};

use crate::support::{spawn_app, Backend, CacheKind, TestDatabase};

#[derive(Debug, PartialEq, serde::Deserialize)]
struct ApiEntry {
    id: i32,
    title: String,
    author: String,
    ratings: i64,
    avg_stars: f64,
}

/// The chart by its definition, from every rating, with exact comparisons.
fn expected_chart(conn: &mut DbConn, now: chrono::NaiveDateTime) -> Vec<(i32, i64, i64)> {
    let all: Vec<(i32, i32, chrono::NaiveDateTime)> = ratings::table
        .select((ratings::book_id, ratings::stars, ratings::created_at))
        .load(conn)
        .unwrap();
    let mut per_book: std::collections::BTreeMap<i32, (i64, i64)> =
        std::collections::BTreeMap::new();
    for (book_id, stars, at) in all {
        if at >= now - TimeDelta::days(30) && at <= now {
            let e = per_book.entry(book_id).or_default();
            e.0 += 1;
            e.1 += i64::from(stars);
        }
    }
    let mut rows: Vec<(i32, i64, i64)> = per_book
        .into_iter()
        .map(|(id, (n, sum))| (id, n, sum))
        .collect();
    // Most ratings; then higher average (a/b > c/d <=> a*d > c*b); then lower id.
    rows.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| (b.2 * a.1).cmp(&(a.2 * b.1)))
            .then_with(|| a.0.cmp(&b.0))
    });
    rows.truncate(10);
    rows
}

async fn chart_matches_its_definition(backend: Backend) {
    let app = spawn_app(backend, CacheKind::Memory).await;
    app.seed(400, 20_000, 7).await;

    let db = app.db.clone();
    let expected = db
        .run(|c| Ok(expected_chart(c, Utc::now().naive_utc())))
        .await
        .unwrap();
    assert_eq!(expected.len(), 10);

    let served: Vec<ApiEntry> = app.get("/api/top-books").await.json().await.unwrap();
    let served_rows: Vec<(i32, i64)> = served.iter().map(|e| (e.id, e.ratings)).collect();
    let expected_rows: Vec<(i32, i64)> = expected.iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(served_rows, expected_rows);
    for (entry, (_, n, sum)) in served.iter().zip(&expected) {
        // Stars and ratings of one book in a month: far below 2^31.
        let (sum, n) = (i32::try_from(*sum).unwrap(), i32::try_from(*n).unwrap());
        let avg = (f64::from(sum) / f64::from(n) * 100.0).round() / 100.0;
        assert!((entry.avg_stars - avg).abs() < 1e-9, "{entry:?} vs {avg}");
    }

    // The HTML page lists the same books in the same order.
    let (status, _, html) = app.fetch("/").await;
    assert_eq!(status, 200);
    let positions: Vec<usize> = served
        .iter()
        .map(|e| {
            html.find(&format!("/books/{}\"", e.id))
                .expect("every chart book is on the page")
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "page order differs from the API's"
    );
}

#[tokio::test]
async fn chart_matches_its_definition_on_sqlite() {
    chart_matches_its_definition(Backend::Sqlite).await;
}

#[tokio::test]
async fn chart_matches_its_definition_on_postgres() {
    chart_matches_its_definition(Backend::Postgres).await;
}

/// Hand-made ties: equal counts ordered by average, equal averages by id, and
/// ratings outside the window ignored.
async fn chart_breaks_ties_by_average_then_id(backend: Backend) {
    let app = spawn_app(backend, CacheKind::Memory).await;
    let now = Utc::now().naive_utc();
    let ids = app
        .db
        .run(move |c| {
            let mut ids = Vec::new();
            for i in 0..5 {
                let book = NewBook {
                    title: format!("Book {i}"),
                    author: "A. Author".into(),
                    isbn: None,
                    description: String::new(),
                    published_year: None,
                    created_at: now,
                    updated_at: now,
                };
                let id: i32 = diesel::insert_into(books::table)
                    .values(&book)
                    .returning(books::id)
                    .get_result(c)?;
                ids.push(id);
            }
            // stars per book inside the window; book 4 also has old ratings.
            let plan: [&[i32]; 5] = [&[3, 3], &[5, 5], &[4, 4], &[5, 5], &[1]];
            for (id, stars) in ids.iter().zip(plan) {
                for s in stars {
                    let r = NewRating {
                        book_id: *id,
                        stars: *s,
                        created_at: now - TimeDelta::days(2),
                    };
                    diesel::insert_into(ratings::table).values(&r).execute(c)?;
                }
            }
            for _ in 0..5 {
                let old = NewRating {
                    book_id: ids[4],
                    stars: 5,
                    created_at: now - TimeDelta::days(31),
                };
                diesel::insert_into(ratings::table)
                    .values(&old)
                    .execute(c)?;
            }
            Ok(ids)
        })
        .await
        .unwrap();

    let chart = app
        .db
        .run(move |c| queries::top_books(c, Utc::now().naive_utc()))
        .await
        .unwrap();
    let order: Vec<i32> = chart.iter().map(|e| e.id).collect();
    assert_eq!(order, vec![ids[1], ids[3], ids[2], ids[0], ids[4]]);
    assert_eq!(
        chart[4].ratings, 1,
        "ratings older than 30 days do not count"
    );
}

#[tokio::test]
async fn chart_breaks_ties_on_sqlite() {
    chart_breaks_ties_by_average_then_id(Backend::Sqlite).await;
}

#[tokio::test]
async fn chart_breaks_ties_on_postgres() {
    chart_breaks_ties_by_average_then_id(Backend::Postgres).await;
}

/// `seed --seed 42` gives the same rows, hence the same chart, on both.
#[tokio::test]
async fn the_same_seed_gives_the_same_chart_on_sqlite_and_postgres() {
    let anchor = seed::default_anchor();
    let mut charts = Vec::new();
    let mut fingerprints = Vec::new();
    let mut keep = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::Sqlite] {
        let database = TestDatabase::new(backend);
        let url = folio::config::DatabaseUrl::parse(&database.url).unwrap();
        let db = folio::db::Database::connect(&url).unwrap();
        db.migrate().unwrap();
        let plan = SeedPlan {
            anchor,
            ..SeedPlan::new(300, 15_000, 42, false)
        };
        let seeded = db.clone();
        tokio::task::spawn_blocking(move || seed::seed(&seeded, plan))
            .await
            .unwrap()
            .unwrap();
        let now = anchor + TimeDelta::minutes(1);
        charts.push(db.run(move |c| queries::top_books(c, now)).await.unwrap());
        fingerprints.push(
            db.run(|c| {
                let books: Vec<(i32, String, Option<String>)> = books::table
                    .order_by(books::id)
                    .select((books::id, books::title, books::isbn))
                    .load(c)?;
                let ratings: Vec<(i32, i32, i32, chrono::NaiveDateTime)> = ratings::table
                    .order_by(ratings::id)
                    .select((
                        ratings::id,
                        ratings::book_id,
                        ratings::stars,
                        ratings::created_at,
                    ))
                    .load(c)?;
                Ok((books, ratings))
            })
            .await
            .unwrap(),
        );
        keep.push(database);
    }
    assert_eq!(charts[0].len(), 10);
    assert_eq!(charts[0], charts[1], "SQLite and PostgreSQL charts differ");
    assert_eq!(charts[0], charts[2], "two SQLite seeds differ");
    assert_eq!(
        fingerprints[0], fingerprints[1],
        "seeded rows differ between backends"
    );
    assert_eq!(
        fingerprints[0], fingerprints[2],
        "seeding is not deterministic"
    );
    assert_eq!(fingerprints[0].1.len(), 15_000);
}
