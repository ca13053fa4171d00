//! Concurrent writers: one move wins per version, and SQLite never answers
//! "database is locked".

use std::sync::Arc;

use escalator::case::Tier;
use escalator::store::{CaseQuery, Scope, Store, StoreError};
use escalator::workflow::Stage;

use crate::fixtures::*;

async fn of_fifty_concurrent_moves_from_one_version_exactly_one_wins(store: Store) {
    add_partner(&store, "pa").await;
    let case = Arc::new(submit(&store, "pa", "CASE-1", Tier::Escalate, None).await);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let store = store.clone();
        let case = Arc::clone(&case);
        tasks.push(tokio::spawn(async move {
            try_move(&store, &case, "acknowledged", &vianet(), None, at(1)).await
        }));
    }
    let mut won = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(moved) => {
                assert_eq!(moved.stage, Stage::Acknowledged);
                won += 1;
            }
            Err(StoreError::VersionConflict { current: 2 }) => conflicts += 1,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!((won, conflicts), (1, 49));
    assert_eq!(store.events(&case.id, &Scope::All).await.unwrap().len(), 2);
    assert_eq!(store.case_emails(&case.id).await.unwrap().len(), 2);
}

async fn eight_concurrent_writers_all_succeed(store: Store) {
    add_partner(&store, "pa").await;
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..10 {
                let case = submit(
                    &store,
                    "pa",
                    &format!("W{writer}-{n}"),
                    Tier::SelfService,
                    None,
                )
                .await;
                let case = try_move(
                    &store,
                    &case,
                    "partner_working",
                    &partner_actor("pa"),
                    None,
                    at(1),
                )
                .await?;
                try_move(
                    &store,
                    &case,
                    "escalated",
                    &partner_actor("pa"),
                    Some("stuck"),
                    at(2),
                )
                .await?;
            }
            Ok::<(), StoreError>(())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut query = CaseQuery::new(Scope::Vianet);
    query.limit = 200;
    assert_eq!(store.list_cases(&query).await.unwrap().items.len(), 80);
}

async fn concurrent_submissions_of_one_case_store_it_once(store: Store) {
    add_partner(&store, "pa").await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .intake(
                    "pa",
                    &case("CASE-1"),
                    &outcome(Tier::Escalate, None),
                    &settings(),
                    t0(),
                )
                .await
        }));
    }
    let mut created = 0;
    let mut ids = Vec::new();
    for task in tasks {
        let intake = task.await.unwrap().unwrap();
        created += usize::from(intake.created);
        ids.push(intake.case.id);
    }
    ids.dedup();
    assert_eq!((created, ids.len()), (1, 1));
    assert_eq!(store.case_emails(&ids[0]).await.unwrap().len(), 1);
}

contract_tests!(
    concurrent_submissions_of_one_case_store_it_once,
    of_fifty_concurrent_moves_from_one_version_exactly_one_wins,
    eight_concurrent_writers_all_succeed,
);
