//! Rows (by `seq`) whose tags this feed bumped but that wait for an edge: a
//! retry purges them again without bumping again, which would throw their
//! pages out of folio's cache at every retry while an edge is down. A row
//! changed again has a new `seq`, so it is bumped anew.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::db::changes::PendingChange;

#[derive(Default)]
pub(super) struct AwaitingEdge {
    seqs: Mutex<HashSet<i64>>,
}

impl AwaitingEdge {
    /// The rows of `rows` whose tags still need a bump: all of them while
    /// recovering from a Redis outage (once per outage, nothing assumed
    /// about what Redis kept), else those this feed has not bumped yet.
    /// Forgets the rows that left the log when `rows` is all of it.
    pub(super) fn not_yet_bumped(
        &self,
        rows: &[PendingChange],
        recovering: bool,
        complete: bool,
    ) -> Vec<PendingChange> {
        let mut bumped = self.seqs.lock().expect("feed state");
        if complete {
            let present: HashSet<i64> = rows.iter().map(|r| r.seq).collect();
            bumped.retain(|seq| present.contains(seq));
        }
        rows.iter()
            .filter(|r| recovering || !bumped.contains(&r.seq))
            .cloned()
            .collect()
    }

    /// Bumped: the rows wait for the edges' purges.
    pub(super) fn mark(&self, seqs: &[i64]) {
        self.seqs
            .lock()
            .expect("feed state")
            .extend(seqs.iter().copied());
    }

    /// Deleted from the log: nothing waits for them any more.
    pub(super) fn forget(&self, seqs: &[i64]) {
        let mut bumped = self.seqs.lock().expect("feed state");
        for seq in seqs {
            bumped.remove(seq);
        }
    }
}
