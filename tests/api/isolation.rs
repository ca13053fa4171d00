//! Tenant isolation: another partner's case is answered exactly like a case
//! that does not exist, on every route; 21Vianet sees only cases that are or
//! were escalated.

use escalator::workflow::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{add_seats, mail_flow};
use crate::harness::spawn_sqlite;

const TARGETS: [&str; 8] = [
    "self_service",
    "partner_working",
    "escalated",
    "acknowledged",
    "awaiting_info",
    "resolved",
    "closed",
    "reopened",
];

#[tokio::test]
async fn another_partners_case_is_not_found_on_every_route_and_absent_from_lists() {
    let app = spawn_sqlite().await;
    let owner = app.partner("pa").await;
    let other = app.partner("pb").await;
    let created = app.post("/v1/cases", &owner, &mail_flow("A-1")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let missing = "c_aaaaaaaaaaaaaaaa";

    for case_id in [id.as_str(), missing] {
        let read = app.get(&format!("/v1/cases/{case_id}"), &other).await;
        assert_eq!(
            (read.status, read.code()),
            (StatusCode::NOT_FOUND, "not_found")
        );
        let events = app
            .get(&format!("/v1/cases/{case_id}/events"), &other)
            .await;
        assert_eq!(
            (events.status, events.code()),
            (StatusCode::NOT_FOUND, "not_found")
        );
        for to in TARGETS {
            let moved = app
                .transition(
                    case_id,
                    &other,
                    json!({"to": to, "version": 1, "reason": "mine now"}),
                )
                .await;
            assert_eq!(
                (moved.status, moved.code()),
                (StatusCode::NOT_FOUND, "not_found"),
                "moving to {to}: {:?}",
                moved.body
            );
        }
    }
    let listed = app.get("/v1/cases", &other).await;
    assert_eq!(listed.body["items"], json!([]));
    let escalated = app.get("/v1/cases?stage=escalated", &other).await;
    assert_eq!(escalated.body["items"], json!([]));

    let untouched = app.get(&format!("/v1/cases/{id}"), &owner).await;
    assert_eq!(untouched.body["version"], 1);
    assert_eq!(app.event_count(&id).await, 1);
}

#[tokio::test]
async fn vianet_sees_a_case_only_once_it_was_escalated_and_keeps_seeing_it_after_a_return() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let vianet = app.token(Role::Vianet).await;
    let created = app.post("/v1/cases", &partner, &add_seats("S-1")).await;
    assert_eq!(created.body["stage"], "partner_working");
    let id = created.body["id"].as_str().unwrap().to_owned();

    let hidden = app.get(&format!("/v1/cases/{id}"), &vianet).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let hidden_events = app.get(&format!("/v1/cases/{id}/events"), &vianet).await;
    assert_eq!(hidden_events.status, StatusCode::NOT_FOUND);
    let hidden_move = app
        .transition(&id, &vianet, json!({"to": "acknowledged", "version": 1}))
        .await;
    assert_eq!(hidden_move.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/v1/cases", &vianet).await.body["items"], json!([]));

    let escalated = app
        .transition(
            &id,
            &partner,
            json!({"to": "escalated", "version": 1, "reason": "customer needs a back-end change"}),
        )
        .await;
    assert_eq!(escalated.status, StatusCode::OK, "{:?}", escalated.body);
    assert_eq!(
        app.get(&format!("/v1/cases/{id}"), &vianet).await.status,
        StatusCode::OK
    );

    let returned = app
        .transition(
            &id,
            &vianet,
            json!({"to": "partner_working", "version": 2, "reason": "seats are the partner's job"}),
        )
        .await;
    assert_eq!(returned.body["stage"], "partner_working");
    let still = app.get(&format!("/v1/cases/{id}"), &vianet).await;
    assert_eq!(
        (still.status, still.body["stage"].as_str()),
        (StatusCode::OK, Some("partner_working"))
    );
    assert_eq!(
        app.get("/v1/cases", &vianet).await.body["items"][0]["id"],
        id.as_str()
    );
}
