//! Several workers on one database: live leases are respected, expired ones
//! are taken over, and a worker acting on a claim it lost changes nothing.

use std::time::Duration as StdDuration;

use chrono::Duration;
use escalator::case::Tier;
use escalator::mail::EmailEvent;
use escalator::store::{DeadlineNotice, Scope, Store, StoreError};
use escalator::workflow::{Actor, DeadlineKind, MoveRequest, Stage, Target, Trigger};

use crate::fixtures::*;
use crate::helpers::*;

/// The default lease (60 s) of `Settings::default()`.
const LEASE: StdDuration = StdDuration::from_secs(60);

async fn a_move_claimed_by_a_stalled_worker_is_taken_over_after_the_lease_and_happens_once(
    store: Store,
) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::Partner, Some(60)).await;
    let stalled = store
        .claim_due_deadlines("stalled", at(60), LEASE, 10)
        .await
        .unwrap();
    assert_eq!(stalled.len(), 1);
    let live = worker(&store, "live");

    assert_eq!(
        pass(&live, at(60)).await,
        vec![],
        "the stalled worker's lease still holds"
    );
    let lapsed = at(60) + Duration::seconds(60);
    assert_eq!(pass(&live, lapsed).await, vec![("resolution", "escalated")]);

    // The stalled worker wakes up and acts on its old claim.
    let mut request = MoveRequest::to(Target::Stage(Stage::Escalated), stalled[0].version);
    request.trigger = Trigger::Deadline(DeadlineKind::Resolution);
    let late = store
        .change_stage(
            &case.id,
            &Scope::All,
            &request,
            &Actor::System,
            &settings(),
            lapsed,
        )
        .await;
    assert!(
        matches!(late, Err(StoreError::VersionConflict { current: 2 })),
        "{late:?}"
    );
    assert_eq!(deadline_events(&store, &case.id).await.len(), 1);
}

async fn a_notice_claimed_by_a_stalled_worker_is_sent_once_by_whoever_holds_the_claim(
    store: Store,
) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::Escalate, Some(100)).await;
    let stalled = store
        .claim_due_deadlines("stalled", at(80), LEASE, 10)
        .await
        .unwrap();
    let claim = &stalled[0];
    let live = worker(&store, "live");
    let lapsed = at(81);
    assert_eq!(pass(&live, lapsed).await, vec![("acknowledge", "warning")]);

    let mut warned = claim.deadline.clone();
    warned.warned = true;
    warned.next_action_at = warned.due_at;
    let notice = DeadlineNotice {
        version: claim.version,
        email: EmailEvent::DeadlineWarning,
        deadline: warned,
    };
    let late = store
        .record_claimed_notice(claim, &notice, &settings(), lapsed)
        .await
        .unwrap();
    assert_eq!(
        late, None,
        "the claim was taken over: the late notice changes nothing"
    );
    assert_eq!(deadline_events(&store, &case.id).await.len(), 1);
    assert_eq!(
        email_events(&store, &case.id).await,
        ["escalated", "deadline_warning"]
    );
}

async fn two_workers_passing_at_once_act_on_each_deadline_exactly_once(store: Store) {
    add_partner(&store, "pa").await;
    let mut ids = Vec::new();
    for n in 0..60 {
        let tier = if n % 2 == 0 {
            Tier::Partner
        } else {
            Tier::Escalate
        };
        ids.push(
            submit(&store, "pa", &format!("CASE-{n}"), tier, Some(30))
                .await
                .id,
        );
    }
    let first = worker(&store, "first");
    let second = worker(&store, "second");
    let (a, b) = tokio::join!(first.pass(at(31)), second.pass(at(31)));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.acted.len() + b.acted.len(), 60, "{a:?} {b:?}");
    for id in &ids {
        assert_eq!(deadline_events(&store, id).await.len(), 1, "case {id}");
    }
    let (a, b) = tokio::join!(first.pass(at(31)), second.pass(at(31)));
    assert_eq!(a.unwrap().acted.len() + b.unwrap().acted.len(), 0);
}

contract_tests!(
    a_move_claimed_by_a_stalled_worker_is_taken_over_after_the_lease_and_happens_once,
    a_notice_claimed_by_a_stalled_worker_is_sent_once_by_whoever_holds_the_claim,
    two_workers_passing_at_once_act_on_each_deadline_exactly_once,
);
