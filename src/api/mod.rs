//! The HTTP face of escalator (axum): routes, the auth extractor, and the
//! mapping of every failure to a status code and an error body.

pub mod error;
pub mod json;
mod state;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;

pub use error::ApiError;
pub use state::AppState;

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// 200 when the database answers, 503 when it does not.
async fn healthz(State(state): State<AppState>) -> StatusCode {
    if state.store.ping().await {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}
