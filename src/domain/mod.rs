//! Values from outside, parsed into types that can only hold valid values.

mod ids;

pub use ids::{BookId, PageNumber};
