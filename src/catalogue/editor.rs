//! The catalogue's write side. A write is one transaction; the database's
//! triggers record what it changed in the change log, as they do for every
//! other writer (psql, the diesel CLI, a script). After the commit the
//! editor applies the change log at once ([`ChangeFeed::apply_pending`]),
//! so the writer's next request already sees the edit, on every instance.
//! Should the cache be unreachable, the changes wait in the log and the
//! feed applies them later; nothing is lost.

use chrono::Utc;

use crate::changes::ChangeFeed;
use crate::db::models::{NewBook, NewRating};
use crate::db::writes::{
    self, BookChanges, CreateBookError, DeleteBookError, RateBookError, UpdateBookError,
};
use crate::db::{changes, DataError, Database, DbConn};
use crate::domain::{BookForm, BookId, Stars};

#[derive(Clone)]
pub struct Editor {
    db: Database,
    feed: ChangeFeed,
}

impl Editor {
    pub fn new(db: Database, feed: ChangeFeed) -> Self {
        Self { db, feed }
    }

    pub(crate) fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    /// Runs one write, then applies the change log it left.
    async fn write<T, E, F>(&self, write: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DataError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let written = self.db.run_as(write).await?;
        self.feed.apply_after_write().await;
        Ok(written)
    }

    pub(crate) async fn create_book(&self, form: BookForm) -> Result<i32, CreateBookError> {
        let book = NewBook::from_form(form, Utc::now().naive_utc());
        self.write(move |c| writes::insert_book(c, &book)).await
    }

    pub async fn update_book(&self, id: BookId, form: BookForm) -> Result<(), UpdateBookError> {
        let changes = BookChanges::from(NewBook::from_form(form, Utc::now().naive_utc()));
        self.write(move |c| writes::update_book(c, id.get(), &changes))
            .await
    }

    pub(crate) async fn delete_book(&self, id: BookId) -> Result<(), DeleteBookError> {
        self.write(move |c| writes::delete_book(c, id.get())).await
    }

    /// A reader's rating (`reader`: [`VisitorTokens::reader_of`]) replaces
    /// their earlier one; `None` adds a rating of no one's.
    ///
    /// [`VisitorTokens::reader_of`]: crate::auth::visitor::VisitorTokens::reader_of
    pub(crate) async fn rate(
        &self,
        id: BookId,
        stars: Stars,
        reader: Option<String>,
    ) -> Result<(), RateBookError> {
        let rating = NewRating {
            book_id: id.get(),
            stars: stars.get(),
            created_at: Utc::now().naive_utc(),
        };
        self.write(move |c| writes::insert_rating(c, &rating, reader.as_deref()))
            .await
    }

    /// The admin's "recompute the chart now": a change no table shows,
    /// recorded in the change log like any other.
    pub(crate) async fn recompute_chart(&self) -> Result<(), DataError> {
        let subject = crate::cache::Change::ChartRecompute.subject();
        self.write(move |c| changes::record(c, &subject)).await
    }
}
