//! The admin's catalogue import (an upload of a CSV file) and export (a
//! download of the same format). Admins only, CSRF-checked, never cached.
//!
//! The upload is the one body larger than `input::FORM_LIMIT`: the general
//! body bound (`security::bounded_body`) leaves this route alone, and the
//! handler reads the body itself — only after the admin's session was
//! checked, within [`UPLOAD_LIMIT`] bytes and `FOLIO_BODY_TIMEOUT_MS`.

use std::sync::Arc;

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt;

use super::admin::chrome;
use super::error::{bad_request, payload_too_large, request_timeout, WebError};
use super::session::{verify_csrf, AdminSession};
use super::views::AdminChrome;
use super::{multipart, private_html, AppState};
use crate::catalogue::import::{export_csv, import_csv, ImportError, ImportReport};

pub const UPLOAD_PATH: &str = "/admin/import";
/// The largest CSV file an admin may upload: about 100,000 Goodreads rows.
/// (`folio import FILE` has no such bound but the row count's.)
pub const UPLOAD_LIMIT: usize = 32 * 1024 * 1024;
/// The most books of each kind the report page names (the counts are whole).
const LISTED: usize = 500;

/// Whether `security::bounded_body` must leave this request's body to the
/// handler.
pub fn reads_its_own_body(method: &Method, path: &str) -> bool {
    method == Method::POST && path == UPLOAD_PATH
}

#[derive(Template)]
#[template(path = "admin/import.html")]
pub struct ImportPage<'a> {
    pub chrome: AdminChrome,
    pub error: Option<&'a str>,
    pub report: Option<&'a ImportReport>,
    pub upload_limit_mib: usize,
}

impl ImportPage<'_> {
    pub fn listed<'r>(&self, rows: &'r [(u64, String)]) -> &'r [(u64, String)] {
        &rows[..rows.len().min(LISTED)]
    }

    pub fn more(&self, rows: &[(u64, String)]) -> usize {
        rows.len().saturating_sub(LISTED)
    }
}

async fn page(
    state: &AppState,
    session: &mut AdminSession,
    status: StatusCode,
    error: Option<&str>,
    report: Option<&ImportReport>,
) -> Result<HttpResponse, WebError> {
    let page = ImportPage {
        chrome: chrome(state, session).await,
        error,
        report,
        upload_limit_mib: UPLOAD_LIMIT / (1024 * 1024),
    };
    Ok(private_html(HttpResponse::build(status), page.render()?))
}

pub async fn form(
    state: web::Data<AppState>,
    mut session: AdminSession,
) -> Result<HttpResponse, WebError> {
    page(&state, &mut session, StatusCode::OK, None, None).await
}

/// Reads the body within the upload's bounds.
async fn read_body(state: &AppState, mut payload: web::Payload) -> Result<Vec<u8>, WebError> {
    let read = async {
        let mut body = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| bad_request(format!("the upload could not be read: {e}")))?;
            if body.len() + chunk.len() > UPLOAD_LIMIT {
                return Err(payload_too_large(UPLOAD_LIMIT));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    tokio::time::timeout(state.settings.http.body_timeout, read)
        .await
        .map_err(|_| request_timeout())?
}

pub async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut session: AdminSession,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(multipart::boundary)
        .ok_or_else(|| bad_request("the upload must be a multipart/form-data form"))?;
    let body = bytes::Bytes::from(read_body(&state, payload).await?);
    let parts = multipart::parse(&body, &boundary).map_err(bad_request)?;
    let field = |name: &str| parts.iter().find(|p| p.name == name);
    let token = field("csrf_token").and_then(|p| std::str::from_utf8(p.data).ok());
    verify_csrf(Some(&session.data), token)?;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let file = match field("file") {
        // The file's bytes, not a copy of them.
        Some(part) if !part.data.is_empty() => body.slice_ref(part.data),
        _ => {
            let message = "Choose a CSV file to import.";
            return page(&state, &mut session, unprocessable, Some(message), None).await;
        }
    };
    drop(parts);
    drop(body);
    let imported = import_csv(
        state.catalogue.db(),
        Some(state.editor.feed()),
        Box::new(std::io::Cursor::new(file)),
        Arc::new(|_, _| {}),
    )
    .await;
    match imported {
        Ok(report) => {
            tracing::info!(
                admin = ?session.admin().email,
                added = report.added.len(),
                updated = report.updated.len(),
                unchanged = report.unchanged,
                skipped = report.skipped.len(),
                "imported a catalogue file"
            );
            page(&state, &mut session, StatusCode::OK, None, Some(&report)).await
        }
        Err(ImportError::Data(e)) => Err(e.into()),
        Err(e) => {
            let message = e.to_string();
            page(&state, &mut session, unprocessable, Some(&message), None).await
        }
    }
}

/// The whole catalogue as folio's CSV, a download for the admin only.
pub async fn download(
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, WebError> {
    let csv = export_csv(state.catalogue.db()).await?;
    tracing::info!(admin = ?session.admin().email, bytes = csv.len(), "exported the catalogue");
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"folio-books.csv\"",
        ))
        .body(csv))
}
