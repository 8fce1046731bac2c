//! The admin at phone width (390 px) in a real browser: every page laid
//! out whole inside the viewport.

use fantoccini::Client;

use crate::support::browser::{
    click, field_value, sign_in, snapshot, start_phone_browser, type_into, visit, wait_for_text,
    PHONE_WIDTH,
};
use crate::support::{spawn_app, Backend, CacheKind, ADMIN_EMAIL, ADMIN_PASSWORD};

/// The page's width as laid out, and the viewport's, in CSS pixels.
async fn widths(c: &Client) -> (i64, i64) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    (v[0].as_i64().unwrap(), v[1].as_i64().unwrap())
}

/// "ok" when every element `css` matches is shown whole inside the
/// viewport; else where the first one is not.
async fn shown_whole(c: &Client, css: &str) -> String {
    let v = c
        .execute(
            "const all = document.querySelectorAll(arguments[0]);
             if (all.length === 0) return 'none found';
             for (const el of all) {
               const r = el.getBoundingClientRect();
               const s = getComputedStyle(el);
               if (!(r.width > 0 && r.height > 0 && r.left >= 0
                     && r.right <= window.innerWidth + 0.5 && s.visibility !== 'hidden')) {
                 return `${el.textContent.trim()} at ${r.left}..${r.right} of ${window.innerWidth}`;
               }
             }
             return 'ok';",
            vec![serde_json::json!(css)],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_admin_at_phone_width_sees_every_page_whole() {
    let app = spawn_app(Backend::Sqlite, CacheKind::Memory).await;
    app.seed(120, 600, 34).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for path in ["/", "/books", "/books/5", "/search?q=the"] {
        app.fetch(path).await;
    }
    let (_driver, c) = start_phone_browser().await;

    // A deep link: sign in, then back to the page asked for.
    c.goto(&app.url("/admin/books/5/edit")).await.unwrap();
    wait_for_text(&c, "Only admins sign in").await;
    sign_in(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    wait_for_text(&c, "Edit the book").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/admin/books/5/edit");

    let admin_pages = [
        "/admin",
        "/admin/books",
        "/admin/books?q=the",
        "/admin/books?sort=author&page=2",
        "/admin/books/new",
        "/admin/books/5/edit",
        "/admin/books/5/delete",
        "/admin/cache",
        "/admin/logout",
    ];
    for path in admin_pages {
        visit(&c, &app, path).await;
        let (page, viewport) = widths(&c).await;
        assert_eq!(viewport, PHONE_WIDTH, "{path}: the viewport");
        assert_eq!(page, viewport, "{path} scrolls sideways");
        assert_eq!(
            shown_whole(&c, "header form[action='/admin/logout'] button").await,
            "ok",
            "{path}: Log out"
        );
        assert_eq!(shown_whole(&c, "main h1").await, "ok", "{path}");
        let name = path
            .trim_start_matches('/')
            .replace(['/', '?', '&', '='], "-");
        snapshot(&c, &format!("phone-{name}")).await;
    }
    // Nothing that matters is hidden: every column of the cache's table.
    visit(&c, &app, "/admin/cache").await;
    for label in ["Fragment", "Hit ratio", "Hits", "Misses", "Errors"] {
        assert_eq!(
            shown_whole(&c, &format!("td[data-label='{label}']")).await,
            "ok",
            "/admin/cache: {label}"
        );
    }
    visit(&c, &app, "/admin/books").await;
    assert_eq!(
        shown_whole(&c, "td.actions a").await,
        "ok",
        "Edit and Delete"
    );
    assert_eq!(shown_whole(&c, ".pager a").await, "ok", "the pager");

    // Save and add another, at phone width.
    visit(&c, &app, "/admin/books/new").await;
    type_into(&c, "title", "Pocket Edition").await;
    type_into(&c, "author", "Small Screen").await;
    click(&c, "button[name=then][value=new]").await;
    wait_for_text(&c, "Added “Pocket Edition”.").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/admin/books/new");
    assert_eq!(field_value(&c, "title").await, "");

    // And the reader's pages, at the same width.
    for path in ["/", "/books", "/books/5", "/search?q=the", "/admin/login"] {
        visit(&c, &app, path).await;
        let (page, viewport) = widths(&c).await;
        assert_eq!(page, viewport, "{path} scrolls sideways");
    }
    c.close().await.unwrap();
}
