//! The readers' side: the HTML pages (`pages`, `book`, `browse`, `search`),
//! what crawlers and browsers ask every site for (`site`), and the JSON API
//! (`api`). Nothing here needs a session but the book page's own parts.

pub(crate) mod api;
pub(crate) mod book;
pub(crate) mod browse;
pub(crate) mod pages;
pub(crate) mod search;
pub(crate) mod site;
pub(crate) mod views;
