//! Intake: idempotent resubmission compares the parsed case, a different
//! case under the same `external_id` is a conflict, and `external_id` is
//! unique per partner only.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fixtures::mail_flow;
use crate::harness::spawn_sqlite;

#[tokio::test]
async fn the_same_case_again_is_answered_with_the_stored_case_even_reordered_and_with_the_severity_letter(
) {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let first = app.post("/v1/cases", &partner, &mail_flow("IDEM-1")).await;
    assert_eq!(first.status, StatusCode::CREATED);

    let again = app.post("/v1/cases", &partner, &mail_flow("IDEM-1")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], first.body["id"]);

    // Keys in reverse order, and "B" for "moderate".
    let Value::Object(map) = mail_flow("IDEM-1") else {
        unreachable!()
    };
    let mut text = String::from("{");
    for (index, (key, value)) in map.iter().rev().enumerate() {
        let value = if key == "severity" {
            json!("B")
        } else {
            value.clone()
        };
        if index > 0 {
            text.push(',');
        }
        text.push_str(&format!("{}:{}", json!(key), value));
    }
    text.push('}');
    let reordered = app
        .call_raw(
            reqwest::Method::POST,
            "/v1/cases",
            Some(&partner),
            text.into_bytes(),
        )
        .await;
    assert_eq!(reordered.status, StatusCode::OK, "{:?}", reordered.body);
    assert_eq!(reordered.body["id"], first.body["id"]);
    assert_eq!(app.case_count().await, 1);
}

#[tokio::test]
async fn a_body_that_starts_with_a_byte_order_mark_is_read_as_without_it() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend(mail_flow("BOM-1").to_string().into_bytes());
    let created = app
        .call_raw(reqwest::Method::POST, "/v1/cases", Some(&partner), body)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["external_id"], "BOM-1");
}

#[tokio::test]
async fn a_different_case_under_the_same_external_id_is_a_conflict_and_stores_nothing() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let first = app.post("/v1/cases", &partner, &mail_flow("DUP-1")).await;
    let id = first.body["id"].as_str().unwrap().to_owned();
    let mut changed = mail_flow("DUP-1");
    changed["subject"] = json!("Something else entirely");
    let conflict = app.post("/v1/cases", &partner, &changed).await;
    assert_eq!(
        (conflict.status, conflict.code()),
        (StatusCode::CONFLICT, "conflict")
    );
    assert!(
        conflict.message().contains("DUP-1"),
        "{}",
        conflict.message()
    );
    assert_eq!(app.case_count().await, 1);
    assert_eq!(app.event_count(&id).await, 1);
}

#[tokio::test]
async fn two_partners_may_use_the_same_external_id() {
    let app = spawn_sqlite().await;
    let a = app.partner("pa").await;
    let b = app.partner("pb").await;
    let first = app.post("/v1/cases", &a, &mail_flow("SHARED-1")).await;
    let second = app.post("/v1/cases", &b, &mail_flow("SHARED-1")).await;
    assert_eq!(
        (first.status, second.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert_ne!(first.body["id"], second.body["id"]);
    assert_eq!(second.body["partner_id"], "pb");
}

#[tokio::test]
async fn list_pages_newest_first_with_a_cursor() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let created = app
            .post("/v1/cases", &partner, &mail_flow(&format!("PAGE-{n}")))
            .await;
        ids.push(created.body["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut path = "/v1/cases?limit=2".to_owned();
    loop {
        let page = app.get(&path, &partner).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/cases?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    assert_eq!(sorted_seen, sorted_ids, "every case once");
    let created: Vec<String> = {
        let mut all = Vec::new();
        for id in &seen {
            let case = app.get(&format!("/v1/cases/{id}"), &partner).await;
            all.push(case.body["created_at"].as_str().unwrap().to_owned());
        }
        all
    };
    let mut newest_first = created.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, newest_first);
}
