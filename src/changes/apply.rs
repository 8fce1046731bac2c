//! One drain of the change log: read a batch, bump its tags, purge them at
//! the edges, delete exactly the rows applied; again while batches come full.

use super::{ChangeFeed, FeedError, MAX_SUBJECTS};
use crate::cache::{Change, Tag};
use crate::db::changes::{self, PendingChange};

impl ChangeFeed {
    pub(super) async fn drain(&self, recovering: bool) -> Result<usize, FeedError> {
        let inner = &self.inner;
        let _turn = inner.turn.lock().await;
        let mut total = 0;
        loop {
            let batch = match self.apply_batch(recovering).await {
                Ok(n) => n,
                Err(e) => {
                    inner.stats.failed();
                    if let FeedError::Edge(_) = e {
                        // folio's own tiers took the bump: the feed is not
                        // stuck, an edge is (`folio_edge_purge_failures_total`);
                        // the rows wait for it.
                        inner.stats.succeeded();
                    }
                    return Err(e);
                }
            };
            total += batch;
            // A full batch means more may wait.
            if batch <= MAX_SUBJECTS {
                break;
            }
        }
        inner.stats.succeeded();
        Ok(total)
    }

    /// One read of the log, applied; returns the rows read.
    async fn apply_batch(&self, recovering: bool) -> Result<usize, FeedError> {
        let inner = &self.inner;
        // One more than a batch applies, to know whether more wait.
        let limit = MAX_SUBJECTS + 1;
        let sql_limit = i64::try_from(limit).expect("a small constant");
        let rows = inner
            .db
            .run(move |c| changes::pending(c, sql_limit))
            .await?;
        let complete = rows.len() < limit;
        let to_bump = inner.bumped.not_yet_bumped(&rows, recovering, complete);
        if rows.is_empty() {
            return Ok(0);
        }
        let tags = tags_of(&rows);
        if !to_bump.is_empty() {
            let bump = tags_of(&to_bump);
            if recovering {
                inner.cache.invalidate_tags_recovering(&bump).await?;
            } else {
                inner.cache.invalidate_tags(&bump).await?;
            }
        }
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        // After the bump, so that an edge's next fetch gets the new page.
        if let Some(edge) = &inner.edge {
            inner.bumped.mark(&seqs);
            edge.purge(&tags).await?;
            edge.purge_again_later(tags);
        }
        let forgotten = seqs.clone();
        inner.db.run(move |c| changes::forget(c, &seqs)).await?;
        inner.bumped.forget(&forgotten);
        inner.stats.record_applied(&rows);
        Ok(rows.len())
    }
}

/// The tags of a batch of subjects, as the policy declares them; past
/// [`MAX_SUBJECTS`], `all`.
fn tags_of(rows: &[PendingChange]) -> Vec<Tag> {
    if rows.len() > MAX_SUBJECTS {
        return Change::Everything.touches();
    }
    let mut tags: Vec<Tag> = rows
        .iter()
        .flat_map(|r| Change::parse(&r.subject).touches())
        .collect();
    tags.sort_by_key(Tag::to_string);
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn row(subject: &str, seq: i64) -> PendingChange {
        PendingChange {
            subject: subject.into(),
            seq,
            changed_at: Utc::now().naive_utc(),
            coalesced: 1,
        }
    }

    #[test]
    fn a_batch_bumps_the_union_of_its_subjects_tags_once_each() {
        let tags = tags_of(&[row("book:1", 1), row("book:2", 2), row("ratings:1", 3)]);
        assert_eq!(
            tags,
            vec![
                Tag::Book(1),
                Tag::Book(2),
                Tag::Books,
                Tag::AnyRatings,
                Tag::Ratings(1)
            ]
        );
    }

    #[test]
    fn too_many_subjects_are_applied_as_everything() {
        let rows: Vec<_> = (0..=i64::try_from(MAX_SUBJECTS).unwrap())
            .map(|i| row(&format!("book:{i}"), i))
            .collect();
        assert_eq!(tags_of(&rows), vec![Tag::All]);
        assert_eq!(tags_of(&rows[..MAX_SUBJECTS]).len(), MAX_SUBJECTS + 1);
    }
}
