-- The change feed. Every INSERT, UPDATE, DELETE and TRUNCATE on a table that
-- pages show, by any client (folio, psql, the diesel CLI, a script), records
-- what it changed in `cache_changes`, inside the writer's own transaction: the
-- record commits exactly when the change does, and NOTIFY wakes every folio
-- instance at that commit. folio drains the table, bumps the cache tags that
-- `src/cache/policy.rs` declares for each subject, and deletes the rows it
-- applied. See src/changes/.
--
-- Subjects: `book:{id}` (inserted or updated), `book-deleted:{id}`,
-- `ratings:{book_id}`, `chart` (an admin's "recompute now"), `all` (TRUNCATE,
-- a statement over more than 1,000 rows, or a bulk load that paused the feed).

-- Row versions and change sequence numbers. Not owned by a column, so
-- `TRUNCATE … RESTART IDENTITY` does not restart it: `book:{id}` at version
-- {v} names one content forever.
CREATE SEQUENCE folio_change_seq;

-- One row per subject: a burst of changes to one book is one row (`coalesced`
-- counts the row changes folded into it). `seq` changes with every change, so
-- a consumer deletes exactly what it applied (`DELETE … WHERE seq = ?`) and a
-- change made meanwhile stays.
CREATE TABLE cache_changes (
    subject    TEXT      PRIMARY KEY,
    seq        BIGINT    NOT NULL UNIQUE,
    changed_at TIMESTAMP NOT NULL,
    coalesced  BIGINT    NOT NULL DEFAULT 1
);

-- A bulk load (`folio seed`) inserts a row here inside its own transaction,
-- records `all` once, and deletes the row before committing: no other
-- transaction ever sees the feed paused.
CREATE TABLE cache_feed_paused (
    since TIMESTAMP NOT NULL
);

-- Outbox rows that were never delivered become one `all`.
INSERT INTO cache_changes (subject, seq, changed_at)
    SELECT 'all', nextval('folio_change_seq'), now() AT TIME ZONE 'utc'
    WHERE EXISTS (SELECT 1 FROM cache_invalidations);
DROP TABLE cache_invalidations;

-- UTC defaults, so plain SQL may leave the timestamps out.
ALTER TABLE books
    ALTER COLUMN created_at SET DEFAULT (now() AT TIME ZONE 'utc'),
    ALTER COLUMN updated_at SET DEFAULT (now() AT TIME ZONE 'utc'),
    ADD COLUMN version BIGINT;
ALTER TABLE ratings ALTER COLUMN created_at SET DEFAULT (now() AT TIME ZONE 'utc');
UPDATE books SET version = nextval('folio_change_seq');
-- Maintained by the trigger below; never set it by hand.
ALTER TABLE books
    ALTER COLUMN version SET DEFAULT nextval('folio_change_seq'),
    ALTER COLUMN version SET NOT NULL;

-- Records `n` changes of `subject`, coalesced into its row.
CREATE FUNCTION folio_record_change(subject TEXT, n BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO cache_changes (subject, seq, changed_at, coalesced)
    VALUES (subject, nextval('folio_change_seq'), clock_timestamp() AT TIME ZONE 'utc', n)
    ON CONFLICT (subject) DO UPDATE
        SET seq = EXCLUDED.seq, changed_at = EXCLUDED.changed_at,
            coalesced = cache_changes.coalesced + EXCLUDED.coalesced;
    SELECT pg_notify('folio_cache_changes', '');
$$;

-- A book's version changes on every insert and update, whoever writes;
-- `updated_at` too, unless the writer set it.
CREATE FUNCTION folio_book_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := nextval('folio_change_seq');
    IF TG_OP = 'UPDATE' AND NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now() AT TIME ZONE 'utc';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER books_version BEFORE INSERT OR UPDATE ON books
    FOR EACH ROW EXECUTE FUNCTION folio_book_version();

-- Statement triggers see a whole statement at once (transition tables):
-- one row per subject, however many rows the statement touched; past 1,000
-- rows, one `all`.
CREATE FUNCTION folio_books_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched BIGINT;
BEGIN
    IF EXISTS (SELECT 1 FROM cache_feed_paused) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM folio_record_change('all', 1);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO touched FROM old_rows;
    ELSE
        SELECT count(*) INTO touched FROM new_rows;
    END IF;
    IF touched = 0 THEN
        RETURN NULL;
    END IF;
    IF touched > 1000 THEN
        PERFORM folio_record_change('all', touched);
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM folio_record_change('book:' || id, 1) FROM new_rows;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM folio_record_change('book-deleted:' || id, 1) FROM old_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        -- A changed id: the old one is gone.
        PERFORM folio_record_change('book-deleted:' || o.id, 1)
            FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION folio_ratings_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched BIGINT;
BEGIN
    IF EXISTS (SELECT 1 FROM cache_feed_paused) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM folio_record_change('all', 1);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO touched FROM old_rows;
    ELSE
        SELECT count(*) INTO touched FROM new_rows;
    END IF;
    IF touched = 0 THEN
        RETURN NULL;
    END IF;
    IF touched > 1000 THEN
        PERFORM folio_record_change('all', touched);
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM folio_record_change('ratings:' || book_id, count(*)) FROM new_rows GROUP BY book_id;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM folio_record_change('ratings:' || book_id, count(*)) FROM old_rows GROUP BY book_id;
    ELSE
        PERFORM folio_record_change('ratings:' || book_id, count(*))
            FROM (SELECT book_id FROM new_rows UNION ALL SELECT book_id FROM old_rows) b
            GROUP BY book_id;
    END IF;
    RETURN NULL;
END $$;

-- A trigger with transition tables takes one event each.
CREATE TRIGGER books_inserted AFTER INSERT ON books REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION folio_books_changed();
CREATE TRIGGER books_updated AFTER UPDATE ON books REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION folio_books_changed();
CREATE TRIGGER books_deleted AFTER DELETE ON books REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION folio_books_changed();
CREATE TRIGGER books_truncated AFTER TRUNCATE ON books
    FOR EACH STATEMENT EXECUTE FUNCTION folio_books_changed();
CREATE TRIGGER ratings_inserted AFTER INSERT ON ratings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION folio_ratings_changed();
CREATE TRIGGER ratings_updated AFTER UPDATE ON ratings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION folio_ratings_changed();
CREATE TRIGGER ratings_deleted AFTER DELETE ON ratings REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION folio_ratings_changed();
CREATE TRIGGER ratings_truncated AFTER TRUNCATE ON ratings
    FOR EACH STATEMENT EXECUTE FUNCTION folio_ratings_changed();
