//! Idempotent intake: the parsed case decides, not the bytes.

use escalator::case::{Case, Tier};
use escalator::store::{CaseQuery, Scope, Store, StoreError};
use serde_json::json;

use crate::fixtures::*;

async fn the_same_case_resubmitted_in_another_spelling_returns_the_stored_case(store: Store) {
    add_partner(&store, "pa").await;
    let first = store
        .intake(
            "pa",
            &case("CASE-9"),
            &outcome(Tier::Escalate, Some(30)),
            &settings(),
            t0(),
        )
        .await
        .unwrap();
    assert!(first.created);
    // Other key order, `B` for `moderate`, attempts listed in another order.
    let respelled = json!({
        "attempted": ["ran message trace", "checked service health"],
        "severity": "B",
        "description": "Since 09:00 no outbound mail leaves the tenant.",
        "subject": "Outbound mail stuck in queue",
        "category": "mail_flow",
        "product": "m365",
        "contact": {"email": "li.wei@contoso.example", "name": "Li Wei"},
        "customer": {"name": "Contoso Ltd", "tenant": "contoso.partner.onmschina.cn"},
        "external_id": "CASE-9"
    });
    let again = store
        .intake(
            "pa",
            &Case::from_json(&respelled).unwrap(),
            &outcome(Tier::Escalate, Some(30)),
            &settings(),
            at(5),
        )
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.case, first.case);
    let page = store.list_cases(&CaseQuery::new(Scope::All)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        store
            .events(&first.case.id, &Scope::All)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.case_emails(&first.case.id).await.unwrap().len(), 1);
}

async fn a_different_case_under_the_same_external_id_is_a_conflict_and_writes_nothing(
    store: Store,
) {
    add_partner(&store, "pa").await;
    let first = submit(&store, "pa", "CASE-9", Tier::Escalate, None).await;
    let mut body = case_json("CASE-9");
    body["severity"] = json!("critical");
    let error = store
        .intake(
            "pa",
            &Case::from_json(&body).unwrap(),
            &outcome(Tier::Escalate, None),
            &settings(),
            at(1),
        )
        .await
        .unwrap_err();
    match error {
        StoreError::Conflict {
            external_id,
            case_id,
        } => {
            assert_eq!(external_id, "CASE-9");
            assert_eq!(case_id, first.id);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store
            .list_cases(&CaseQuery::new(Scope::All))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(store.case(&first.id, &Scope::All).await.unwrap(), first);
    assert_eq!(store.case_emails(&first.id).await.unwrap().len(), 1);
}

async fn the_same_external_id_from_two_partners_is_two_cases(store: Store) {
    add_partner(&store, "pa").await;
    add_partner(&store, "pb").await;
    let a = submit(&store, "pa", "CASE-1", Tier::Partner, None).await;
    let b = submit(&store, "pb", "CASE-1", Tier::Partner, None).await;
    assert_ne!(a.id, b.id);
}

async fn intake_for_an_unknown_partner_is_not_found_and_stores_nothing(store: Store) {
    let error = store
        .intake(
            "ghost",
            &case("CASE-1"),
            &outcome(Tier::Partner, None),
            &settings(),
            t0(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::NotFound {
                what: "partner",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(store
        .list_cases(&CaseQuery::new(Scope::All))
        .await
        .unwrap()
        .items
        .is_empty());
}

async fn a_stored_case_reads_back_in_the_contract_shape(store: Store) {
    add_partner(&store, "pa").await;
    let stored = submit(&store, "pa", "CASE-1042", Tier::Escalate, Some(60)).await;
    assert!(
        stored.id.starts_with("c_") && stored.id.len() >= 14,
        "{}",
        stored.id
    );
    let json = stored.to_json(at(1));
    assert_eq!(json["stage"], "escalated");
    assert_eq!(json["decision"], "escalate");
    assert_eq!(json["version"], 1);
    assert_eq!(json["reopened"], 0);
    assert_eq!(json["vianet_case_id"], serde_json::Value::Null);
    assert_eq!(json["created_at"], "2026-11-23T13:00:00Z");
    assert_eq!(
        json["deadline"],
        json!({"kind": "acknowledge", "at": "2026-11-23T14:00:00Z", "remaining_seconds": 3540})
    );
    assert_eq!(json["case"]["severity"], "moderate");
    assert_eq!(json["outcome"]["policy"], "sha256:0123");
    let overdue = stored.to_json(at(61));
    assert_eq!(overdue["deadline"]["remaining_seconds"], -60);
    assert_eq!(stored.parsed_case().unwrap(), case("CASE-1042"));
}

async fn cases_are_listed_newest_first_with_a_cursor(store: Store) {
    add_partner(&store, "pa").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let stored = store
            .intake(
                "pa",
                &case(&format!("CASE-{n}")),
                &outcome(Tier::Partner, None),
                &settings(),
                at(n),
            )
            .await
            .unwrap();
        ids.push(stored.case.id);
    }
    ids.reverse();
    let mut query = CaseQuery::new(Scope::Partner("pa".to_owned()));
    query.limit = 2;
    let mut seen = Vec::new();
    loop {
        let page = store.list_cases(&query).await.unwrap();
        seen.extend(page.items.iter().map(|case| case.id.clone()));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    query.cursor = Some("not-a-cursor".to_owned());
    assert!(matches!(
        store.list_cases(&query).await,
        Err(StoreError::BadCursor)
    ));
    let mut by_stage = CaseQuery::new(Scope::All);
    by_stage.stage = Some(escalator::workflow::Stage::Escalated);
    assert!(store.list_cases(&by_stage).await.unwrap().items.is_empty());
}

contract_tests!(
    the_same_case_resubmitted_in_another_spelling_returns_the_stored_case,
    a_different_case_under_the_same_external_id_is_a_conflict_and_writes_nothing,
    the_same_external_id_from_two_partners_is_two_cases,
    intake_for_an_unknown_partner_is_not_found_and_stores_nothing,
    a_stored_case_reads_back_in_the_contract_shape,
    cases_are_listed_newest_first_with_a_cursor,
);
