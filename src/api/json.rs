//! The request body: read whole (size-limited) and parsed into a
//! `serde_json::Value` by the handler, once it has checked the caller's
//! role and the query string, so that domain parsing can name fields
//! precisely. Syntax errors become 400 `bad_json` with line and column; an
//! oversized body becomes 413. axum's own rejections never reach the
//! client.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::Value;

use super::error::ApiError;

/// Largest accepted request body, on every route.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A request body read whole (within [`BODY_LIMIT`]) but not yet parsed:
/// the handler checks the caller's role and the query string first, so a
/// caller who may not use the route hears 403 (and a stray parameter 400
/// `bad_parameter`) whatever the body holds, then parses it with
/// [`RawBody::json`].
#[derive(Debug, Clone)]
pub struct RawBody(pub Bytes);

impl RawBody {
    /// The body as JSON, or 400 `bad_json` naming where it stops being JSON.
    pub fn json(&self) -> Result<Value, ApiError> {
        parse(&self.0)
    }
}

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(RawBody)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge { limit: BODY_LIMIT }
                } else {
                    ApiError::BadJson(format!("the request body could not be read: {rejection}"))
                }
            })
    }
}

/// Parses a body as JSON, naming where it stops being JSON. A UTF-8 byte
/// order mark at the start is skipped, as RFC 8259 lets a reader do (some
/// Windows tools write one).
pub fn parse(bytes: &[u8]) -> Result<Value, ApiError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadJson(
            "the request body is empty; a JSON object is expected".to_owned(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        ApiError::BadJson(format!(
            "the request body is not valid JSON: {} (line {}, column {})",
            strip_position(&error.to_string()),
            error.line(),
            error.column()
        ))
    })
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_json_names_the_line_and_column() {
        let error = parse(b"{\n  \"a\": ,\n}").unwrap_err();
        assert_eq!(error.code(), "bad_json");
        let message = error.to_string();
        assert!(message.contains("line 2, column 8"), "{message}");
    }

    #[test]
    fn an_empty_body_is_bad_json() {
        assert_eq!(parse(b"  ").unwrap_err().code(), "bad_json");
    }
}
