//! Group commit under concurrency: many intakes at once, with identical
//! resubmissions and conflicting bodies among them, give exactly the cases
//! and answers that one-by-one intake would.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::mail_flow;
use crate::harness::spawn_sqlite;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_intakes_with_duplicates_and_conflicts_store_the_right_cases() {
    let app = spawn_sqlite().await;
    assert!(
        app.store.groups_commits(),
        "the server batches intakes on SQLite"
    );
    let partner = app.partner("pa").await;

    // 120 distinct cases; 60 identical resubmissions of the first 30 (twice
    // each); 20 cases sent as a pair of different bodies.
    let mut bodies = Vec::new();
    for n in 0..120 {
        bodies.push((format!("GC-{n}"), mail_flow(&format!("GC-{n}"))));
    }
    for n in 0..30 {
        for _ in 0..2 {
            bodies.push((format!("GC-{n}"), mail_flow(&format!("GC-{n}"))));
        }
    }
    for n in 0..10 {
        let external_id = format!("PAIR-{n}");
        let first = mail_flow(&external_id);
        let mut second = mail_flow(&external_id);
        second["subject"] = json!("A different case under the same reference");
        bodies.push((external_id.clone(), first));
        bodies.push((external_id, second));
    }
    assert_eq!(bodies.len(), 200);

    let requests = bodies.into_iter().map(|(external_id, body)| {
        let client = app.client.clone();
        let url = format!("{}/v1/cases", app.base);
        let token = partner.clone();
        tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: serde_json::Value = response.json().await.unwrap();
            (external_id, status, body)
        })
    });
    let answers = futures::future::join_all(requests).await;

    let mut by_reference: BTreeMap<String, Vec<(StatusCode, serde_json::Value)>> = BTreeMap::new();
    for answer in answers {
        let (external_id, status, body) = answer.unwrap();
        by_reference
            .entry(external_id)
            .or_default()
            .push((status, body));
    }
    assert_eq!(by_reference.len(), 130);
    for (external_id, answers) in &by_reference {
        let created = answers
            .iter()
            .filter(|(status, _)| *status == StatusCode::CREATED)
            .count();
        assert_eq!(created, 1, "{external_id}: exactly one 201");
        let ids: BTreeSet<&str> = answers
            .iter()
            .filter(|(status, _)| status.is_success())
            .map(|(_, body)| body["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids.len(),
            1,
            "{external_id}: every success names the same case"
        );
        for (status, body) in answers {
            match *status {
                StatusCode::CREATED | StatusCode::OK => {
                    assert_eq!(body["external_id"], external_id.as_str());
                    assert_eq!(body["stage"], "escalated");
                }
                StatusCode::CONFLICT => {
                    assert!(external_id.starts_with("PAIR-"), "{external_id}: {body}");
                    assert_eq!(body["error"]["code"], "conflict");
                }
                other => panic!("{external_id}: unexpected {other}: {body}"),
            }
        }
        if external_id.starts_with("PAIR-") {
            assert_eq!(
                answers
                    .iter()
                    .filter(|(status, _)| *status == StatusCode::CONFLICT)
                    .count(),
                1
            );
        }
    }
    assert_eq!(app.case_count().await, 130);
    let listed = app.get("/v1/cases?limit=200", &partner).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 130);
    for item in listed.body["items"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        assert_eq!(app.event_count(id).await, 1, "one intake event per case");
    }
}
