//! Who is calling: the `Authorization: Bearer TOKEN` header becomes the
//! token's principal (a partner with its capabilities, 21Vianet, or an
//! administrator). The store hashes the token and compares in constant time;
//! the token itself is never logged or kept. The actor (role and id) is
//! recorded on the request's span.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use super::state::AppState;
use crate::store::{Principal, Scope};
use crate::workflow::{Actor, Role};

/// The authenticated caller of a `/v1` route.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// The actor the token speaks for.
    pub fn actor(&self) -> &Actor {
        &self.0.actor
    }

    /// The cases this caller may see and move: a partner its own, 21Vianet
    /// the ones that are or were escalated, an administrator every case.
    pub fn scope(&self) -> Scope {
        Scope::of(&self.0.actor)
    }

    /// Refuses the request with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<(), ApiError> {
        let role = self.0.actor.role();
        if roles.contains(&role) {
            Ok(())
        } else {
            let allowed = roles
                .iter()
                .map(|role| format!("`{role}`"))
                .collect::<Vec<_>>()
                .join(", ");
            Err(ApiError::Forbidden(format!(
                "a token of role `{role}` may not {what}; this needs a token of role {allowed}"
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthorized)?;
        let principal = state
            .store
            .actor_for_token(token)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let actor = &principal.actor;
        tracing::Span::current().record(
            "actor",
            tracing::field::display(format_args!("{}:{}", actor.role(), actor.id())),
        );
        Ok(Caller(principal))
    }
}

/// The token of an `Authorization: Bearer TOKEN` header (scheme in any case).
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
