//! The API's one error type: every failure becomes a status code and
//! `{"error": {"code", "message", "field"?}}`. Causes of internal errors are
//! logged with their whole chain and never sent to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::case::{CaseError, CaseErrorKind};
use crate::store::StoreError;

/// Why a request failed, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON (400 `bad_json`).
    #[error("{0}")]
    BadJson(String),
    /// A field is missing, mistyped or out of range (400 `invalid_field`).
    #[error("`{field}`: {message}")]
    InvalidField {
        /// Dotted path of the field.
        field: String,
        /// What was wrong.
        message: String,
    },
    /// A field the contract does not know (400 `unknown_field`).
    #[error("unknown field `{field}`{}", crate::suggest::did_you_mean(closest.as_deref()))]
    UnknownField {
        /// Dotted path of the field.
        field: String,
        /// The known field its name is closest to, when one is close.
        closest: Option<String>,
    },
    /// A bad query parameter (400 `bad_parameter`).
    #[error("query parameter `{parameter}`: {message}")]
    BadParameter {
        /// The parameter's name.
        parameter: String,
        /// What was wrong.
        message: String,
    },
    /// No token, or not a valid one (401).
    #[error("a valid `Authorization: Bearer TOKEN` header is required")]
    Unauthorized,
    /// The role may not use this route (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such case, another partner's case, or a malformed id (404).
    #[error("{0}")]
    NotFound(String),
    /// The same `external_id` with a different case (409 `conflict`).
    #[error("{0}")]
    Conflict(String),
    /// The `version` is not the case's current one (409 `version_conflict`).
    #[error("{}the case is at version {current}; read the case again and retry", .given.map(|given| format!("version {given} is not current: ")).unwrap_or_default())]
    VersionConflict {
        /// The version the client sent, when known.
        given: Option<i64>,
        /// The case's current version.
        current: i64,
    },
    /// The stage table refuses the move for this actor (409 `move_refused`).
    #[error("{0}")]
    MoveRefused(String),
    /// The route exists but not for this method (405 `method_not_allowed`).
    #[error(
        "method `{method}` is not allowed on this route; the `Allow` header lists the allowed ones"
    )]
    MethodNotAllowed {
        /// The method the client used.
        method: String,
    },
    /// A body over the limit (413).
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A policy reload found errors (422 `policy_invalid`).
    #[error("the policy has {} error(s); the running policy is kept", .0.len())]
    PolicyInvalid(Vec<Value>),
    /// A dependency (the database) does not answer (503).
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an infrastructure failure (500); the cause is logged, not sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadJson(_)
            | ApiError::InvalidField { .. }
            | ApiError::UnknownField { .. }
            | ApiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::VersionConflict { .. } | ApiError::MoveRefused(_) => {
                StatusCode::CONFLICT
            }
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::PolicyInvalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable `code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadJson(_) => "bad_json",
            ApiError::InvalidField { .. } => "invalid_field",
            ApiError::UnknownField { .. } => "unknown_field",
            ApiError::BadParameter { .. } => "bad_parameter",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::VersionConflict { .. } => "version_conflict",
            ApiError::MoveRefused(_) => "move_refused",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::PolicyInvalid(_) => "policy_invalid",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Wraps an infrastructure failure; it is logged, and the client sees 500.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(error))
    }

    /// The JSON body of this error.
    pub fn body(&self) -> Value {
        let mut error = json!({"code": self.code(), "message": self.to_string()});
        match self {
            ApiError::InvalidField { field, .. } | ApiError::UnknownField { field, .. } => {
                error["field"] = json!(field);
            }
            ApiError::BadParameter { parameter, .. } => error["field"] = json!(parameter),
            ApiError::VersionConflict { current, .. } => error["current_version"] = json!(current),
            ApiError::PolicyInvalid(diagnostics) => error["diagnostics"] = json!(diagnostics),
            _ => {}
        }
        json!({ "error": error })
    }
}

impl From<CaseError> for ApiError {
    fn from(error: CaseError) -> Self {
        match error.kind {
            CaseErrorKind::Unknown => ApiError::UnknownField {
                field: error.field,
                closest: error.closest,
            },
            CaseErrorKind::Invalid => ApiError::InvalidField {
                field: error.field,
                message: error.message,
            },
        }
    }
}

/// The one place store errors become HTTP errors.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { what, id } => ApiError::NotFound(format!("no {what} `{id}`")),
            StoreError::VersionConflict { current } => ApiError::VersionConflict {
                given: None,
                current,
            },
            StoreError::MoveRefused(refusal) => match refusal.field() {
                Some(field) => ApiError::InvalidField {
                    field: field.to_owned(),
                    message: strip_field(&refusal.to_string(), field),
                },
                None => ApiError::MoveRefused(refusal.to_string()),
            },
            error @ StoreError::Conflict { .. } => ApiError::Conflict(error.to_string()),
            StoreError::BadCursor => ApiError::BadParameter {
                parameter: "cursor".to_owned(),
                message: "not a cursor this server issued; start again without one".to_owned(),
            },
            StoreError::Invalid { field, message } => ApiError::InvalidField {
                field: field.to_owned(),
                message,
            },
            error @ (StoreError::PartnerExists { .. }
            | StoreError::Database { .. }
            | StoreError::Open { .. }
            | StoreError::Migrate { .. }
            | StoreError::Corrupt { .. }) => ApiError::internal(error),
        }
    }
}

/// A workflow message starts with "`field`: "; the API error adds the field itself.
fn strip_field(message: &str, field: &str) -> String {
    message
        .strip_prefix(&format!("`{field}`: "))
        .unwrap_or(message)
        .to_owned()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(source) = &self {
            let mut chain = source.to_string();
            let mut cause = source.source();
            while let Some(inner) = cause {
                chain.push_str(": ");
                chain.push_str(&inner.to_string());
                cause = inner.source();
            }
            tracing::error!(error = %chain, "request failed");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if matches!(self, ApiError::Unauthorized) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_error_keeps_its_field_and_class() {
        let unknown = ApiError::from(CaseError::unknown("severty", Some("severity".to_owned())));
        assert_eq!(
            (unknown.status(), unknown.code()),
            (StatusCode::BAD_REQUEST, "unknown_field")
        );
        assert_eq!(unknown.body()["error"]["field"], "severty");
        assert_eq!(
            unknown.body()["error"]["message"],
            "unknown field `severty`; did you mean `severity`?"
        );
        let invalid = ApiError::from(CaseError::invalid("customer.tenant", "is required"));
        let body = invalid.body();
        assert_eq!(body["error"]["code"], "invalid_field");
        assert_eq!(body["error"]["field"], "customer.tenant");
        assert_eq!(body["error"]["message"], "`customer.tenant`: is required");
    }

    #[test]
    fn store_errors_map_to_the_contract_codes() {
        use crate::workflow::{Action, MoveError, Role, Stage, Target};
        let code = |error: StoreError| {
            let error = ApiError::from(error);
            (error.status().as_u16(), error.code(), error.body())
        };
        let (status, name, _) = code(StoreError::NotFound {
            what: "case",
            id: "c_x".to_owned(),
        });
        assert_eq!((status, name), (404, "not_found"));
        let (status, name, body) = code(StoreError::VersionConflict { current: 4 });
        assert_eq!((status, name), (409, "version_conflict"));
        assert_eq!(body["error"]["current_version"], 4);
        let (status, name, body) = code(StoreError::MoveRefused(MoveError::ReasonRequired {
            action: Action::Withdraw,
        }));
        assert_eq!((status, name), (400, "invalid_field"));
        assert_eq!(body["error"]["field"], "reason");
        let (status, name, body) = code(StoreError::MoveRefused(MoveError::Refused {
            from: Stage::Escalated,
            to: Target::Stage(Stage::Resolved),
            role: Role::Partner,
            allowed: vec![Target::Stage(Stage::Closed)],
        }));
        assert_eq!((status, name), (409, "move_refused"));
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`escalated`"));
        let (status, name, body) = code(StoreError::BadCursor);
        assert_eq!((status, name), (400, "bad_parameter"));
        assert_eq!(body["error"]["field"], "cursor");
        let (status, name, _) = code(StoreError::Conflict {
            external_id: "X".to_owned(),
            case_id: "c_x".to_owned(),
        });
        assert_eq!((status, name), (409, "conflict"));
    }

    #[test]
    fn internal_errors_never_leak_their_cause() {
        let error = ApiError::internal(std::io::Error::other("disk on fire at /var/secret"));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.body().to_string().contains("secret"));
    }
}
