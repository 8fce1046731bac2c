//! Where a request came from.

use std::net::IpAddr;

use actix_web::{web, HttpRequest};

use crate::web::AppState;

/// The address the request came from: the TCP peer, or, when that is a
/// proxy of `FOLIO_TRUSTED_PROXIES`, the client it forwarded for.
pub(crate) fn client_ip(req: &HttpRequest) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return peer;
    };
    let trusted = &state.settings.http.trusted_proxies;
    if trusted.is_empty() {
        return peer;
    }
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    trusted.client_addr(peer, &forwarded)
}
