CREATE TABLE admins (
    id            INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

-- The cache-invalidation outbox: a write adds its tags here in its own
-- transaction; once the tags are bumped in the cache the row is deleted.
-- Rows left behind (the cache was unreachable) are retried until they go.
CREATE TABLE cache_invalidations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    tags       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
