//! The one schema both backends share; migrations/sqlite and migrations/postgres
//! must produce tables that match it.

diesel::table! {
    books (id) {
        id -> Integer,
        title -> Text,
        author -> Text,
        isbn -> Nullable<Text>,
        description -> Text,
        published_year -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// Set by the database on every insert and update (a trigger).
        version -> BigInt,
        /// The title as the catalogue files it: no leading The/A/An,
        /// lowercase (a generated column; never written).
        sort_title -> Text,
    }
}

diesel::table! {
    ratings (id) {
        id -> Integer,
        book_id -> Integer,
        stars -> Integer,
        created_at -> Timestamp,
        /// A digest of the reader's visitor id; NULL for ratings written by
        /// other programs (a seed, plain SQL, an import).
        reader -> Nullable<Text>,
    }
}

diesel::joinable!(ratings -> books (book_id));

diesel::table! {
    admins (id) {
        id -> Integer,
        email -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// The change log the triggers write (see `src/changes/`).
    cache_changes (subject) {
        subject -> Text,
        seq -> BigInt,
        changed_at -> Timestamp,
        coalesced -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(books, ratings, admins, cache_changes);
