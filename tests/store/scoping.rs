//! Who sees what: a partner only its own cases, 21Vianet only cases that
//! are or were escalated; anything else is answered as not found.

use escalator::case::Tier;
use escalator::store::{CaseQuery, Scope, Store, StoreError};
use escalator::workflow::Stage;

use crate::fixtures::*;

fn is_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound { what: "case", .. }))
}

async fn another_partners_case_is_not_found_and_cannot_be_moved(store: Store) {
    add_partner(&store, "pa").await;
    add_partner(&store, "pb").await;
    let case = submit(&store, "pa", "CASE-1", Tier::SelfService, None).await;
    let pb = Scope::Partner("pb".to_owned());
    assert!(is_not_found(store.case(&case.id, &pb).await));
    assert!(is_not_found(store.events(&case.id, &pb).await));
    assert!(is_not_found(
        try_move(
            &store,
            &case,
            "partner_working",
            &partner_actor("pb"),
            None,
            at(1)
        )
        .await
    ));
    assert!(store
        .list_cases(&CaseQuery::new(pb))
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        store.case(&case.id, &Scope::All).await.unwrap(),
        case,
        "nothing changed"
    );
}

async fn vianet_sees_only_cases_that_were_ever_escalated(store: Store) {
    add_partner(&store, "pa").await;
    let pa = partner_actor("pa");
    let quiet = submit(&store, "pa", "CASE-1", Tier::SelfService, None).await;
    let loud = submit(&store, "pa", "CASE-2", Tier::Partner, None).await;
    assert!(is_not_found(store.case(&quiet.id, &Scope::Vianet).await));
    assert!(is_not_found(store.case(&loud.id, &Scope::Vianet).await));
    let loud = step(
        &store,
        &loud,
        Stage::Escalated,
        &pa,
        Some("beyond us"),
        at(1),
    )
    .await;
    let loud = step(
        &store,
        &loud,
        Stage::PartnerWorking,
        &vianet(),
        Some("not ours"),
        at(2),
    )
    .await;
    // Returned, but 21Vianet keeps seeing it.
    assert_eq!(
        store.case(&loud.id, &Scope::Vianet).await.unwrap().stage,
        Stage::PartnerWorking
    );
    let listed: Vec<String> = store
        .list_cases(&CaseQuery::new(Scope::Vianet))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|case| case.id)
        .collect();
    assert_eq!(listed, vec![loud.id.clone()]);
    assert!(is_not_found(
        try_move(&store, &quiet, "closed", &vianet(), None, at(3)).await
    ));
}

contract_tests!(
    another_partners_case_is_not_found_and_cannot_be_moved,
    vianet_sees_only_cases_that_were_ever_escalated,
);
