//! Admin accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::admins;
use super::{DataError, DbConn};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = admins)]
pub(crate) struct AdminRow {
    pub(crate) id: i32,
    pub(crate) email: String,
    pub(crate) password_hash: String,
}

#[derive(Insertable)]
#[diesel(table_name = admins)]
struct NewAdmin<'a> {
    email: &'a str,
    password_hash: &'a str,
    created_at: NaiveDateTime,
}

pub(crate) fn find_by_email(conn: &mut DbConn, email: &str) -> Result<Option<AdminRow>, DataError> {
    Ok(admins::table
        .filter(admins::email.eq(email))
        .select(AdminRow::as_select())
        .first(conn)
        .optional()?)
}

pub(crate) fn find_by_id(conn: &mut DbConn, id: i32) -> Result<Option<AdminRow>, DataError> {
    Ok(admins::table
        .find(id)
        .select(AdminRow::as_select())
        .first(conn)
        .optional()?)
}

/// Adds an admin, or sets the password of an existing one when `replace`.
/// Returns whether the account was new.
pub(crate) fn upsert(
    conn: &mut DbConn,
    email: &str,
    password_hash: &str,
    now: NaiveDateTime,
    replace: bool,
) -> Result<bool, DataError> {
    super::write_transaction(conn, |conn| {
        if find_by_email(conn, email)?.is_some() {
            if !replace {
                return Err(DataError::Invalid(format!(
                    "an admin with the email {email} exists already; pass --reset-password to give it a new password"
                )));
            }
            diesel::update(admins::table.filter(admins::email.eq(email)))
                .set(admins::password_hash.eq(password_hash))
                .execute(conn)?;
            return Ok(false);
        }
        diesel::insert_into(admins::table)
            .values(&NewAdmin {
                email,
                password_hash,
                created_at: now,
            })
            .execute(conn)?;
        Ok(true)
    })
}
