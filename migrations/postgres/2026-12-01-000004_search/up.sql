-- Search across title, author and ISBN (src/db/search.rs): full-text search
-- with the `simple' configuration (no stemming, no stop words, so a missing
-- "of" is just a word not asked for) over a document made by one immutable
-- function, indexed by an expression index. No column and no trigger: every
-- writer's rows are searchable as they commit. Title weighs most (A), then
-- author (B), then the ISBN without hyphens or spaces (C).
CREATE FUNCTION folio_search_document(title TEXT, author TEXT, isbn TEXT) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN setweight(to_tsvector('simple'::regconfig, title), 'A')
        || setweight(to_tsvector('simple'::regconfig, author), 'B')
        || setweight(to_tsvector('simple'::regconfig,
               replace(replace(coalesce(isbn, ''), '-', ''), ' ', '')), 'C');

CREATE INDEX books_search ON books USING GIN (folio_search_document(title, author, isbn));
