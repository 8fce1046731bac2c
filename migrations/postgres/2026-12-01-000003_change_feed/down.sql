-- Back to the application-side outbox. The tables keep their new defaults.
DROP TRIGGER books_inserted ON books;
DROP TRIGGER books_updated ON books;
DROP TRIGGER books_deleted ON books;
DROP TRIGGER books_truncated ON books;
DROP TRIGGER books_version ON books;
DROP TRIGGER ratings_inserted ON ratings;
DROP TRIGGER ratings_updated ON ratings;
DROP TRIGGER ratings_deleted ON ratings;
DROP TRIGGER ratings_truncated ON ratings;
DROP FUNCTION folio_books_changed();
DROP FUNCTION folio_ratings_changed();
DROP FUNCTION folio_book_version();
DROP FUNCTION folio_record_change(TEXT, BIGINT);
ALTER TABLE books DROP COLUMN version;
DROP TABLE cache_feed_paused;
DROP TABLE cache_changes;
DROP SEQUENCE folio_change_seq;
CREATE TABLE cache_invalidations (
    id         SERIAL PRIMARY KEY,
    tags       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
