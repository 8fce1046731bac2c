-- Back to the application-side outbox. The tables keep their new defaults.
DROP TRIGGER books_inserted;
DROP TRIGGER books_updated;
DROP TRIGGER books_deleted;
DROP TRIGGER ratings_inserted;
DROP TRIGGER ratings_updated;
DROP TRIGGER ratings_deleted;
DROP TRIGGER cache_change_recorded;
DROP VIEW cache_change_inbox;
ALTER TABLE books DROP COLUMN version;
DROP TABLE cache_changes;
DROP TABLE folio_counters;
CREATE TABLE cache_invalidations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    tags       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
