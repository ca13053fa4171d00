//! A case's whole life over HTTP, on SQLite and on PostgreSQL: a partner
//! submits a case that escalates, 21Vianet acknowledges it (recording its
//! own case id), asks for information, gets it, resolves the case, and the
//! partner closes it — reading the case, its deadline and its events on
//! the way.

use escalator::workflow::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::mail_flow;
use crate::harness::{history, on_postgres, on_sqlite, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_goes_from_intake_to_closed_on_sqlite() {
    on_sqlite(journey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_goes_from_intake_to_closed_on_postgres() {
    on_postgres(journey).await;
}

async fn journey(app: TestApp) {
    let partner = app.partner("pa").await;
    let vianet = app.token(Role::Vianet).await;

    let created = app
        .post("/v1/cases", &partner, &mail_flow("CASE-1042"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let case = &created.body;
    let id = case["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.headers["location"].to_str().unwrap(),
        format!("/v1/cases/{id}")
    );
    assert_eq!(case["external_id"], "CASE-1042");
    assert_eq!(case["partner_id"], "pa");
    assert_eq!(case["stage"], "escalated");
    assert_eq!(case["decision"], "escalate");
    assert_eq!(case["outcome"]["decision"], "escalate");
    assert_eq!(case["version"], 1);
    assert_eq!(case["reopened"], 0);
    assert_eq!(case["vianet_case_id"], json!(null));
    assert_eq!(case["case"]["severity"], "moderate");
    assert_eq!(case["deadline"]["kind"], "acknowledge");
    let remaining = case["deadline"]["remaining_seconds"].as_i64().unwrap();
    assert!(
        remaining > 23 * 3600 && remaining <= 24 * 3600,
        "{remaining}"
    );
    assert!(case["deadline"]["at"].as_str().unwrap().ends_with('Z'));

    let read = app.get(&format!("/v1/cases/{id}"), &partner).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["id"], id.as_str());
    assert_eq!(read.body["stage"], "escalated");

    let listed = app.get("/v1/cases", &partner).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    assert_eq!(listed.body["next_cursor"], json!(null));
    let desk = app.get("/v1/cases?stage=escalated", &vianet).await;
    assert_eq!(desk.body["items"].as_array().unwrap().len(), 1);

    let acknowledged = app
        .transition(
            &id,
            &vianet,
            json!({"to": "acknowledged", "version": 1, "vianet_case_id": "21V-2026-0001"}),
        )
        .await;
    assert_eq!(
        acknowledged.status,
        StatusCode::OK,
        "{:?}",
        acknowledged.body
    );
    assert_eq!(acknowledged.body["stage"], "acknowledged");
    assert_eq!(acknowledged.body["version"], 2);
    assert_eq!(acknowledged.body["vianet_case_id"], "21V-2026-0001");
    assert_eq!(acknowledged.body["deadline"]["kind"], "resolution");

    let asked = app
        .transition(
            &id,
            &vianet,
            json!({"to": "awaiting_info", "version": 2, "reason": "Please send the NDR headers."}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{:?}", asked.body);
    assert_eq!(asked.body["stage"], "awaiting_info");
    assert_eq!(asked.body["deadline"]["paused"], true);
    assert_eq!(asked.body["deadline"]["at"], json!(null));
    assert!(
        asked.body["deadline"]["remaining_seconds"]
            .as_i64()
            .unwrap()
            > 0
    );

    let supplied = app
        .transition(&id, &partner, json!({"to": "acknowledged", "version": 3, "reason": "Headers attached: 550 5.7.1 from 203.0.113.7."}))
        .await;
    assert_eq!(supplied.status, StatusCode::OK, "{:?}", supplied.body);
    assert_eq!(supplied.body["stage"], "acknowledged");
    assert_eq!(supplied.body["deadline"]["kind"], "resolution");
    assert!(supplied.body["deadline"]["at"].is_string());

    let resolved = app
        .transition(
            &id,
            &vianet,
            json!({"to": "resolved", "version": 4, "reason": "Supplier delisted the IP."}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{:?}", resolved.body);
    assert_eq!(resolved.body["stage"], "resolved");
    assert_eq!(resolved.body["deadline"]["kind"], "close");

    let closed = app
        .transition(&id, &partner, json!({"to": "closed", "version": 5}))
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{:?}", closed.body);
    assert_eq!(closed.body["stage"], "closed");
    assert_eq!(closed.body["deadline"], json!(null));
    assert_eq!(closed.body["version"], 6);

    let events = app.get(&format!("/v1/cases/{id}/events"), &vianet).await;
    assert_eq!(events.status, StatusCode::OK);
    let moves: Vec<(String, String, String, String)> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["kind"] == "intake" || event["kind"] == "move")
        .map(|event| {
            (
                event["actor"]["role"].as_str().unwrap().to_owned(),
                event["kind"].as_str().unwrap().to_owned(),
                event["from"].as_str().unwrap_or("-").to_owned(),
                event["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("partner", "intake", "-", "escalated"),
        ("vianet", "move", "escalated", "acknowledged"),
        ("vianet", "move", "acknowledged", "awaiting_info"),
        ("partner", "move", "awaiting_info", "acknowledged"),
        ("vianet", "move", "acknowledged", "resolved"),
        ("partner", "move", "resolved", "closed"),
    ];
    let expected: Vec<(String, String, String, String)> = expected
        .iter()
        .map(|(a, b, c, d)| {
            (
                (*a).to_owned(),
                (*b).to_owned(),
                (*c).to_owned(),
                (*d).to_owned(),
            )
        })
        .collect();
    assert_eq!(moves, expected);
    let items = history(&events.body);
    assert_eq!(items[0]["seq"], 1);
    assert!(items[0]["policy"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(items[1]["vianet_case_id"], "21V-2026-0001");
    assert_eq!(items[2]["reason"], "Please send the NDR headers.");
}
