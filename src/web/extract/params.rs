//! The parameters of a query string that several pages take, read from its
//! pairs (read once, strictly, by `form::query`).

use crate::domain::{CatalogueSort, PageNumber};
use crate::web::error::{bad_request, WebError};

/// The value of `key` among a query's pairs.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The `page` parameter; a missing one is the first page.
pub(crate) fn page_of(pairs: &[(String, String)]) -> Result<PageNumber, WebError> {
    PageNumber::parse(param(pairs, "page")).map_err(bad_request)
}

/// The `sort` parameter; a missing one is by title.
pub(crate) fn sort_of(pairs: &[(String, String)]) -> Result<CatalogueSort, WebError> {
    CatalogueSort::parse(param(pairs, "sort")).map_err(bad_request)
}
