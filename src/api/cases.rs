//! The case routes: submit, read, list, move, history. Each parses its input
//! at the edge (the case, the transition body, the query), scopes every
//! store call by the caller's token — never by anything in the request —
//! and answers with the contract's JSON.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::header::LOCATION;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
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
use crate::store::{CaseQuery, StoreError, MAX_PAGE};
use crate::workflow::{MoveRequest, Role, Stage, Target};

/// Cases per page when `limit` is not given.
const DEFAULT_PAGE: u32 = 50;

/// The `{id}` of a case route. A malformed id is answered like a missing
/// case (404) without asking the database.
#[derive(Debug, Clone)]
pub struct CaseId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CaseId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("no such case".to_owned()))?;
        if !crate::store::is_case_id(&id) {
            return Err(ApiError::NotFound(format!("no case `{}`", shorten(&id))));
        }
        tracing::Span::current().record("case_id", id.as_str());
        Ok(CaseId(id))
    }
}

/// Echoes at most 40 characters of a client-supplied value in a message.
fn shorten(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// Submit a case: it is validated, classified with the running policy and
/// stored with its first event, emails and deadline.
#[utoipa::path(
    post, path = "/v1/cases", tag = "cases",
    request_body = schemas::CaseSubmission,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored; the case", body = schemas::CaseBody),
        (status = 200, description = "The same case was submitted before; the stored case", body = schemas::CaseBody),
        (status = 400, description = "`bad_json`, `invalid_field` or `unknown_field`; nothing stored", body = schemas::ErrorBody),
        (status = 401, description = "No valid token", body = schemas::ErrorBody),
        (status = 403, description = "Only partner tokens submit cases", body = schemas::ErrorBody),
        (status = 409, description = "`conflict`: the same `external_id` with a different case", body = schemas::ErrorBody),
    )
)]
pub async fn submit_case(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    body: RawBody,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Partner], "submit cases")?;
    query::none_expected(raw.as_deref())?;
    let body = body.json()?;
    let partner_id = caller.actor().id().to_owned();
    let case = Case::from_json(&body)?;
    let policy = state.policy.load_full();
    policy.check_declared_values(&case)?;
    let capabilities = caller.0.capabilities.clone().unwrap_or_default();
    let outcome = policy.classify(&case, &capabilities);
    let now = Utc::now();
    let intake = state
        .store
        .intake(&partner_id, &case, &outcome, &state.settings, now)
        .await?;
    let status = if intake.created {
        state.metrics.count_decision(outcome.decision);
        state.mail_nudge.nudge();
        state.deadline_nudge.nudge();
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    tracing::Span::current().record("case_id", intake.case.id.as_str());
    let mut response = (status, Json(intake.case.to_json(now))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/cases/{}", intake.case.id)) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// Read one case.
#[utoipa::path(
    get, path = "/v1/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "The case id (`c_…`)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The case", body = schemas::CaseBody),
        (status = 401, description = "No valid token", body = schemas::ErrorBody),
        (status = 404, description = "No such case, another partner's case, or a malformed id", body = schemas::ErrorBody),
    )
)]
pub async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    CaseId(id): CaseId,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    query::none_expected(raw.as_deref())?;
    let record = state.store.case(&id, &caller.scope()).await?;
    Ok(Json(record.to_json(Utc::now())))
}

/// List the caller's cases, newest first, with cursor paging.
#[utoipa::path(
    get, path = "/v1/cases", tag = "cases",
    params(
        ("stage" = Option<String>, Query, description = "Only cases in this stage"),
        ("limit" = Option<u32>, Query, description = "1 to 200 (larger values are capped); default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page", body = schemas::CaseList),
        (status = 400, description = "`bad_parameter`", body = schemas::ErrorBody),
        (status = 401, description = "No valid token", body = schemas::ErrorBody),
    )
)]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mut query = CaseQuery::new(caller.scope());
    query.limit = DEFAULT_PAGE;
    let mut seen = Vec::new();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let bad = |message: String| ApiError::BadParameter {
            parameter: name.to_string(),
            message,
        };
        if seen.contains(&name) {
            return Err(bad("is given more than once".to_owned()));
        }
        seen.push(name.clone());
        match name.as_ref() {
            // An empty value counts as absent, but only for a known
            // parameter: `?stge=` is still a typo.
            "stage" | "limit" | "cursor" if value.is_empty() => {}
            "stage" => query.stage = Some(value.parse::<Stage>().map_err(bad)?),
            "limit" => {
                if !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(format!(
                        "`{}` is not a whole number from 1 to {MAX_PAGE}",
                        shorten(&value)
                    )));
                }
                // Digits only: a number too large for `u32` is capped like any other.
                let limit: u32 = value.parse().unwrap_or(u32::MAX);
                if limit == 0 {
                    return Err(bad(format!("must be from 1 to {MAX_PAGE}, not 0")));
                }
                query.limit = limit.min(MAX_PAGE);
            }
            "cursor" => query.cursor = Some(value.into_owned()),
            other => {
                return Err(ApiError::BadParameter {
                    parameter: other.to_owned(),
                    message: "unknown parameter; known: `stage`, `limit`, `cursor`".to_owned(),
                })
            }
        }
    }
    let page = state.store.list_cases(&query).await?;
    let now = Utc::now();
    let items: Vec<Value> = page.items.iter().map(|case| case.to_json(now)).collect();
    Ok(Json(
        json!({"items": items, "next_cursor": page.next_cursor}),
    ))
}

/// A transition body, parsed strictly.
struct TransitionBody {
    to: Target,
    version: i64,
    reason: Option<String>,
    vianet_case_id: Option<String>,
}

fn parse_transition(body: &Value) -> Result<TransitionBody, ApiError> {
    let invalid = |field: &str, message: String| ApiError::InvalidField {
        field: field.to_owned(),
        message,
    };
    let Value::Object(map) = body else {
        return Err(invalid(
            crate::case::WHOLE_BODY,
            "must be an object `{\"to\", \"version\", \"reason\"?, \"vianet_case_id\"?}`"
                .to_owned(),
        ));
    };
    const KNOWN: [&str; 4] = ["to", "version", "reason", "vianet_case_id"];
    if let Some(unknown) = map.keys().find(|key| !KNOWN.contains(&key.as_str())) {
        return Err(ApiError::UnknownField {
            field: unknown.clone(),
            closest: crate::suggest::suggest(unknown, KNOWN),
        });
    }
    let to = match map.get("to") {
        Some(Value::String(text)) => text
            .parse::<Target>()
            .map_err(|message| invalid("to", message))?,
        Some(other) => {
            return Err(invalid(
                "to",
                format!("must be a string, found {}", kind(other)),
            ))
        }
        None => {
            return Err(invalid(
                "to",
                "is required: the stage to move to, or `reopened`".to_owned(),
            ))
        }
    };
    let version = match map.get("version") {
        Some(Value::Number(number)) => match number.as_i64() {
            Some(version) if version >= 1 => version,
            _ => {
                return Err(invalid(
                    "version",
                    format!(
                        "must be a whole number from 1 to {}, not {number}",
                        i64::MAX
                    ),
                ))
            }
        },
        Some(other) => {
            return Err(invalid(
                "version",
                format!("must be a number, found {}", kind(other)),
            ))
        }
        None => {
            return Err(invalid(
                "version",
                "is required: the case's current version".to_owned(),
            ))
        }
    };
    let text = |field: &str| match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(invalid(
            field,
            format!("must be a string, found {}", kind(other)),
        )),
    };
    Ok(TransitionBody {
        to,
        version,
        reason: text("reason")?,
        vianet_case_id: text("vianet_case_id")?,
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Move a case to another stage (or reopen it: it is re-classified with the
/// running policy and lands in the stage of its new decision).
#[utoipa::path(
    post, path = "/v1/cases/{id}/transitions", tag = "cases",
    params(("id" = String, Path, description = "The case id (`c_…`)")),
    request_body = schemas::TransitionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Moved; the case", body = schemas::CaseBody),
        (status = 400, description = "`bad_json`, `invalid_field` (e.g. a missing reason) or `unknown_field`", body = schemas::ErrorBody),
        (status = 401, description = "No valid token", body = schemas::ErrorBody),
        (status = 403, description = "Administrators make no moves", body = schemas::ErrorBody),
        (status = 404, description = "No such case (or not the caller's)", body = schemas::ErrorBody),
        (status = 409, description = "`version_conflict` or `move_refused`", body = schemas::ErrorBody),
    )
)]
pub async fn move_case(
    State(state): State<AppState>,
    caller: Caller,
    CaseId(id): CaseId,
    RawQuery(raw): RawQuery,
    body: RawBody,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Partner, Role::Vianet], "move cases")?;
    query::none_expected(raw.as_deref())?;
    let body = parse_transition(&body.json()?)?;
    let scope = caller.scope();
    let mut request = MoveRequest::to(body.to, body.version);
    request.reason = body.reason;
    request.vianet_case_id = body.vianet_case_id;
    if body.to == Target::Reopened {
        // Only a resolved case can be reopened; otherwise the workflow
        // refuses the move and naming the allowed ones is all that is needed.
        let current = state.store.case(&id, &scope).await?;
        if current.stage == Stage::Resolved && current.version == body.version {
            // The policy sees the case as reopened: `reopened` counts this
            // reopen too, as the stored case will once the move is applied.
            let case = current
                .parsed_case()
                .map_err(|error| {
                    ApiError::internal(StoreError::Corrupt {
                        what: "case",
                        case_id: current.id.clone(),
                        message: error.to_string(),
                    })
                })?
                .with_reopened(current.reopened.saturating_add(1));
            let partner = state.store.partner(&current.partner_id).await?;
            let outcome = state.policy.load().classify(&case, &partner.capabilities);
            request.reclassified = Some(outcome);
        }
    }
    let now = Utc::now();
    let record = state
        .store
        .change_stage(&id, &scope, &request, caller.actor(), &state.settings, now)
        .await
        .map_err(|error| match error {
            StoreError::VersionConflict { current } => ApiError::VersionConflict {
                given: Some(body.version),
                current,
            },
            other => ApiError::from(other),
        })?;
    // Counted once the reopen is stored: a refused one decided nothing.
    if let Some(outcome) = &request.reclassified {
        state.metrics.count_decision(outcome.decision);
    }
    state.mail_nudge.nudge();
    state.deadline_nudge.nudge();
    Ok(Json(record.to_json(now)))
}

/// A case's history, oldest first.
#[utoipa::path(
    get, path = "/v1/cases/{id}/events", tag = "cases",
    params(("id" = String, Path, description = "The case id (`c_…`)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The events", body = schemas::EventList),
        (status = 401, description = "No valid token", body = schemas::ErrorBody),
        (status = 404, description = "No such case (or not the caller's)", body = schemas::ErrorBody),
    )
)]
pub async fn case_events(
    State(state): State<AppState>,
    caller: Caller,
    CaseId(id): CaseId,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    query::none_expected(raw.as_deref())?;
    let events = state.store.events(&id, &caller.scope()).await?;
    Ok(Json(json!({ "items": events })))
}
