//! What every handler may reach, shared by all workers.

use std::sync::Arc;

use actix_web::http::header;

use crate::auth::Accounts;
use crate::cache::Cache;
use crate::catalogue::editor::Editor;
use crate::catalogue::Catalogue;
use crate::config::Settings;

/// Everything a handler may need, shared by all workers.
pub(crate) struct AppState {
    pub(crate) settings: Settings,
    pub(crate) catalogue: Catalogue,
    pub(crate) editor: Editor,
    pub(crate) accounts: Accounts,
    /// `Cache-Control` of public pages, made once from the settings.
    pub(crate) public_cache_control: header::HeaderValue,
    /// Surrogate keys and `Surrogate-Control` of public pages.
    pub(crate) edge: crate::edge::EdgeHeaders,
}

impl AppState {
    pub(crate) fn cache(&self) -> &Arc<Cache> {
        self.catalogue.cache()
    }
}
