//! The reader's search: the best matches of a query (see `db::search`).

use super::Catalogue;
use crate::db::search::{self as q, SearchHits};
use crate::db::DataError;
use crate::domain::SearchQuery;

/// How many matches a results page shows, best first.
pub(crate) const SEARCH_RESULTS: i64 = 50;

impl Catalogue {
    pub(crate) async fn search_catalogue(
        &self,
        query: SearchQuery,
    ) -> Result<SearchHits, DataError> {
        self.db()
            .run(move |c| q::search(c, &query, SEARCH_RESULTS))
            .await
    }
}
