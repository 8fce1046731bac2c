//! Values from outside, parsed into types that can only hold valid values.

mod account;
mod book_form;
mod ids;
mod isbn;

pub use account::{Email, NewPassword};
pub use book_form::{BookForm, BookFormInput, FieldErrors};
pub use ids::{BookId, PageNumber, Stars};
pub use isbn::Isbn;
