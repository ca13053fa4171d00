//! Every status and error code of the contract, produced over HTTP, and
//! after each refused write nothing was stored.

use escalator::workflow::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::mail_flow;
use crate::harness::{on_postgres, on_sqlite, spawn_sqlite, Answer, TestApp};

fn assert_error(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(
        (answer.status, answer.code()),
        (status, code),
        "{:?}",
        answer.body
    );
    assert!(!answer.message().is_empty(), "{:?}", answer.body);
}

async fn submit_refused(app: &TestApp, token: &str, body: Vec<u8>) -> Answer {
    let before = app.case_count().await;
    let answer = app
        .call_raw(Method::POST, "/v1/cases", Some(token), body)
        .await;
    assert_eq!(
        app.case_count().await,
        before,
        "a refused intake stored a case"
    );
    answer
}

#[tokio::test]
async fn bad_intake_bodies_are_refused_with_the_field_named_and_nothing_stored() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;

    let broken = submit_refused(&app, &partner, b"{\"external_id\": ".to_vec()).await;
    assert_error(&broken, StatusCode::BAD_REQUEST, "bad_json");
    assert!(broken.message().contains("line 1"), "{}", broken.message());
    let empty = submit_refused(&app, &partner, Vec::new()).await;
    assert_error(&empty, StatusCode::BAD_REQUEST, "bad_json");

    let mut no_tenant = mail_flow("E-1");
    no_tenant["customer"] = json!({"name": "Contoso"});
    let missing = submit_refused(&app, &partner, no_tenant.to_string().into_bytes()).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "invalid_field");
    assert_eq!(missing.field(), "customer.tenant");
    assert!(missing.message().contains("customer.tenant"));

    let mut wrong_type = mail_flow("E-1");
    wrong_type["affected_users"] = json!("many");
    let mistyped = submit_refused(&app, &partner, wrong_type.to_string().into_bytes()).await;
    assert_error(&mistyped, StatusCode::BAD_REQUEST, "invalid_field");
    assert_eq!(mistyped.field(), "affected_users");

    let mut long_subject = mail_flow("E-1");
    long_subject["subject"] = json!("x".repeat(201));
    let too_long = submit_refused(&app, &partner, long_subject.to_string().into_bytes()).await;
    assert_error(&too_long, StatusCode::BAD_REQUEST, "invalid_field");
    assert_eq!(too_long.field(), "subject");

    let mut undeclared = mail_flow("E-1");
    undeclared["product"] = json!("m356");
    let outside = submit_refused(&app, &partner, undeclared.to_string().into_bytes()).await;
    assert_error(&outside, StatusCode::BAD_REQUEST, "invalid_field");
    assert_eq!(outside.field(), "product");
    assert!(
        outside.message().contains("`m365`"),
        "lists the allowed values: {}",
        outside.message()
    );

    let mut typo = mail_flow("E-1");
    typo["severty"] = json!("critical");
    let unknown = submit_refused(&app, &partner, typo.to_string().into_bytes()).await;
    assert_error(&unknown, StatusCode::BAD_REQUEST, "unknown_field");
    assert_eq!(unknown.field(), "severty");
    assert!(unknown.message().contains("severty"));

    // A misspelt required field is named as the typo, not as a missing field.
    let mut misspelt = mail_flow("E-1");
    let severity = misspelt["severity"].take();
    misspelt.as_object_mut().unwrap().remove("severity");
    misspelt["severty"] = severity;
    let typo_only = submit_refused(&app, &partner, misspelt.to_string().into_bytes()).await;
    assert_error(&typo_only, StatusCode::BAD_REQUEST, "unknown_field");
    assert_eq!(typo_only.field(), "severty");

    let mut with_partner = mail_flow("E-1");
    with_partner["partner"] = json!({"id": "pz", "training": ["exchange-transport"]});
    let smuggled = submit_refused(&app, &partner, with_partner.to_string().into_bytes()).await;
    assert_error(&smuggled, StatusCode::BAD_REQUEST, "unknown_field");
    assert_eq!(smuggled.field(), "partner");

    let array = submit_refused(&app, &partner, b"[1, 2]".to_vec()).await;
    assert_error(&array, StatusCode::BAD_REQUEST, "invalid_field");
}

#[tokio::test]
async fn routes_that_take_no_parameters_refuse_one_by_name() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let created = app.post("/v1/cases", &partner, &mail_flow("Q-1")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let answers = [
        app.get(&format!("/v1/cases/{id}?x=1"), &partner).await,
        app.get(&format!("/v1/cases/{id}/events?limit=abc"), &partner)
            .await,
        app.post("/v1/cases?dry_run=1", &partner, &mail_flow("Q-2"))
            .await,
        app.post(
            &format!("/v1/cases/{id}/transitions?force=1"),
            &partner,
            &json!({"to": "resolved", "version": 1}),
        )
        .await,
        app.post("/v1/classify?verbose", &partner, &mail_flow("Q-3"))
            .await,
    ];
    for (answer, parameter) in answers
        .iter()
        .zip(["x", "limit", "dry_run", "force", "verbose"])
    {
        assert_error(answer, StatusCode::BAD_REQUEST, "bad_parameter");
        assert_eq!(answer.field(), parameter);
    }
    assert_eq!(app.case_count().await, 1, "nothing stored");
    assert_eq!(app.event_count(&id).await, 1, "nothing moved");
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    for (query, parameter) in [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=-3", "limit"),
        ("stage=limbo", "stage"),
        ("cursor=zz", "cursor"),
        ("cursor=3132", "cursor"),
        // Hex of `-1:c_a`: decodes, but names no time or case this server issued.
        ("cursor=2d313a635f61", "cursor"),
        ("colour=red", "colour"),
        ("limit=2&limit=3", "limit"),
        ("stge=", "stge"),
        ("lmit", "lmit"),
    ] {
        let answer = app.get(&format!("/v1/cases?{query}"), &partner).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "bad_parameter");
        assert_eq!(answer.field(), parameter, "{query}");
        assert!(
            answer.message().contains(parameter),
            "{query}: {}",
            answer.message()
        );
    }
    for limit in ["5000", "99999999999999999999"] {
        let capped = app.get(&format!("/v1/cases?limit={limit}"), &partner).await;
        assert_eq!(
            capped.status,
            StatusCode::OK,
            "limit={limit}: {:?}",
            capped.body
        );
    }
    let empty = app.get("/v1/cases?stage=&limit=&cursor=", &partner).await;
    assert_eq!(empty.status, StatusCode::OK, "{:?}", empty.body);
}

#[tokio::test]
async fn missing_and_invalid_tokens_are_unauthorized_on_every_v1_route() {
    let app = spawn_sqlite().await;
    let id = "c_aaaaaaaaaaaaaaaa";
    let routes = [
        (Method::POST, "/v1/cases".to_owned()),
        (Method::GET, "/v1/cases".to_owned()),
        (Method::GET, format!("/v1/cases/{id}")),
        (Method::POST, format!("/v1/cases/{id}/transitions")),
        (Method::GET, format!("/v1/cases/{id}/events")),
        (Method::POST, "/v1/classify".to_owned()),
        (Method::POST, "/v1/policy/reload".to_owned()),
    ];
    for (method, path) in routes {
        for token in [None, Some("esc_not-a-token"), Some("")] {
            let answer = app
                .call(method.clone(), &path, token, Some(&json!({})))
                .await;
            assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthorized");
            assert_eq!(answer.headers["www-authenticate"], "Bearer");
        }
    }
    let basic = app
        .client
        .get(format!("{}/v1/cases", app.base))
        .basic_auth("pa", Some("secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn roles_that_may_not_use_a_route_are_forbidden_and_nothing_changes() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let vianet = app.token(Role::Vianet).await;
    let admin = app.token(Role::Admin).await;
    let created = app.post("/v1/cases", &partner, &mail_flow("F-1")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();

    for token in [&vianet, &admin] {
        let submitted = app.post("/v1/cases", token, &mail_flow("F-2")).await;
        assert_error(&submitted, StatusCode::FORBIDDEN, "forbidden");
        // The role is checked before the body is read as JSON.
        let broken = submit_refused(&app, token, b"{".to_vec()).await;
        assert_error(&broken, StatusCode::FORBIDDEN, "forbidden");
        // And before the query string.
        let with_parameter = app.post("/v1/cases?x=1", token, &mail_flow("F-3")).await;
        assert_error(&with_parameter, StatusCode::FORBIDDEN, "forbidden");
    }
    // Only the administrator may not move cases.
    let broken_move = app
        .call_raw(
            Method::POST,
            &format!("/v1/cases/{id}/transitions?x=1"),
            Some(&admin),
            b"{".to_vec(),
        )
        .await;
    assert_error(&broken_move, StatusCode::FORBIDDEN, "forbidden");
    for token in [&partner, &vianet] {
        let reload = app
            .call(Method::POST, "/v1/policy/reload", Some(token), None)
            .await;
        assert_error(&reload, StatusCode::FORBIDDEN, "forbidden");
    }
    let admin_move = app
        .transition(&id, &admin, json!({"to": "acknowledged", "version": 1}))
        .await;
    assert_error(&admin_move, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(app.case_count().await, 1);
    assert_eq!(app.event_count(&id).await, 1);
}

#[tokio::test]
async fn unknown_cases_malformed_ids_unknown_routes_and_wrong_methods_answer_the_error_body() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    for path in [
        "/v1/cases/c_aaaaaaaaaaaaaaaa",
        "/v1/cases/not-an-id",
        "/v1/cases/c_AAAAAAAAAAAAAAAA",
        "/v1/cases/%00%ff",
        "/v1/cases/c_aaaaaaaaaaaaaaaa/events",
        "/v1/cases/x'%20or%201=1/events",
        "/v1/nothing-here",
        "/",
    ] {
        let answer = app.get(path, &partner).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
    }
    let wrong = app
        .call(Method::DELETE, "/v1/cases", Some(&partner), None)
        .await;
    assert_error(&wrong, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let allow = wrong.headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let put = app.call(Method::PUT, "/healthz", None, None).await;
    assert_error(&put, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn refused_moves_say_why_and_change_nothing() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let vianet = app.token(Role::Vianet).await;
    let created = app.post("/v1/cases", &partner, &mail_flow("M-1")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();

    let cases = [
        (
            &partner,
            json!({"to": "resolved", "version": 1}),
            StatusCode::CONFLICT,
            "move_refused",
            "",
        ),
        (
            &vianet,
            json!({"to": "acknowledged", "version": 7}),
            StatusCode::CONFLICT,
            "version_conflict",
            "",
        ),
        (
            &vianet,
            json!({"to": "awaiting_info", "version": 1}),
            StatusCode::CONFLICT,
            "move_refused",
            "",
        ),
        (
            &partner,
            json!({"to": "closed", "version": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "reason",
        ),
        (
            &partner,
            json!({"to": "closed", "version": 1, "reason": "   "}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "reason",
        ),
        (
            &vianet,
            json!({"to": "partner_working", "version": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "reason",
        ),
        (
            &partner,
            json!({"to": "closed", "version": 1, "reason": "done", "vianet_case_id": "X"}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "vianet_case_id",
        ),
        (
            &partner,
            json!({"to": "limbo", "version": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "to",
        ),
        (
            &partner,
            json!({"version": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "to",
        ),
        (
            &partner,
            json!({"to": "closed"}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "version",
        ),
        (
            &partner,
            json!({"to": "closed", "version": "1"}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "version",
        ),
        (
            &partner,
            json!({"to": "closed", "version": 1, "reason": 5}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "reason",
        ),
        (
            &partner,
            json!({"to": "closed", "version": 1, "why": "x"}),
            StatusCode::BAD_REQUEST,
            "unknown_field",
            "why",
        ),
        (
            &partner,
            json!({"to": "closed", "versoin": 1}),
            StatusCode::BAD_REQUEST,
            "unknown_field",
            "versoin",
        ),
        (
            &partner,
            json!(["closed"]),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "(body)",
        ),
    ];
    for (token, body, status, code, field) in cases {
        let answer = app.transition(&id, token, body.clone()).await;
        assert_error(&answer, status, code);
        assert_eq!(answer.field(), field, "{body}");
        let case = app.get(&format!("/v1/cases/{id}"), &partner).await;
        assert_eq!(
            (case.body["version"].as_i64(), case.body["stage"].as_str()),
            (Some(1), Some("escalated")),
            "{body}"
        );
        assert_eq!(app.event_count(&id).await, 1, "{body}");
    }
    let typo = app
        .transition(&id, &partner, json!({"to": "closed", "versoin": 1}))
        .await;
    assert!(
        typo.message().ends_with("did you mean `version`?"),
        "{}",
        typo.message()
    );
    let broken = app
        .call_raw(
            Method::POST,
            &format!("/v1/cases/{id}/transitions"),
            Some(&partner),
            b"{to: closed}".to_vec(),
        )
        .await;
    assert_error(&broken, StatusCode::BAD_REQUEST, "bad_json");

    let refused = app
        .transition(&id, &partner, json!({"to": "resolved", "version": 1}))
        .await;
    assert_eq!(
        refused.message(),
        "the case is `escalated`: partner cannot move it to `resolved`; moves partner may make from `escalated`: `closed`"
    );
    let stale = app
        .transition(&id, &vianet, json!({"to": "acknowledged", "version": 7}))
        .await;
    assert_eq!(stale.body["error"]["current_version"], 1);
    assert!(stale.message().contains("version 7"), "{}", stale.message());
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413_on_every_route() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let mut big = mail_flow("BIG-1");
    big["description"] = json!("x".repeat(70 * 1024));
    let big = big.to_string().into_bytes();
    for (method, path) in [
        (Method::POST, "/v1/cases"),
        (Method::GET, "/v1/cases"),
        (Method::POST, "/v1/classify"),
        (Method::POST, "/v1/cases/c_aaaaaaaaaaaaaaaa/transitions"),
        (Method::POST, "/v1/policy/reload"),
        (Method::GET, "/healthz"),
        (Method::GET, "/metrics"),
        (Method::GET, "/nowhere"),
    ] {
        let answer = app
            .call_raw(method, path, Some(&partner), big.clone())
            .await;
        assert_error(&answer, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
    // A chunked body declares no length; the body reader stops it.
    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /v1/cases HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {partner}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..80 {
        let chunk = format!("400\r\n{}\r\n", " ".repeat(1024));
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("payload_too_large"), "{response}");
    assert_eq!(app.case_count().await, 0);
}

/// PostgreSQL cannot store U+0000 in text; a NUL anywhere in the input is
/// refused as bad input on both databases, never answered with 500.
async fn nul_characters_are_refused_with_the_field_named(app: TestApp) {
    let partner = app.partner("pa").await;
    let vianet = app.token(Role::Vianet).await;
    let in_id = mail_flow("NUL\u{0}1");
    let mut in_subject = mail_flow("NUL-2");
    in_subject["subject"] = json!("mail\u{0}flow");
    let mut in_attribute_name = mail_flow("NUL-3");
    in_attribute_name["attributes"] = json!({"re\u{0}gion": "north"});
    for (body, field) in [
        (in_id, "external_id"),
        (in_subject, "subject"),
        (in_attribute_name, "attributes.re\u{0}gion"),
    ] {
        let answer = submit_refused(&app, &partner, body.to_string().into_bytes()).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_field");
        assert_eq!(answer.field(), field);
        assert!(answer.message().contains("NUL"), "{}", answer.message());
    }

    let created = app.post("/v1/cases", &partner, &mail_flow("NUL-4")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let events = app.event_count(&id).await;
    for (token, body, field) in [
        (
            &partner,
            json!({"to": "closed", "version": 1, "reason": "dup\u{0}licate"}),
            "reason",
        ),
        (
            &vianet,
            json!({"to": "acknowledged", "version": 1, "vianet_case_id": "21V\u{0}1"}),
            "vianet_case_id",
        ),
    ] {
        let answer = app.transition(&id, token, body).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_field");
        assert_eq!(answer.field(), field);
        let case = app.get(&format!("/v1/cases/{id}"), &partner).await;
        assert_eq!(case.body["version"], 1);
        assert_eq!(app.event_count(&id).await, events);
    }

    let cursor = hex::encode("1:c_\u{0}");
    let listed = app
        .get(&format!("/v1/cases?cursor={cursor}"), &partner)
        .await;
    assert_error(&listed, StatusCode::BAD_REQUEST, "bad_parameter");
    assert_eq!(listed.field(), "cursor");
}

#[tokio::test]
async fn nul_characters_are_refused_on_sqlite() {
    on_sqlite(nul_characters_are_refused_with_the_field_named).await;
}

#[tokio::test]
async fn nul_characters_are_refused_on_postgres() {
    on_postgres(nul_characters_are_refused_with_the_field_named).await;
}
