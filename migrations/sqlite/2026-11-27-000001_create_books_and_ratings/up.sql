-- AUTOINCREMENT: a deleted book's id is never handed out again, so a cache key
-- such as `book:42` can never describe two different books.
CREATE TABLE books (
    id             INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    title          TEXT    NOT NULL,
    author         TEXT    NOT NULL,
    isbn           TEXT    UNIQUE,
    description    TEXT    NOT NULL DEFAULT '',
    published_year INTEGER,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);

CREATE TABLE ratings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    book_id    INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    stars      INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    created_at TIMESTAMP NOT NULL
);

-- The chart scans one month of ratings: this index covers the whole query
-- (range on created_at, group by book_id, sum of stars) without the table.
CREATE INDEX ratings_created_at_book_id_stars ON ratings (created_at, book_id, stars);
-- A book's page summarises its ratings; ON DELETE CASCADE needs it too.
CREATE INDEX ratings_book_id ON ratings (book_id);
-- The catalogue is ordered by title, then id.
CREATE INDEX books_title_id ON books (title, id);
