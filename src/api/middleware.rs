//! What wraps every request: a tracing span (method, matched route, and —
//! filled in by the extractors — the case id and the actor, never the
//! token), the request counter by route template and status, and the
//! 64 KiB body limit answered as the API's own 413 on every route.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::error::ApiError;
use super::json::BODY_LIMIT;
use super::state::AppState;
use crate::telemetry::RequestLabels;

/// The route label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

/// Runs the request inside its span and counts it when answered.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let method = request.method().as_str().to_owned();
    let method_label = method_label(request.method());
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        case_id = tracing::field::Empty,
        actor = tracing::field::Empty,
    );
    let started = std::time::Instant::now();
    let response = async move {
        if declared_length(&request).is_some_and(|length| length > BODY_LIMIT as u64) {
            return ApiError::PayloadTooLarge { limit: BODY_LIMIT }.into_response();
        }
        next.run(request).await
    }
    .instrument(span.clone())
    .await;
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::debug!(
            status,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "answered"
        );
    });
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method: method_label.to_owned(),
            status,
        })
        .inc();
    response
}

/// The request counter's `method` label: a standard method by its name,
/// any other as `other`. A client may send any token as a method, and each
/// distinct label would be a series of its own, kept for the life of the
/// process: unbounded growth that anyone can cause without a token.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
