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
use crate::db::writes::{self, BookChanges, BookWriteError};
use crate::db::{changes, DataError, Database};
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

    pub fn feed(&self) -> &ChangeFeed {
        &self.feed
    }

    pub async fn create_book(&self, form: BookForm) -> Result<i32, BookWriteError> {
        let now = Utc::now().naive_utc();
        let book = NewBook {
            title: form.title,
            author: form.author,
            isbn: form.isbn.map(|i| i.as_str().to_owned()),
            description: form.description,
            published_year: form.published_year,
            created_at: now,
            updated_at: now,
        };
        let id = self
            .db
            .run_as(move |c| writes::insert_book(c, &book))
            .await?;
        self.feed.apply_after_write().await;
        Ok(id)
    }

    pub async fn update_book(&self, id: BookId, form: BookForm) -> Result<(), BookWriteError> {
        let changes = BookChanges {
            title: form.title,
            author: form.author,
            isbn: form.isbn.map(|i| i.as_str().to_owned()),
            description: form.description,
            published_year: form.published_year,
            updated_at: Utc::now().naive_utc(),
        };
        self.db
            .run_as(move |c| writes::update_book(c, id.get(), &changes))
            .await?;
        self.feed.apply_after_write().await;
        Ok(())
    }

    pub async fn delete_book(&self, id: BookId) -> Result<(), BookWriteError> {
        self.db
            .run_as(move |c| writes::delete_book(c, id.get()))
            .await?;
        self.feed.apply_after_write().await;
        Ok(())
    }

    /// A reader's rating (`reader`: [`VisitorTokens::reader_of`]) replaces
    /// their earlier one; `None` adds a rating of no one's.
    ///
    /// [`VisitorTokens::reader_of`]: crate::auth::visitor::VisitorTokens::reader_of
    pub async fn rate(
        &self,
        id: BookId,
        stars: Stars,
        reader: Option<String>,
    ) -> Result<(), BookWriteError> {
        let rating = NewRating {
            book_id: id.get(),
            stars: stars.get(),
            created_at: Utc::now().naive_utc(),
        };
        self.db
            .run_as(move |c| writes::insert_rating(c, &rating, reader.as_deref()))
            .await?;
        self.feed.apply_after_write().await;
        Ok(())
    }

    /// The admin's "recompute the chart now": a change no table shows,
    /// recorded in the change log like any other.
    pub async fn recompute_chart(&self) -> Result<(), DataError> {
        let subject = crate::cache::Change::ChartRecompute.subject();
        self.db.run(move |c| changes::record(c, &subject)).await?;
        self.feed.apply_after_write().await;
        Ok(())
    }
}
