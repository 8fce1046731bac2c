//! Input, parsed before a handler runs: forms and query strings read
//! strictly, the parameters pages share, a book's id in a path, sessions and
//! CSRF, an admin's form and upload, where a request came from.

mod admin_form;
mod body;
mod book_id;
mod client;
mod form;
mod multipart;
mod params;
mod session;
mod upload;

pub(crate) use admin_form::{AdminForm, NoFields};
pub(crate) use body::read_within;
pub(crate) use book_id::BookIdPath;
pub(crate) use client::client_ip;
pub(crate) use form::{query, Form, Query, FORM_LIMIT};
pub(crate) use params::{page_of, param, sort_of};
pub(crate) use session::{
    reader_flash, reader_flash_cookie, reader_flash_removal, removal_cookie, session_cookie,
    AdminSession, MaybeSession, Visitor,
};
pub(crate) use upload::{reads_its_own_body, AdminUpload, UPLOAD_LIMIT, UPLOAD_PATH};
