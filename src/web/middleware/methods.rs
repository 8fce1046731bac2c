//! Methods: HEAD wherever GET works, and for any other method on a known
//! path a 405 that says, in `Allow`, what the path does take.

use actix_web::http::Method;
use actix_web::{guard, web, FromRequest, Handler, Responder, Route};

use crate::web::error::{method_not_allowed, WebError};

/// A GET route that answers HEAD too (the server sends the head only).
pub(crate) fn get<F, Args>(handler: F) -> (Method, Route)
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let route = web::route()
        .guard(guard::Any(guard::Get()).or(guard::Head()))
        .to(handler);
    (Method::GET, route)
}

pub(crate) fn post<F, Args>(handler: F) -> (Method, Route)
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    (Method::POST, web::post().to(handler))
}

/// The `Allow` value of a path that takes `methods`.
fn allow(methods: &[Method]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for method in methods {
        names.push(method.as_str());
        if *method == Method::GET {
            names.push("HEAD");
        }
    }
    names.join(", ")
}

/// Serves `routes` at `path`; other methods get 405 with `Allow`.
pub(crate) fn at<const N: usize>(
    cfg: &mut web::ServiceConfig,
    path: &str,
    routes: [(Method, Route); N],
) {
    let methods: Vec<Method> = routes.iter().map(|(m, _)| m.clone()).collect();
    let allowed = allow(&methods);
    let json = path.starts_with("/api/");
    let mut resource = web::resource(path);
    for (_, route) in routes {
        resource = resource.route(route);
    }
    cfg.service(resource.default_service(web::to(move || {
        let e = method_not_allowed(allowed.clone());
        async move { Err::<actix_web::HttpResponse, WebError>(if json { e.json() } else { e }) }
    })));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_brings_head() {
        assert_eq!(allow(&[Method::GET]), "GET, HEAD");
        assert_eq!(allow(&[Method::GET, Method::POST]), "GET, HEAD, POST");
        assert_eq!(allow(&[Method::POST]), "POST");
    }
}
