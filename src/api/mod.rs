//! The HTTP face of escalator (axum): routes, the auth extractor, and the
//! mapping of every failure to a status code and an error body.

pub mod error;
pub mod json;

pub use error::ApiError;
