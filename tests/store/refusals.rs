//! Refused and stale moves change nothing: stage, version, events, emails
//! and deadline stay as they were.

use escalator::case::Tier;
use escalator::store::{CaseRecord, EventRecord, QueuedEmail, Scope, Store, StoreError};
use escalator::workflow::{MoveError, Stage, Target};

use crate::fixtures::*;

async fn snapshot(store: &Store, id: &str) -> (CaseRecord, Vec<EventRecord>, Vec<QueuedEmail>) {
    (
        store.case(id, &Scope::All).await.unwrap(),
        store.events(id, &Scope::All).await.unwrap(),
        store.case_emails(id).await.unwrap(),
    )
}

async fn a_refused_move_names_the_stage_and_changes_nothing(store: Store) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::Escalate, None).await;
    let before = snapshot(&store, &case.id).await;
    let error = try_move(&store, &case, "resolved", &partner_actor("pa"), None, at(1))
        .await
        .unwrap_err();
    match &error {
        StoreError::MoveRefused(MoveError::Refused { from, allowed, .. }) => {
            assert_eq!(*from, Stage::Escalated);
            assert_eq!(allowed, &vec![Target::Stage(Stage::Closed)]);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(error.to_string().contains("`escalated`"), "{error}");
    assert_eq!(snapshot(&store, &case.id).await, before);
}

async fn a_move_without_its_required_reason_is_refused_and_changes_nothing(store: Store) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::Partner, Some(60)).await;
    let before = snapshot(&store, &case.id).await;
    let error = try_move(
        &store,
        &case,
        "escalated",
        &partner_actor("pa"),
        Some("  "),
        at(1),
    )
    .await
    .unwrap_err();
    match &error {
        StoreError::MoveRefused(refusal) => assert_eq!(refusal.field(), Some("reason")),
        other => panic!("expected a missing reason, got {other:?}"),
    }
    assert_eq!(snapshot(&store, &case.id).await, before);
}

async fn a_stale_version_is_a_conflict_and_changes_nothing(store: Store) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::SelfService, None).await;
    let moved = step(
        &store,
        &case,
        Stage::PartnerWorking,
        &partner_actor("pa"),
        None,
        at(1),
    )
    .await;
    let before = snapshot(&store, &case.id).await;
    // `case` still carries version 1.
    let error = try_move(&store, &case, "resolved", &partner_actor("pa"), None, at(2))
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::VersionConflict { current: 2 }),
        "{error:?}"
    );
    assert_eq!(snapshot(&store, &moved.id).await, before);
}

async fn an_unknown_case_is_not_found(store: Store) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::SelfService, None).await;
    let mut ghost = case.clone();
    ghost.id = "c_doesnotexist0000".to_owned();
    let error = try_move(
        &store,
        &ghost,
        "partner_working",
        &partner_actor("pa"),
        None,
        at(1),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, StoreError::NotFound { what: "case", .. }),
        "{error:?}"
    );
}

contract_tests!(
    a_refused_move_names_the_stage_and_changes_nothing,
    a_move_without_its_required_reason_is_refused_and_changes_nothing,
    a_stale_version_is_a_conflict_and_changes_nothing,
    an_unknown_case_is_not_found,
);
