DROP INDEX ratings_book_id_reader;
ALTER TABLE ratings DROP COLUMN reader;
