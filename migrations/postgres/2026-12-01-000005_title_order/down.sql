DROP INDEX books_sort_title_id;
ALTER TABLE books DROP COLUMN sort_title;
CREATE INDEX books_title_id ON books (title, id);
SELECT folio_record_change('all', 1);
