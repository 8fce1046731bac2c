-- Search across title, author and ISBN (src/db/search.rs). An FTS5 index of
-- its own (rowid = the book's id), kept by triggers whoever writes; the ISBN
-- is indexed without hyphens or spaces, as the search box's query is.
-- Prefix indexes of 2 and 3 characters make "partial word" queries cheap.
-- (A bulk load with the triggers paused rebuilds it: src/db/changes.rs.)
CREATE VIRTUAL TABLE books_search USING fts5(
    title, author, isbn,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

INSERT INTO books_search (rowid, title, author, isbn)
    SELECT id, title, author, replace(replace(coalesce(isbn, ''), '-', ''), ' ', '') FROM books;

CREATE TRIGGER books_search_inserted AFTER INSERT ON books
BEGIN
    INSERT INTO books_search (rowid, title, author, isbn)
        VALUES (NEW.id, NEW.title, NEW.author, replace(replace(coalesce(NEW.isbn, ''), '-', ''), ' ', ''));
END;

-- Only when a searched column changed: the change feed's own nested UPDATE
-- (the row's version) leaves the index alone.
CREATE TRIGGER books_search_updated AFTER UPDATE OF id, title, author, isbn ON books
    WHEN NEW.id IS NOT OLD.id OR NEW.title IS NOT OLD.title
      OR NEW.author IS NOT OLD.author OR NEW.isbn IS NOT OLD.isbn
BEGIN
    DELETE FROM books_search WHERE rowid = OLD.id;
    INSERT INTO books_search (rowid, title, author, isbn)
        VALUES (NEW.id, NEW.title, NEW.author, replace(replace(coalesce(NEW.isbn, ''), '-', ''), ' ', ''));
END;

CREATE TRIGGER books_search_deleted AFTER DELETE ON books
BEGIN
    DELETE FROM books_search WHERE rowid = OLD.id;
END;
