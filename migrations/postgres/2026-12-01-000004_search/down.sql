DROP INDEX books_search;
DROP FUNCTION folio_search_document(TEXT, TEXT, TEXT);
