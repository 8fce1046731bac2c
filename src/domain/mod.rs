//! Values from outside, parsed into types that can only hold valid values.

mod account;
pub(crate) mod book_csv;
mod book_form;
mod catalogue_sort;
mod ids;
mod isbn;
mod public_url;
mod return_path;
mod search_query;

pub use account::{Email, NewPassword};
pub use book_form::{BookForm, BookFormInput, FieldErrors};
pub(crate) use catalogue_sort::CatalogueSort;
pub use ids::BookId;
pub(crate) use ids::{PageNumber, Stars};
pub use isbn::Isbn;
pub(crate) use public_url::PublicUrl;
pub(crate) use return_path::ReturnPath;
pub(crate) use search_query::{SearchQuery, MAX_QUERY_CHARS};
