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
    }
}

diesel::table! {
    ratings (id) {
        id -> Integer,
        book_id -> Integer,
        stars -> Integer,
        created_at -> Timestamp,
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
    cache_invalidations (id) {
        id -> Integer,
        tags -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(books, ratings, admins, cache_invalidations);
