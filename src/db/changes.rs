//! The change log that the database's triggers write (`cache_changes`, see
//! `migrations/*/…_change_feed`): read it, forget what was applied, record a
//! change no table shows, and pause the per-row records for a bulk load.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::cache_changes;
use super::{DataError, DbConn};

/// One subject with changes not yet applied to the cache.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct PendingChange {
    pub(crate) subject: String,
    /// Changes with every change of the subject; never handed out twice.
    pub(crate) seq: i64,
    /// When the latest change of the subject was made (UTC, database clock).
    pub(crate) changed_at: NaiveDateTime,
    /// How many row changes were folded into this row.
    pub(crate) coalesced: i64,
}

/// Up to `limit` pending subjects, oldest first.
pub fn pending(conn: &mut DbConn, limit: i64) -> Result<Vec<PendingChange>, DataError> {
    Ok(cache_changes::table
        .order_by(cache_changes::seq.asc())
        .select((
            cache_changes::subject,
            cache_changes::seq,
            cache_changes::changed_at,
            cache_changes::coalesced,
        ))
        .limit(limit)
        .load(conn)?)
}

/// Deletes the rows that were applied, by `seq`: a subject changed again
/// since it was read has a new `seq`, so its row stays.
pub(crate) fn forget(conn: &mut DbConn, seqs: &[i64]) -> Result<usize, DataError> {
    let mut removed = 0;
    for chunk in seqs.chunks(500) {
        removed +=
            diesel::delete(cache_changes::table.filter(cache_changes::seq.eq_any(chunk.to_vec())))
                .execute(conn)?;
    }
    Ok(removed)
}

/// Records a change of `subject` (one no table shows, such as an admin's
/// "recompute the chart"), as the triggers do.
pub(crate) fn record(conn: &mut DbConn, subject: &str) -> Result<(), DataError> {
    match conn {
        DbConn::Postgres(c) => {
            diesel::sql_query("SELECT folio_record_change($1, 1)")
                .bind::<Text, _>(subject)
                .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            diesel::sql_query("INSERT INTO cache_change_inbox (subject) VALUES (?)")
                .bind::<Text, _>(subject)
                .execute(c)?;
        }
    }
    Ok(())
}

/// Runs `load` in one transaction with the per-row change records paused,
/// and records one `all` in their place: a bulk load costs the change log
/// one row. Other connections never see the pause (it is never committed).
///
/// `PostgreSQL`: a row in `cache_feed_paused`, visible to this transaction
/// only, makes the statement triggers return at once. `SQLite` has row
/// triggers only, and even one that returns at once costs each row (and
/// turns `DELETE FROM` into a row-by-row delete): the transaction drops the
/// tables' triggers, loads, gives the new rows their versions and puts the
/// triggers back, word for word.
pub(crate) fn paused<T>(
    conn: &mut DbConn,
    load: impl FnOnce(&mut DbConn) -> Result<T, DataError>,
) -> Result<T, DataError> {
    super::write_transaction(conn, |conn| {
        let loaded = match conn {
            DbConn::Postgres(c) => {
                c.batch_execute("INSERT INTO cache_feed_paused (since) VALUES (now())")?;
                let loaded = load(conn)?;
                conn.batch_execute("DELETE FROM cache_feed_paused")?;
                loaded
            }
            DbConn::Sqlite(c) => {
                let triggers: Vec<TriggerSql> = diesel::sql_query(
                    "SELECT name, sql FROM sqlite_master \
                     WHERE type = 'trigger' AND tbl_name IN ('books', 'ratings')",
                )
                .load(c)?;
                for t in &triggers {
                    conn.batch_execute(&format!("DROP TRIGGER \"{}\"", t.name))?;
                }
                let loaded = load(conn)?;
                // New rows came in at version 0; the counter moves past them.
                conn.batch_execute(
                    "UPDATE books SET version = \
                         (SELECT value FROM folio_counters WHERE name = 'change') + id \
                         WHERE version = 0; \
                     UPDATE folio_counters SET value = value + \
                         (SELECT coalesce(max(id), 0) FROM books) WHERE name = 'change';",
                )?;
                for t in &triggers {
                    conn.batch_execute(&t.sql)?;
                }
                // The search index's triggers were paused too.
                super::search::reindex_sqlite(conn)?;
                loaded
            }
        };
        // The change log's word for "everything" (`cache::policy::Change`).
        record(conn, "all")?;
        Ok(loaded)
    })
}

#[derive(QueryableByName)]
struct TriggerSql {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}
