//! The HTTP face of escalator (axum): routes, the auth extractor, and the
//! mapping of every failure to a status code and an error body.
//!
//! Routes and their OpenAPI description come from one declaration
//! (`utoipa_axum`'s `routes!`), so `/openapi.json` lists exactly the routes
//! the router serves. Every failure, including axum's own (unknown route,
//! wrong method, oversized body), answers `{"error": {...}}`.

mod auth;
mod cases;
pub mod error;
pub mod json;
mod middleware;
mod ops;
mod query;
mod schemas;
mod state;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::{Extension, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::Caller;
pub use error::ApiError;
pub use state::AppState;

use json::BODY_LIMIT;
use ops::OpenApiDocument;

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    let (routes, mut document) = declared_routes().split_for_parts();
    declare_common_responses(&mut document);
    let document = serde_json::to_string(&document).unwrap_or_else(|_| "{}".to_owned());
    routes
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(OpenApiDocument(Arc::new(document))))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .with_state(state)
}

/// The OpenAPI 3 document of every route and schema, as `/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = declared_routes().into_openapi();
    declare_common_responses(&mut document);
    document
}

/// Adds to every operation the answer the middleware can give on any route:
/// 413 for a body over the limit. (A method a path does not declare answers
/// 405 `method_not_allowed`; having no operation, it is said in the
/// document's description.)
fn declare_common_responses(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error_response = |description: String| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    let too_large = error_response(format!(
        "`payload_too_large`: the body is over {} KiB; nothing was stored",
        BODY_LIMIT / 1024
    ));
    const BAD_PARAMETER: &str =
        "`bad_parameter`: a query parameter this route does not take, named in `field`";
    let bad_parameter = error_response(BAD_PARAMETER.to_owned());
    for (path, item) in document.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            responses
                .entry("413".to_owned())
                .or_insert_with(|| too_large.clone().into());
            // Every `/v1` route refuses parameters it does not take.
            if path.starts_with("/v1/") {
                match responses.get_mut("400") {
                    Some(utoipa::openapi::RefOr::T(response)) => {
                        if !response.description.contains("bad_parameter") {
                            response.description.push_str("; or ");
                            response.description.push_str(BAD_PARAMETER);
                        }
                    }
                    Some(utoipa::openapi::RefOr::Ref(_)) => {}
                    None => {
                        responses.insert("400".to_owned(), bad_parameter.clone().into());
                    }
                }
            }
        }
    }
}

fn declared_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(cases::submit_case, cases::list_cases))
        .routes(routes!(cases::get_case))
        .routes(routes!(cases::move_case))
        .routes(routes!(cases::case_events))
        .routes(routes!(ops::classify))
        .routes(routes!(ops::reload_policy))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "escalator",
        description = "Decides who owns a customer's support case and carries the case to the end. \
            Every `/v1` route needs `Authorization: Bearer TOKEN`; errors are \
            `{\"error\": {\"code\", \"message\", \"field\"?}}`. A method a path does not \
            declare answers 405 `method_not_allowed`; an unknown path, 404 `not_found`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "cases", description = "Submit, read, list and move cases"),
        (name = "policy", description = "Dry-run classification and policy reload"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the `/v1` routes use.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route `{}`", uri.path()))
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
    }
}
