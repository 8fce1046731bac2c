//! The admin's catalogue import (an upload of a CSV file) and export (a
//! download of the same format). Admins only, CSRF-checked, never cached;
//! the upload's body is read by `extract::AdminUpload`.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;

use super::chrome;
use super::views::ImportPage;
use crate::catalogue::import::{export_csv, import_csv, ImportError, ImportReport};
use crate::web::error::WebError;
use crate::web::extract::{AdminSession, AdminUpload, UPLOAD_LIMIT};
use crate::web::respond::private_html;
use crate::web::AppState;

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

pub(crate) async fn form(
    state: web::Data<AppState>,
    mut session: AdminSession,
) -> Result<HttpResponse, WebError> {
    page(&state, &mut session, StatusCode::OK, None, None).await
}

pub(crate) async fn upload(
    state: web::Data<AppState>,
    upload: AdminUpload,
) -> Result<HttpResponse, WebError> {
    let AdminUpload { mut session, file } = upload;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let Some(file) = file else {
        let message = "Choose a CSV file to import.";
        return page(&state, &mut session, unprocessable, Some(message), None).await;
    };
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
pub(crate) async fn download(
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
