-- One rating per reader per book. `reader` is a digest of the visitor's
-- cookie id (src/auth/visitor.rs), never the id itself; ratings written by
-- other programs (plain SQL, a seed, COPY) leave it NULL and count like any
-- other. The index is partial: NULL readers are many, and need no
-- uniqueness. A rating given again replaces the reader's row (INSERT … ON
-- CONFLICT DO UPDATE fires the statement triggers of both INSERT and UPDATE:
-- the change feed records `ratings:{book_id}` either way).
ALTER TABLE ratings ADD COLUMN reader TEXT;
CREATE UNIQUE INDEX ratings_book_id_reader ON ratings (book_id, reader) WHERE reader IS NOT NULL;
