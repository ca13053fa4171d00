//! `/metrics`, `/healthz` and `/openapi.json`: the expected series, and an
//! OpenAPI document that lists every route the router serves and describes
//! the JSON the server really sends.

use std::collections::BTreeSet;

use escalator::workflow::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fixtures::{add_seats, mail_flow};
use crate::harness::{spawn_sqlite, TestApp};

#[tokio::test]
async fn metrics_count_requests_by_route_decisions_cases_and_the_outbox() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    app.post("/v1/cases", &partner, &mail_flow("MX-1")).await;
    app.post("/v1/cases", &partner, &add_seats("MX-2")).await;
    let created = app.post("/v1/cases", &partner, &mail_flow("MX-1")).await;
    let id = created.body["id"].as_str().unwrap();
    app.get(&format!("/v1/cases/{id}"), &partner).await;
    app.get("/v1/cases/c_aaaaaaaaaaaaaaaa", &partner).await;

    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    for series in [
        r#"escalator_http_requests_total{route="/v1/cases",method="POST",status="201"} 2"#,
        r#"escalator_http_requests_total{route="/v1/cases",method="POST",status="200"} 1"#,
        r#"escalator_http_requests_total{route="/v1/cases/{id}",method="GET",status="200"} 1"#,
        r#"escalator_http_requests_total{route="/v1/cases/{id}",method="GET",status="404"} 1"#,
        r#"escalator_decisions_total{tier="escalate"} 1"#,
        r#"escalator_decisions_total{tier="partner"} 1"#,
        r#"escalator_cases{stage="escalated"} 1"#,
        r#"escalator_cases{stage="partner_working"} 1"#,
        r#"escalator_cases{stage="closed"} 0"#,
        r#"escalator_cases_overdue{stage="escalated"} 0"#,
        // The dispatcher may already have delivered the escalation email.
        "escalator_outbox_pending ",
        "escalator_outbox_failed 0",
        "escalator_email_recipients_refused_total 0",
        r#"escalator_policy_loads_total{result="ok"} 1"#,
        "escalator_policy_load_seconds ",
    ] {
        assert!(text.contains(series), "missing `{series}` in:\n{text}");
    }
}

#[tokio::test]
async fn requests_with_made_up_methods_share_one_method_label() {
    let app = spawn_sqlite().await;
    for name in ["XM1", "XM2", "BREW"] {
        let method = Method::from_bytes(name.as_bytes()).unwrap();
        let answer = app.call(method, "/v1/cases", None, None).await;
        assert!(answer.status.is_client_error(), "{name}: {}", answer.status);
    }
    let text = metrics_text(&app).await;
    for name in ["XM1", "XM2", "BREW"] {
        assert!(!text.contains(name), "`{name}` is a label in:\n{text}");
    }
    let other: Vec<&str> = text
        .lines()
        .filter(|line| line.contains(r#"method="other""#))
        .collect();
    assert_eq!(other.len(), 1, "one series for the three: {other:?}");
    assert!(other[0].ends_with(" 3"), "{other:?}");
}

#[tokio::test]
async fn a_refused_reopen_counts_no_decision() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let created = app.post("/v1/cases", &partner, &add_seats("RX-1")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let resolved = app
        .transition(&id, &partner, json!({"to": "resolved", "version": 1}))
        .await;
    assert_eq!(resolved.status, StatusCode::OK);
    for refused in [
        json!({"to": "reopened", "version": 2, "vianet_case_id": "21V-1"}),
        json!({"to": "reopened", "version": 2, "reason": "x".repeat(10_001)}),
    ] {
        let answer = app.transition(&id, &partner, refused).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    }
    let reopened = app
        .transition(&id, &partner, json!({"to": "reopened", "version": 2}))
        .await;
    assert_eq!(reopened.status, StatusCode::OK);

    let text = metrics_text(&app).await;
    // The intake and the one stored reopen.
    let series = r#"escalator_decisions_total{tier="partner"} 2"#;
    assert!(text.contains(series), "missing `{series}` in:\n{text}");
}

#[tokio::test]
async fn healthz_answers_200_while_the_database_answers() {
    let app = spawn_sqlite().await;
    let answer = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
}

/// Every route of the contract, as OpenAPI writes it.
const CONTRACT: [(&str, &str); 10] = [
    ("post", "/v1/cases"),
    ("get", "/v1/cases"),
    ("get", "/v1/cases/{id}"),
    ("post", "/v1/cases/{id}/transitions"),
    ("get", "/v1/cases/{id}/events"),
    ("post", "/v1/classify"),
    ("post", "/v1/policy/reload"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_the_router_serves() {
    let app = spawn_sqlite().await;
    let answer = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let document = answer.body;
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let mut listed = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            listed.insert((method.clone(), path.clone()));
        }
    }
    let contract: BTreeSet<(String, String)> = CONTRACT
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(listed, contract);
    assert_eq!(escalator::api::openapi().paths.paths.len(), 9);

    // Every documented route is served: none answers "no route" or 405.
    for (method, path) in &listed {
        let path = path.replace("{id}", "c_aaaaaaaaaaaaaaaa");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let answer = app.call(method.clone(), &path, None, None).await;
        assert_ne!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert!(
            !answer.message().starts_with("no route"),
            "{method} {path}: {:?}",
            answer.body
        );
    }
    for schema in [
        "CaseBody",
        "CaseSubmission",
        "TransitionRequest",
        "ErrorBody",
        "Outcome",
        "EventList",
        "CaseList",
    ] {
        assert!(
            document["components"]["schemas"].get(schema).is_some(),
            "schema {schema}"
        );
    }
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // The body limit applies to every route, and every operation says so.
    for (method, path) in &listed {
        let responses = &document["paths"][path][method]["responses"];
        assert_eq!(
            responses["413"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{method} {path}"
        );
    }
    // Every `/v1` operation declares the 400 a stray query parameter gets.
    for (method, path) in listed.iter().filter(|(_, path)| path.starts_with("/v1/")) {
        let description = document["paths"][path][method]["responses"]["400"]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            description.contains("bad_parameter"),
            "{method} {path}: {description}"
        );
    }
    assert!(document["info"]["description"]
        .as_str()
        .unwrap()
        .contains("405 `method_not_allowed`"));
}

fn properties(document: &Value, schema: &str) -> BTreeSet<String> {
    document["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {schema}"))
        .keys()
        .cloned()
        .collect()
}

/// The properties a schema marks `required`.
fn required(document: &Value, schema: &str) -> BTreeSet<String> {
    document["components"]["schemas"][schema]["required"]
        .as_array()
        .unwrap_or_else(|| panic!("schema {schema} lists no required properties"))
        .iter()
        .map(|key| key.as_str().unwrap().to_owned())
        .collect()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn the_documented_schemas_match_the_json_the_server_sends() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let vianet = app.token(Role::Vianet).await;
    let document = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let created = app.post("/v1/cases", &partner, &mail_flow("SC-1")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let asked = app
        .transition(&id, &vianet, json!({"to": "acknowledged", "version": 1}))
        .await;
    let paused = app
        .transition(
            &id,
            &vianet,
            json!({"to": "awaiting_info", "version": 2, "reason": "logs please"}),
        )
        .await;

    assert_eq!(keys(&created.body), properties(&document, "CaseBody"));
    assert_eq!(
        keys(&created.body["outcome"]),
        properties(&document, "Outcome")
    );
    assert_eq!(
        keys(&created.body["outcome"]["gaps"]),
        properties(&document, "Gaps")
    );
    assert_eq!(
        keys(&paused.body["deadline"]),
        properties(&document, "Deadline")
    );
    assert!(keys(&asked.body["deadline"]).is_subset(&properties(&document, "Deadline")));
    // What every answer carries, `null` or not, is required; what may be
    // left out (`paused`) is not.
    assert_eq!(keys(&created.body), required(&document, "CaseBody"));
    assert_eq!(
        keys(&asked.body["deadline"]),
        required(&document, "Deadline")
    );
    assert!(created.body["vianet_case_id"].is_null());
    assert_eq!(
        keys(&created.body["outcome"]),
        required(&document, "Outcome")
    );
    assert!(created.body["outcome"]["within_minutes"].is_number());
    let list = app.get("/v1/cases", &partner).await;
    assert_eq!(keys(&list.body), properties(&document, "CaseList"));
    assert_eq!(keys(&list.body), required(&document, "CaseList"));
    assert!(list.body["next_cursor"].is_null());
    let events = app.get(&format!("/v1/cases/{id}/events"), &partner).await;
    let event_keys = properties(&document, "Event");
    for event in events.body["items"].as_array().unwrap() {
        let fixed: BTreeSet<String> = ["seq", "at", "actor", "kind", "from", "to", "reason"]
            .iter()
            .map(|key| (*key).to_owned())
            .collect();
        assert!(fixed.is_subset(&keys(event)), "{event}");
        assert!(fixed.is_subset(&event_keys));
        assert_eq!(required(&document, "Event"), fixed);
    }
    let error = app.get("/v1/cases?limit=0", &partner).await;
    assert!(keys(&error.body["error"]).is_subset(&properties(&document, "ErrorDetail")));
    let submission = properties(&document, "CaseSubmission");
    assert_eq!(
        keys(&created.body["case"]).difference(&submission).count(),
        0,
        "the stored case uses only submission fields"
    );
}

/// The `/metrics` page as text.
async fn metrics_text(app: &TestApp) -> String {
    app.client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
