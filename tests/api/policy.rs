//! The policy over HTTP: dry-run classification with the caller's (or the
//! body's) capabilities, reloads that keep the running policy on errors and
//! swap it when it loads, and reopening, which re-classifies a case with the
//! running policy and the partner's current capabilities.

use std::path::Path;

use chrono::Utc;
use escalator::case::Capabilities;
use escalator::workflow::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::mail_flow;
use crate::harness::{history, shipped_rules, spawn_sqlite, spawn_sqlite_with};

fn copy_rules(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(shipped_rules()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rules") {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[tokio::test]
async fn classify_uses_the_partner_tokens_capabilities_and_stores_nothing() {
    let app = spawn_sqlite().await;
    let untrained = app.partner("pa").await;
    let trained = app
        .partner_with("pb", &["exchange-transport", "m365-fundamentals"])
        .await;
    let bare = app
        .post("/v1/classify", &untrained, &mail_flow("C-1"))
        .await;
    assert_eq!(bare.status, StatusCode::OK, "{:?}", bare.body);
    assert_eq!(bare.body["decision"], "escalate");
    let gaps: Vec<&str> = bare.body["gaps"]["training"]
        .as_array()
        .unwrap()
        .iter()
        .map(|gap| gap["item"].as_str().unwrap())
        .collect();
    assert!(gaps.contains(&"exchange-transport"), "{gaps:?}");
    let equipped = app.post("/v1/classify", &trained, &mail_flow("C-1")).await;
    assert!(equipped.body["gaps"]["training"]
        .as_array()
        .unwrap()
        .iter()
        .all(|gap| gap["item"] != "exchange-transport"));
    assert_eq!(app.case_count().await, 0);

    let mut with_partner = mail_flow("C-1");
    with_partner["partner"] = json!({"id": "pz"});
    let refused = app.post("/v1/classify", &untrained, &with_partner).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::BAD_REQUEST, "unknown_field")
    );
    let mut undeclared = mail_flow("C-1");
    undeclared["category"] = json!("mail_flwo");
    let outside = app.post("/v1/classify", &untrained, &undeclared).await;
    assert_eq!(
        (outside.code(), outside.field()),
        ("invalid_field", "category")
    );
}

#[tokio::test]
async fn vianet_and_admins_may_classify_with_a_partner_object_in_the_body() {
    let app = spawn_sqlite().await;
    let vianet = app.token(Role::Vianet).await;
    let admin = app.token(Role::Admin).await;
    let mut case = mail_flow("C-2");
    case["partner"] = json!({"id": "p-shanghai", "training": ["exchange-transport"], "tooling": ["message-trace"]});
    for token in [&vianet, &admin] {
        let answer = app.post("/v1/classify", token, &case).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!(answer.body["decision"], "partner", "{:?}", answer.body);
    }
    let without = app.post("/v1/classify", &vianet, &mail_flow("C-2")).await;
    assert_eq!(without.body["decision"], "escalate");
}

#[tokio::test]
async fn a_broken_reload_keeps_the_running_policy_and_a_good_one_swaps_it() {
    let rules = tempfile::tempdir().unwrap();
    copy_rules(rules.path());
    let app = spawn_sqlite_with(rules.path()).await;
    let admin = app.token(Role::Admin).await;
    let partner = app.partner("pa").await;
    let before = app.post("/v1/classify", &partner, &mail_flow("R-1")).await;
    let running = before.body["policy"].as_str().unwrap().to_owned();

    std::fs::write(
        rules.path().join("zz_broken.rules"),
        "rule \"typo\" {\n  when categroy == \"mail_flow\"\n  tier escalate\n}\n",
    )
    .unwrap();
    let refused = app
        .call(Method::POST, "/v1/policy/reload", Some(&admin), None)
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "policy_invalid"),
        "{:?}",
        refused.body
    );
    let diagnostics = refused.body["error"]["diagnostics"].as_array().unwrap();
    assert!(!diagnostics.is_empty());
    let first = &diagnostics[0];
    assert_eq!(first["file"], "zz_broken.rules");
    assert_eq!(first["severity"], "error");
    assert!(
        first["line"].as_u64().unwrap() >= 1 && first["column"].as_u64().unwrap() >= 1,
        "{first}"
    );
    for key in [
        "file", "line", "column", "severity", "message", "help", "notes",
    ] {
        assert!(
            first.get(key).is_some(),
            "diagnostic lacks `{key}`: {first}"
        );
    }
    let still = app.post("/v1/classify", &partner, &mail_flow("R-1")).await;
    assert_eq!(still.status, StatusCode::OK);
    assert_eq!(still.body["policy"], running.as_str());

    std::fs::write(
        rules.path().join("zz_broken.rules"),
        "# An extra comment changes the policy's hash, not its decisions.\n",
    )
    .unwrap();
    let reloaded = app
        .call(Method::POST, "/v1/policy/reload", Some(&admin), None)
        .await;
    assert_eq!(reloaded.status, StatusCode::OK, "{:?}", reloaded.body);
    assert_eq!(reloaded.body["previous"], running.as_str());
    let new_hash = reloaded.body["policy"].as_str().unwrap();
    assert_ne!(new_hash, running);
    let after = app.post("/v1/classify", &partner, &mail_flow("R-1")).await;
    assert_eq!(after.body["policy"], new_hash);

    std::fs::remove_dir_all(rules.path()).unwrap();
    let gone = app
        .call(Method::POST, "/v1/policy/reload", Some(&admin), None)
        .await;
    assert_eq!(gone.code(), "policy_invalid");
    let kept = app.post("/v1/classify", &partner, &mail_flow("R-1")).await;
    assert_eq!(kept.body["policy"], new_hash);
}

#[tokio::test]
async fn reopening_re_classifies_with_the_partners_current_capabilities() {
    let app = spawn_sqlite().await;
    let partner = app.partner("pa").await;
    let vianet = app.token(Role::Vianet).await;
    let created = app.post("/v1/cases", &partner, &mail_flow("RE-1")).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    for (token, body) in [
        (&vianet, json!({"to": "acknowledged", "version": 1})),
        (&vianet, json!({"to": "resolved", "version": 2})),
    ] {
        let answer = app.transition(&id, token, body).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    }
    let equipped = Capabilities {
        id: "pa".to_owned(),
        training: [
            "exchange-transport".to_owned(),
            "m365-fundamentals".to_owned(),
        ]
        .into_iter()
        .collect(),
        tooling: ["message-trace".to_owned()].into_iter().collect(),
        ..Capabilities::default()
    };
    app.store
        .set_capabilities("pa", &equipped, Utc::now())
        .await
        .unwrap();

    let reopened = app
        .transition(&id, &partner, json!({"to": "reopened", "version": 3}))
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{:?}", reopened.body);
    assert_eq!(reopened.body["stage"], "partner_working");
    assert_eq!(reopened.body["decision"], "partner");
    assert_eq!(reopened.body["reopened"], 1);
    let events = app.get(&format!("/v1/cases/{id}/events"), &partner).await;
    let last = (*history(&events.body).last().unwrap()).clone();
    assert_eq!(
        (
            last["kind"].as_str(),
            last["from"].as_str(),
            last["to"].as_str()
        ),
        (Some("reopen"), Some("resolved"), Some("partner_working"))
    );
    assert_eq!(last["outcome"]["decision"], "partner");

    let again = app
        .transition(&id, &partner, json!({"to": "reopened", "version": 4}))
        .await;
    assert_eq!(again.code(), "move_refused");
    assert!(
        again.message().contains("partner_working"),
        "{}",
        again.message()
    );
}

#[tokio::test]
async fn a_reopen_is_classified_with_the_reopen_it_makes_counted() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("main.rules"),
        "rule \"reopened cases escalate\" {\n  when reopened >= 1\n  then escalate\n  \
         because \"reopened {reopened} times\"\n}\n\ndefault partner because \"first line\"\n",
    )
    .unwrap();
    let app = spawn_sqlite_with(rules.path()).await;
    let partner = app.partner("pa").await;
    let created = app.post("/v1/cases", &partner, &mail_flow("RO-1")).await;
    assert_eq!(created.body["stage"], "partner_working");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let resolved = app
        .transition(&id, &partner, json!({"to": "resolved", "version": 1}))
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{:?}", resolved.body);

    let reopened = app
        .transition(&id, &partner, json!({"to": "reopened", "version": 2}))
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{:?}", reopened.body);
    assert_eq!(reopened.body["reopened"], 1);
    assert_eq!(reopened.body["stage"], "escalated");
    assert_eq!(
        reopened.body["outcome"]["reasons"],
        json!(["reopened 1 times"])
    );
}
