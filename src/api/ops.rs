//! The routes around the cases: the dry-run classification, the policy
//! reload, health, metrics and the OpenAPI document.

use std::sync::Arc;

use axum::extract::{Extension, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiError;
use super::json::RawBody;
use super::query;
use super::schemas;
use super::state::AppState;
use crate::case::Case;
use crate::policy::LoadError;
use crate::telemetry::StageLabel;
use crate::workflow::{Actor, Role, Stage};

/// Classify a case without storing anything. A partner token supplies the
/// partner's capabilities; with a 21Vianet or administrator token the body
/// may carry a `partner` object.
#[utoipa::path(
    post, path = "/v1/classify", tag = "policy",
    request_body = schemas::ClassifyRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The outcome", body = schemas::Outcome),
        (status = 400, description = "`bad_json`, `invalid_field` or `unknown_field`", body = schemas::ErrorBody),
        (status = 401, description = "No valid token", body = schemas::ErrorBody),
    )
)]
pub async fn classify(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    body: RawBody,
) -> Result<Json<Value>, ApiError> {
    query::none_expected(raw.as_deref())?;
    let body = body.json()?;
    let (case, capabilities) = match caller.actor() {
        Actor::Partner { .. } => (
            Case::from_json(&body)?,
            caller.0.capabilities.clone().unwrap_or_default(),
        ),
        Actor::Vianet { .. } | Actor::Admin { .. } | Actor::System => {
            let input = Case::from_json_with_partner(&body)?;
            (input.case, input.partner.unwrap_or_default())
        }
    };
    let policy = state.policy.load_full();
    policy.check_declared_values(&case)?;
    let outcome = policy.classify(&case, &capabilities);
    state.metrics.count_decision(outcome.decision);
    Ok(Json(
        serde_json::to_value(&outcome).map_err(ApiError::internal)?,
    ))
}

/// Load the policy from disk and swap it in; on any error the running
/// policy stays and the diagnostics are returned.
#[utoipa::path(
    post, path = "/v1/policy/reload", tag = "policy",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new policy runs", body = schemas::PolicyReloaded),
        (status = 401, description = "No valid token", body = schemas::ErrorBody),
        (status = 403, description = "Only administrators reload the policy", body = schemas::ErrorBody),
        (status = 422, description = "`policy_invalid`: the running policy is kept", body = schemas::ErrorBody),
    )
)]
pub async fn reload_policy(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin], "reload the policy")?;
    query::none_expected(raw.as_deref())?;
    let settings = state.settings.clone();
    let metrics = state.metrics.clone();
    let loaded =
        tokio::task::spawn_blocking(move || crate::server::read_policy(&settings, &metrics))
            .await
            .map_err(ApiError::internal)?;
    match loaded {
        Ok(loaded) => {
            let hash = loaded.policy.hash().to_owned();
            let previous = state.policy.swap(Arc::new(loaded.policy));
            tracing::info!(policy = %hash, previous = %previous.hash(), "policy reloaded");
            let warnings: Vec<Value> = loaded.warnings.iter().map(|w| w.to_json()).collect();
            Ok(Json(json!({
                "policy": hash,
                "previous": previous.hash(),
                "warnings": warnings,
            })))
        }
        Err(error) => {
            match &error {
                LoadError::Diagnostics(diagnostics) => tracing::warn!(
                    errors = diagnostics.errors().count(),
                    "policy reload refused; the running policy is kept"
                ),
                LoadError::Io { path, source } => tracing::warn!(
                    path = %path.display(), %source,
                    "policy reload refused; the running policy is kept"
                ),
            }
            Err(ApiError::PolicyInvalid(error.to_json()))
        }
    }
}

/// 200 when the database answers, 503 when it does not.
#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "The database answers"),
        (status = 503, description = "The database does not answer", body = schemas::ErrorBody),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    if state.store.ping().await {
        Ok(StatusCode::OK)
    } else {
        Err(ApiError::Unavailable(
            "the database does not answer".to_owned(),
        ))
    }
}

/// Prometheus metrics (OpenMetrics text). Gauges describing the database
/// are counted at scrape time.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "The metrics", content_type = "application/openmetrics-text", body = String))
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.stats(Utc::now()).await {
        Ok(stats) => {
            let metrics = &state.metrics;
            for stage in Stage::ALL {
                let label = StageLabel {
                    stage: stage.as_str().to_owned(),
                };
                let count = |counts: &[(String, i64)]| {
                    counts
                        .iter()
                        .find(|(name, _)| name == stage.as_str())
                        .map_or(0, |(_, count)| *count)
                };
                metrics
                    .cases
                    .get_or_create(&label)
                    .set(count(&stats.cases_by_stage));
                metrics
                    .cases_overdue
                    .get_or_create(&label)
                    .set(count(&stats.overdue_by_stage));
            }
            metrics.outbox_pending.set(stats.outbox_pending);
            metrics.outbox_failed.set(stats.outbox_failed);
        }
        // The counters are still worth serving; the gauges keep their last values.
        Err(error) => tracing::warn!(%error, "cannot refresh the database gauges"),
    }
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// This document: every route and schema of the API, in OpenAPI 3.
#[utoipa::path(
    get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
pub async fn openapi(Extension(document): Extension<OpenApiDocument>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "application/json")],
        document.0.as_ref().clone(),
    )
}

/// The OpenAPI document, serialised once when the router is built.
#[derive(Debug, Clone)]
pub struct OpenApiDocument(pub Arc<String>);
