//! The cache's Lua scripts, each one atomic step in Redis; their text is in
//! the `.lua` files beside this one.

use redis::Script;

pub(super) struct Scripts {
    /// Reads an entry and compares the tag versions on its second line with the
    /// current ones, in one round trip. Returns nil, or {1|0, entry}.
    pub(super) read: Script,
    /// The current version of each tag; a tag never seen gets one now (the
    /// server's clock in µs), so no entry ever records a version that a lost
    /// key could silently match again. Tag keys live ARGV[1] ms from their last
    /// read (longer than any entry and its grace, so an entry recording a
    /// version never outlives its key), so tags of pages nobody asks for again
    /// do not pile up.
    pub(super) versions: Script,
    /// Sets each tag key to max(old + 1, server time in µs): strictly increasing,
    /// and never back to an old value after Redis loses its data; the key lives
    /// ARGV[1] ms. With a channel (ARGV[2]), announces the new versions there
    /// in the same atomic step, as `inv <nonce> <tag>=<version>…` (ARGV[3] the
    /// nonce, ARGV[4..] the tag names), so a bump can never happen without its
    /// message. Returns {receivers, version…}.
    pub(super) bump: Script,
    /// Deletes a lock only while it still holds the owner's token.
    pub(super) unlock: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self {
            read: Script::new(include_str!("read.lua")),
            versions: Script::new(include_str!("versions.lua")),
            bump: Script::new(include_str!("bump.lua")),
            unlock: Script::new(include_str!("unlock.lua")),
        }
    }
}
