//! Catalogue import and export: a Goodreads file with its quirks through the
//! admin's upload on both backends (the report, then exact pages without a
//! cache clear), and an export read back by `folio import`.

use std::process::Command;

use crate::support::{
    spawn_app, spawn_app_with, AppOptions, Backend, CacheKind, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD,
};

const GOODREADS_HEADER: &str = "Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,Average Rating,Publisher,Binding,Number of Pages,Year Published,Original Publication Year,Date Read,Date Added,Bookshelves,Bookshelves with positions,Exclusive Shelf,My Review,Spoiler,Private Notes,Read Count,Owned Copies";

/// A Goodreads row: title, author, ISBN, ISBN13 and years as Goodreads
/// writes them.
fn goodreads_row(title: &str, author: &str, isbn: &str, isbn13: &str, year: &str) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    format!(
        "1,{},{},\"x, y\",,=\"{isbn}\",=\"{isbn13}\",0,3.9,Publisher,Paperback,300,{year},{year},,2024/05/01,to-read,to-read (#1),to-read,,,,0,0",
        quote(title),
        quote(author)
    )
}

/// Posts `file` as the upload form's file, as a browser does.
async fn upload(app: &TestApp, admin: &reqwest::Client, file: &str) -> reqwest::Response {
    let token = app.form_token(admin, "/admin/import").await;
    let boundary = "----folioTestBoundary7MA4YWxk";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"goodreads_library_export.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    );
    admin
        .post(app.url("/admin/import"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn a_goodreads_file_with_quirks(backend: Backend) {
    let app = spawn_app(backend, CacheKind::Redis).await;
    app.seed(5, 20, 9).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = app.browser();
    app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Pages cached before the import.
    let seeded_isbn = folio::db::seed::isbn13_for(0);
    for path in ["/books/1", "/books", "/api/books/1"] {
        app.fetch(path).await;
        assert_eq!(app.fetch(path).await.1.as_deref(), Some("HIT"), "{path}");
    }
    let description = app
        .db
        .run(|c| folio::db::books::find_book(c, 1))
        .await
        .unwrap()
        .unwrap()
        .description;

    let file = [
        GOODREADS_HEADER.to_owned(),
        goodreads_row(
            "Dune (Dune, #1)",
            "Frank Herbert",
            "0441013597",
            "9780441013593",
            "1965",
        ),
        goodreads_row(
            "Good Omens: The Nice and Accurate Prophecies of Agnes Nutter, Witch",
            "Terry Pratchett",
            "",
            "9780060853983",
            "2006",
        ),
        goodreads_row("A Book Without \"Numbers\"", "Anne Author", "", "", ""),
        goodreads_row("Dune again", "Frank Herbert", "", "9780441013593", "1965"),
        goodreads_row("", "Nobody", "", "", ""),
        goodreads_row("Bad Number", "Someone", "12345", "", ""),
        goodreads_row(
            "Aaaa Renamed By Import",
            "Import Author",
            "",
            &seeded_isbn,
            "1999",
        ),
    ]
    .join("\n");
    let response = upload(&app, &admin, &file).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    let report = response.text().await.unwrap();
    assert!(
        report.contains("Imported from a Goodreads library export"),
        "{report}"
    );
    for expected in [
        "<span class=\"n\">3</span> added",
        "<span class=\"n\">1</span> updated",
        "<span class=\"n\">3</span> skipped",
        "<li>line 5: the same ISBN as line 2; skipped</li>",
        "<li>line 6: title is required</li>",
        "<li>line 7: ISBN must have 10 or 13 digits</li>",
        "<li>line 2: Dune (Dune, #1)</li>",
        "<li>line 3: Good Omens: The Nice and Accurate Prophecies of Agnes Nutter, Witch</li>",
        "<li>line 4: A Book Without &#34;Numbers&#34;</li>",
        "<li>line 8: Aaaa Renamed By Import</li>",
    ] {
        assert!(report.contains(expected), "no {expected:?} in {report}");
    }

    // Exact pages at once, no cache clear: the updated book everywhere...
    let (_, _, page) = app.fetch("/books/1").await;
    assert!(page.contains("Aaaa Renamed By Import"), "{page}");
    assert!(
        page.contains(&description),
        "Goodreads has no description: kept"
    );
    let (_, _, list) = app.fetch("/books").await;
    assert!(list.contains("Aaaa Renamed By Import"));
    assert!(list.contains("Dune (Dune, #1)"));
    let book: serde_json::Value = app.get("/api/books/1").await.json().await.unwrap();
    assert_eq!(book["title"], "Aaaa Renamed By Import");
    assert_eq!(book["published_year"], 1999);
    // ...and the new ones, searchable.
    assert_eq!(app.book_count().await, 8);
    let (_, _, found) = app.fetch("/search?q=agnes+nutter").await;
    assert!(found.contains("Good Omens"), "{found}");
    let (_, _, found) = app.fetch("/search?q=9780441013593").await;
    assert!(found.contains("Dune (Dune, #1)"), "{found}");

    // The same file again changes nothing.
    let again = upload(&app, &admin, &file).await.text().await.unwrap();
    assert!(
        again.contains("<span class=\"n\">0</span> added"),
        "{again}"
    );
    assert!(
        again.contains("<span class=\"n\">4</span> unchanged"),
        "{again}"
    );
    assert_eq!(app.book_count().await, 8);
}

#[tokio::test]
async fn a_goodreads_file_with_quirks_imports_with_a_report_on_sqlite() {
    a_goodreads_file_with_quirks(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_goodreads_file_with_quirks_imports_with_a_report_on_postgres() {
    a_goodreads_file_with_quirks(Backend::Postgres).await;
}

/// A file that is not a catalogue imports nothing and says why; readers and
/// forged forms cannot import at all.
#[tokio::test]
async fn only_an_admin_imports_and_a_bad_file_imports_nothing() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(3, 0, 10).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let reader = app.browser();
    let r = reader
        .post(app.url("/admin/import"))
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x--")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "a reader is sent to sign in");
    assert_eq!(
        reader
            .get(app.url("/admin/export"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );

    let admin = app.browser();
    app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = upload(&app, &admin, "name,writer\nx,y\n").await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("line 1: the header is neither"));
    assert_eq!(app.book_count().await, 3);

    // Without the session's token: refused before anything is read.
    let r = admin
        .post(app.url("/admin/import"))
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\ntitle,author,isbn,published_year,description\nNew,One,,,\r\n--x--")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.book_count().await, 3);
}

fn folio(args: &[&str], database_url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(args)
        .env_remove("REDIS_URL")
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run folio")
}

/// The admin's download, read back by `folio import` into another database,
/// gives the same catalogue; importing it again changes nothing.
#[tokio::test]
async fn an_export_imports_back_into_the_same_catalogue() {
    let source = spawn_app_with(AppOptions::new(Backend::Sqlite, CacheKind::Memory)).await;
    source.seed(40, 0, 11).await;
    source.outside_sql(
        "INSERT INTO books (title, author, description) \
         VALUES ('Commas, \"quotes\"', 'No ISBN', 'two\nlines, and a comma')",
    );
    source.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = source.browser();
    source.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let download = admin.get(source.url("/admin/export")).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert!(download.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let exported = download.text().await.unwrap();
    assert!(exported.starts_with("title,author,isbn,published_year,description\n"));

    let target = spawn_app_with(AppOptions::new(Backend::Postgres, CacheKind::Memory)).await;
    let file = std::env::temp_dir().join(format!("{}.csv", crate::support::unique_name("export")));
    std::fs::write(&file, &exported).unwrap();
    let url = target.database_url();
    let path = file.to_str().unwrap().to_owned();
    let (first, second, back) = tokio::task::spawn_blocking(move || {
        let first = folio(&["import", &path], &url);
        let second = folio(&["import", &path], &url);
        let back = folio(&["export"], &url);
        (first, second, back)
    })
    .await
    .unwrap();
    let _ = std::fs::remove_file(&file);
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{:?}: {said} {}",
        first.status,
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        said.contains("folio export: 41 added, 0 updated, 0 unchanged, 0 skipped"),
        "{said}"
    );
    let said = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{:?}: {said} {}",
        second.status,
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        said.contains("0 added, 0 updated, 41 unchanged, 0 skipped"),
        "{said}"
    );
    assert!(
        back.status.success(),
        "folio export ended with {:?}: {}",
        back.status,
        String::from_utf8_lossy(&back.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&back.stdout), exported);
}

/// Over 1,000 written rows the import pauses the per-row change records and
/// leaves one `all`: every updated book still gets a new version (its
/// catalogue row's key) and every page is exact afterwards.
async fn a_large_import_renews_every_page(backend: Backend) {
    let app = spawn_app(backend, CacheKind::Redis).await;
    app.seed(1_200, 0, 12).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = app.browser();
    app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for path in [
        "/books",
        "/books?page=24",
        "/books/1",
        "/api/books/1",
        "/api/books?page=1",
    ] {
        app.fetch(path).await;
        assert_eq!(app.fetch(path).await.1.as_deref(), Some("HIT"), "{path}");
    }
    let versions_before = app.book_versions().await;

    let exported =
        String::from_utf8(folio::catalogue::import::export_csv(&app.db).await.unwrap()).unwrap();
    let mut lines = exported.lines();
    let mut revised = vec![lines.next().unwrap().to_owned()];
    revised.extend(lines.map(|line| format!("Zz Revised {line}")));
    let response = upload(&app, &admin, &revised.join("\n")).await;
    assert_eq!(response.status(), 200);
    let report = response.text().await.unwrap();
    assert!(
        report.contains("<span class=\"n\">1200</span> updated"),
        "{report}"
    );

    let versions_after = app.book_versions().await;
    let mut seen = std::collections::HashSet::new();
    for (before, after) in versions_before.iter().zip(&versions_after) {
        assert!(after > before, "a version did not move: {before} → {after}");
        assert!(seen.insert(*after), "version {after} handed out twice");
    }
    let (_, _, book) = app.fetch("/books/1").await;
    assert!(book.contains("Zz Revised "), "{book}");
    // Every book was renamed: every cached page shows only the new titles.
    let listing: serde_json::Value = app.get("/api/books?page=1").await.json().await.unwrap();
    let titles = listing["books"].as_array().unwrap();
    assert_eq!(titles.len(), 50);
    for book in titles {
        let title = book["title"].as_str().unwrap();
        assert!(title.starts_with("Zz Revised "), "{title}");
    }
    for path in ["/books", "/books?page=24"] {
        let (_, _, html) = app.fetch(path).await;
        assert_eq!(html.matches("Zz Revised ").count(), 50, "{path}: {html}");
    }
    let (_, _, found) = app.fetch("/search?q=revised").await;
    assert!(found.contains("Zz Revised "), "{found}");
}

#[tokio::test]
async fn a_large_import_renews_every_page_on_sqlite() {
    a_large_import_renews_every_page(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_large_import_renews_every_page_on_postgres() {
    a_large_import_renews_every_page(Backend::Postgres).await;
}
