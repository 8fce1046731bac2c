-- The catalogue's order, as library catalogues file titles: ignoring a
-- leading "The", "A" or "An", and case. A generated column, so every
-- writer's rows sort right with no trigger; the same expression as on
-- SQLite, compared byte-wise (COLLATE "C") as SQLite does, so both backends
-- list the catalogue in the same order.
ALTER TABLE books ADD COLUMN sort_title TEXT COLLATE "C" NOT NULL GENERATED ALWAYS AS (
    lower(CASE
        WHEN lower(substr(title, 1, 4)) = 'the ' THEN ltrim(substr(title, 5))
        WHEN lower(substr(title, 1, 3)) = 'an ' THEN ltrim(substr(title, 4))
        WHEN lower(substr(title, 1, 2)) = 'a ' THEN ltrim(substr(title, 3))
        ELSE title END)
) STORED;

DROP INDEX books_title_id;
CREATE INDEX books_sort_title_id ON books (sort_title, id);

-- Every catalogue page is now in another order: a running folio renews them.
SELECT folio_record_change('all', 1);
