//! The catalogue's write side. Every write follows one path:
//!
//! 1. one transaction changes the rows *and* records the cache tags the
//!    write touched (`cache_invalidations`, the outbox);
//! 2. after the commit the tags are bumped in the cache; then the outbox
//!    row is removed;
//! 3. should the cache be unreachable, the row stays and
//!    [`Editor::drain_outbox`] bumps it later (every instance runs it), so
//!    no invalidation is lost, even across a crash.
//!
//! Which tags a write touches is declared in `cache::policy::Write`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::cache::{Cache, Tag, Write};
use crate::db::models::{NewBook, NewRating};
use crate::db::writes::{self, BookChanges, BookWriteError};
use crate::db::{DataError, Database};
use crate::domain::{BookForm, BookId, Stars};

/// How often leftover outbox rows are retried.
pub const OUTBOX_RETRY: Duration = Duration::from_secs(2);

fn tags_text(tags: &[Tag]) -> String {
    tags.iter()
        .map(Tag::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Clone)]
pub struct Editor {
    db: Database,
    cache: Arc<Cache>,
}

impl Editor {
    pub fn new(db: Database, cache: Arc<Cache>) -> Self {
        Self { db, cache }
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
        let (id, outbox) = self
            .db
            .run_as(move |c| {
                writes::insert_book(c, &book, |id| tags_text(&Write::BookCreated(id).touches()))
            })
            .await?;
        self.publish(outbox, Write::BookCreated(id)).await;
        Ok(id)
    }

    pub async fn update_book(&self, id: BookId, form: BookForm) -> Result<(), BookWriteError> {
        let write = Write::BookUpdated(id.get());
        let changes = BookChanges {
            title: form.title,
            author: form.author,
            isbn: form.isbn.map(|i| i.as_str().to_owned()),
            description: form.description,
            published_year: form.published_year,
            updated_at: Utc::now().naive_utc(),
        };
        let outbox = self
            .db
            .run_as(move |c| {
                writes::update_book(c, id.get(), &changes, &tags_text(&write.touches()))
            })
            .await?;
        self.publish(outbox, write).await;
        Ok(())
    }

    pub async fn delete_book(&self, id: BookId) -> Result<(), BookWriteError> {
        let write = Write::BookDeleted(id.get());
        let now = Utc::now().naive_utc();
        let outbox = self
            .db
            .run_as(move |c| writes::delete_book(c, id.get(), &tags_text(&write.touches()), now))
            .await?;
        self.publish(outbox, write).await;
        Ok(())
    }

    pub async fn rate(&self, id: BookId, stars: Stars) -> Result<(), BookWriteError> {
        let write = Write::RatingAdded(id.get());
        let rating = NewRating {
            book_id: id.get(),
            stars: stars.get(),
            created_at: Utc::now().naive_utc(),
        };
        let outbox = self
            .db
            .run_as(move |c| writes::insert_rating(c, &rating, &tags_text(&write.touches())))
            .await?;
        self.publish(outbox, write).await;
        Ok(())
    }

    /// The admin's "recompute the chart now".
    pub async fn recompute_chart(&self) -> Result<(), DataError> {
        let write = Write::ChartRecompute;
        let now = Utc::now().naive_utc();
        let outbox = self
            .db
            .run(move |c| writes::record_invalidation(c, &tags_text(&write.touches()), now))
            .await?;
        self.publish(outbox, write).await;
        Ok(())
    }

    /// Bumps the write's tags, then forgets the outbox row. On failure the
    /// row stays for [`Editor::drain_outbox`].
    async fn publish(&self, outbox_id: i32, write: Write) {
        match self.cache.invalidate(write).await {
            Ok(()) => {
                let _ = self
                    .db
                    .run(move |c| writes::remove_invalidations(c, &[outbox_id]))
                    .await
                    .map_err(|e| tracing::warn!(error = %e, "could not remove a done outbox row; it will be bumped again, harmlessly"));
            }
            Err(e) => tracing::error!(
                ?write, error = %e,
                "cache invalidation failed; it stays in the outbox and is retried"
            ),
        }
    }

    /// Bumps every tag left in the outbox; returns how many rows were done.
    pub async fn drain_outbox(&self) -> Result<usize, DataError> {
        self.drain(false).await
    }

    /// The same while the Redis breaker is recovering: runs before Redis is
    /// used again, so no copy from before the outage is served as fresh.
    pub async fn drain_outbox_recovering(&self) -> Result<usize, DataError> {
        self.drain(true).await
    }

    async fn drain(&self, recovering: bool) -> Result<usize, DataError> {
        let pending = self
            .db
            .run(|c| writes::pending_invalidations(c, 500))
            .await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let mut tags: Vec<Tag> = pending
            .iter()
            .flat_map(|(_, text)| text.split(' ').filter_map(Tag::parse))
            .collect();
        tags.sort_by_key(Tag::to_string);
        tags.dedup();
        let bumped = if recovering {
            self.cache.invalidate_tags_recovering(&tags).await
        } else {
            self.cache.invalidate_tags(&tags).await
        };
        if let Err(e) = bumped {
            tracing::debug!(error = %e, "outbox: the cache is still unreachable");
            return Ok(0);
        }
        let ids: Vec<i32> = pending.iter().map(|(id, _)| *id).collect();
        let done = ids.len();
        self.db
            .run(move |c| writes::remove_invalidations(c, &ids))
            .await?;
        tracing::info!(
            rows = done,
            "outbox: delivered invalidations left by earlier failures"
        );
        Ok(done)
    }

    /// Retries the outbox forever; spawn it once per process.
    pub async fn run_outbox(self) {
        loop {
            if let Err(e) = self.drain_outbox().await {
                tracing::debug!(error = %e, "outbox: database unavailable");
            }
            tokio::time::sleep(OUTBOX_RETRY).await;
        }
    }
}
