//! What a stored copy may still be used for, from its age and whether a
//! write has invalidated it (the rule is stated in `policy.rs`, under
//! "Grace").

/// A stored copy's standing at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Before its stale point: a hit.
    Fresh,
    /// In the last part of its TTL: served while one request refreshes it
    /// (stale-while-revalidate).
    Expiring,
    /// Past its TTL, inside the grace period: only a stand-in while the
    /// database cannot answer (down, or its pool exhausted).
    Grace,
    /// A write changed what it shows: a stand-in only while the database is
    /// unreachable.
    Invalidated,
}

impl Standing {
    pub(crate) fn of(now_ms: u64, stale_at_ms: u64, expires_at_ms: u64, current: bool) -> Self {
        if !current {
            Standing::Invalidated
        } else if now_ms < stale_at_ms {
            Standing::Fresh
        } else if now_ms < expires_at_ms {
            Standing::Expiring
        } else {
            Standing::Grace
        }
    }

    /// Whether the copy may answer for a computation that failed with an
    /// error that allows an old copy (`database_down`: the database is
    /// unreachable, not merely busy).
    pub(crate) fn may_stand_in(self, database_down: bool) -> bool {
        match self {
            Standing::Fresh | Standing::Expiring | Standing::Grace => true,
            Standing::Invalidated => database_down,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_ages_from_fresh_to_grace_and_a_write_trumps_age() {
        assert_eq!(Standing::of(5, 10, 20, true), Standing::Fresh);
        assert_eq!(Standing::of(10, 10, 20, true), Standing::Expiring);
        assert_eq!(Standing::of(20, 10, 20, true), Standing::Grace);
        assert_eq!(Standing::of(5, 10, 20, false), Standing::Invalidated);
        assert!(Standing::Grace.may_stand_in(false));
        assert!(!Standing::Invalidated.may_stand_in(false));
        assert!(Standing::Invalidated.may_stand_in(true));
    }
}
