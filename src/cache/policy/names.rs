//! Fragments' names without parameters, for metrics and logs: the engine
//! counts by `kind_index`.

use super::Fragment;

/// Fragment names, in `Fragment::kind_index` order.
pub const FRAGMENT_NAMES: [&str; 17] = [
    "chart_ranking",
    "home_page",
    "top_books_json",
    "catalogue_page",
    "catalogue_json",
    "book_page",
    "book_json",
    "sample_list",
    "book_row",
    "search_results",
    "author_page",
    "catalogue_sorted",
    "catalogue_sorted_json",
    "sample_json",
    "robots_txt",
    "sitemap_index",
    "sitemap",
];

impl Fragment {
    /// The fragment's name without parameters, for metrics and logs.
    pub fn name(&self) -> &'static str {
        FRAGMENT_NAMES[self.kind_index()]
    }

    pub fn kind_index(&self) -> usize {
        match self {
            Fragment::ChartRanking => 0,
            Fragment::HomePage => 1,
            Fragment::TopBooksJson => 2,
            Fragment::CataloguePage(_) => 3,
            Fragment::CatalogueJson(_) => 4,
            Fragment::BookPage(_) => 5,
            Fragment::BookJson(_) => 6,
            Fragment::SampleList => 7,
            Fragment::BookRow { .. } => 8,
            Fragment::SearchResults { .. } => 9,
            Fragment::AuthorPage(_) => 10,
            Fragment::CatalogueSorted { .. } => 11,
            Fragment::CatalogueSortedJson { .. } => 12,
            Fragment::SampleJson => 13,
            Fragment::RobotsTxt => 14,
            Fragment::SitemapIndex => 15,
            Fragment::Sitemap(_) => 16,
        }
    }
}
