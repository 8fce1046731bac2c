-- The change feed. Every INSERT, UPDATE and DELETE on a table that pages show,
-- by any client (folio, the sqlite3 shell, the diesel CLI, a script), records
-- what it changed in `cache_changes`, inside the writer's own transaction: the
-- record commits exactly when the change does. folio drains the table, bumps
-- the cache tags that `src/cache/policy.rs` declares for each subject, and
-- deletes the rows it applied. See src/changes/.
--
-- Subjects: `book:{id}` (inserted or updated), `book-deleted:{id}`,
-- `ratings:{book_id}`, `chart` (an admin's "recompute now"), `all` (a bulk
-- load: `folio seed` drops these triggers inside its own transaction, loads,
-- puts them back and records `all`; no other connection ever sees them gone).

-- One counter for row versions and change sequence numbers: it only grows
-- (a reset of the catalogue does not restart it), so `book:{id}` at version
-- {v} names one content forever.
CREATE TABLE folio_counters (
    name  TEXT    PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);

-- One row per subject: a burst of changes to one book is one row (`coalesced`
-- counts the row changes folded into it). `seq` changes with every change, so
-- a consumer deletes exactly what it applied (`DELETE … WHERE seq = ?`) and a
-- change made meanwhile stays.
CREATE TABLE cache_changes (
    subject    TEXT      PRIMARY KEY NOT NULL,
    seq        BIGINT    NOT NULL UNIQUE,
    changed_at TIMESTAMP NOT NULL,
    coalesced  BIGINT    NOT NULL DEFAULT 1
);

-- Outbox rows that were never delivered become one `all`.
INSERT INTO folio_counters (name, value) SELECT 'change', coalesce(max(id), 0) + 1 FROM books;
INSERT INTO cache_changes (subject, seq, changed_at)
    SELECT 'all', value, strftime('%Y-%m-%d %H:%M:%f', 'now') FROM folio_counters
    WHERE name = 'change' AND EXISTS (SELECT 1 FROM cache_invalidations);
DROP TABLE cache_invalidations;

-- SQLite cannot add defaults to existing columns: the two tables are rebuilt
-- with UTC defaults (plain SQL may leave the timestamps out) and the book's
-- `version`. Ratings are copied aside first, so dropping the old books
-- table cascades into nothing.
CREATE TABLE books_new (
    id             INTEGER   PRIMARY KEY AUTOINCREMENT NOT NULL,
    title          TEXT      NOT NULL,
    author         TEXT      NOT NULL,
    isbn           TEXT      UNIQUE,
    description    TEXT      NOT NULL DEFAULT '',
    published_year INTEGER,
    created_at     TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at     TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    -- Maintained by the triggers below; never set it by hand.
    version        BIGINT    NOT NULL DEFAULT 0
);
INSERT INTO books_new (id, title, author, isbn, description, published_year, created_at, updated_at, version)
    SELECT id, title, author, isbn, description, published_year, created_at, updated_at, id FROM books;
-- Keep the id sequence: a deleted book's id is never handed out again.
DELETE FROM sqlite_sequence WHERE name = 'books_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'books_new', seq FROM sqlite_sequence WHERE name = 'books';

CREATE TABLE ratings_copy AS SELECT id, book_id, stars, created_at FROM ratings;
DROP TABLE ratings;
DROP TABLE books;
ALTER TABLE books_new RENAME TO books;

CREATE TABLE ratings (
    id         INTEGER   PRIMARY KEY AUTOINCREMENT NOT NULL,
    book_id    INTEGER   NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    stars      INTEGER   NOT NULL CHECK (stars BETWEEN 1 AND 5),
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
INSERT INTO ratings (id, book_id, stars, created_at) SELECT id, book_id, stars, created_at FROM ratings_copy;
DROP TABLE ratings_copy;

CREATE INDEX ratings_created_at_book_id_stars ON ratings (created_at, book_id, stars);
CREATE INDEX ratings_book_id ON ratings (book_id);
CREATE INDEX books_title_id ON books (title, id);

-- Recording a change, in one place: `INSERT INTO cache_change_inbox (subject)`
-- takes the next sequence number and coalesces into the subject's row (what
-- `folio_record_change()` is on PostgreSQL).
CREATE VIEW cache_change_inbox (subject) AS SELECT subject FROM cache_changes;
CREATE TRIGGER cache_change_recorded INSTEAD OF INSERT ON cache_change_inbox
BEGIN
    UPDATE folio_counters SET value = value + 1 WHERE name = 'change';
    INSERT INTO cache_changes (subject, seq, changed_at)
        SELECT NEW.subject, value, strftime('%Y-%m-%d %H:%M:%f', 'now') FROM folio_counters
        WHERE name = 'change'
        ON CONFLICT (subject) DO UPDATE
            SET seq = excluded.seq, changed_at = excluded.changed_at, coalesced = coalesced + 1;
END;

-- A book's version is set on every insert and every update, whoever writes;
-- `updated_at` too, unless the writer set it. The nested UPDATE changes
-- `version`, so the update trigger's WHEN keeps it from firing again.
CREATE TRIGGER books_inserted AFTER INSERT ON books
BEGIN
    UPDATE folio_counters SET value = value + 1 WHERE name = 'change';
    UPDATE books SET version = (SELECT value FROM folio_counters WHERE name = 'change')
        WHERE id = NEW.id;
    INSERT INTO cache_change_inbox (subject)
        SELECT 'book:' || NEW.id;
END;

CREATE TRIGGER books_updated AFTER UPDATE ON books WHEN NEW.version IS OLD.version
BEGIN
    UPDATE folio_counters SET value = value + 1 WHERE name = 'change';
    UPDATE books SET
        version = (SELECT value FROM folio_counters WHERE name = 'change'),
        updated_at = CASE WHEN NEW.updated_at IS OLD.updated_at
                          THEN strftime('%Y-%m-%d %H:%M:%f', 'now') ELSE NEW.updated_at END
        WHERE id = NEW.id;
    INSERT INTO cache_change_inbox (subject)
        SELECT 'book:' || NEW.id;
    -- A changed id: the old one is gone.
    INSERT INTO cache_change_inbox (subject)
        SELECT 'book-deleted:' || OLD.id
        WHERE OLD.id <> NEW.id;
END;

CREATE TRIGGER books_deleted AFTER DELETE ON books
BEGIN
    INSERT INTO cache_change_inbox (subject) VALUES ('book-deleted:' || OLD.id);
END;

CREATE TRIGGER ratings_inserted AFTER INSERT ON ratings
BEGIN
    INSERT INTO cache_change_inbox (subject) VALUES ('ratings:' || NEW.book_id);
END;

CREATE TRIGGER ratings_updated AFTER UPDATE ON ratings
BEGIN
    INSERT INTO cache_change_inbox (subject) VALUES ('ratings:' || NEW.book_id);
    INSERT INTO cache_change_inbox (subject)
        SELECT 'ratings:' || OLD.book_id WHERE OLD.book_id <> NEW.book_id;
END;

CREATE TRIGGER ratings_deleted AFTER DELETE ON ratings
BEGIN
    INSERT INTO cache_change_inbox (subject) VALUES ('ratings:' || OLD.book_id);
END;
