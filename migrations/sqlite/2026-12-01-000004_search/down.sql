DROP TRIGGER books_search_deleted;
DROP TRIGGER books_search_updated;
DROP TRIGGER books_search_inserted;
DROP TABLE books_search;
