//! Deadlines that remind without moving the case: 21Vianet's acknowledgement
//! deadline (escalated) and the resolution target (acknowledged).

use chrono::{DateTime, Duration, Utc};
use escalator::case::Tier;
use escalator::store::{Scope, Store};
use escalator::telemetry::Metrics;
use escalator::workflow::Stage;

use crate::fixtures::*;
use crate::helpers::*;

/// The `notice` of each deadline event of a case.
async fn notices(store: &Store, case_id: &str, kind: &str) -> Vec<String> {
    deadline_events(store, case_id)
        .await
        .iter()
        .map(|event| {
            assert_eq!(event["deadline_kind"], kind);
            assert_eq!(event["actor"]["role"], "system");
            assert!(event["from"].is_null() && event["to"].is_null(), "{event}");
            event["notice"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Passes at each time, returning the actions of each pass.
async fn passes(
    store: &Store,
    metrics: &Metrics,
    times: &[DateTime<Utc>],
) -> Vec<Vec<(&'static str, &'static str)>> {
    let worker = worker_with(store, "one", metrics);
    let mut all = Vec::new();
    for &now in times {
        all.push(pass(&worker, now).await);
    }
    all
}

async fn an_unacknowledged_escalation_warns_at_the_share_then_reminds_each_span_up_to_the_limit(
    store: Store,
) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::Escalate, Some(100)).await;
    let metrics = Metrics::new();
    let warning = vec![("acknowledge", "warning")];
    let reminder = vec![("acknowledge", "reminder")];
    let nothing = Vec::new();

    let actions = passes(
        &store,
        &metrics,
        &[
            at(79),
            at(80),
            at(80),
            at(99),
            at(100),
            at(100),
            at(199),
            at(200),
            at(300),
            at(400),
            at(10_000),
        ],
    )
    .await;
    assert_eq!(
        actions,
        vec![
            nothing.clone(),
            warning,
            nothing.clone(),
            nothing.clone(),
            reminder.clone(),
            nothing.clone(),
            nothing.clone(),
            reminder.clone(),
            reminder,
            nothing.clone(),
            nothing,
        ],
        "warning at 80 of 100 minutes, reminders at 100, 200 and 300, then the limit of 3"
    );
    assert_eq!(
        notices(&store, &case.id, "acknowledge").await,
        [
            "deadline_warning",
            "deadline_overdue",
            "deadline_overdue",
            "deadline_overdue"
        ]
    );
    let after = store.case(&case.id, &Scope::All).await.unwrap();
    assert_eq!(
        (after.stage, after.version),
        (Stage::Escalated, case.version)
    );
    let deadline = after.deadline.unwrap();
    assert_eq!(
        (deadline.warned, deadline.reminders, deadline.next_action_at),
        (true, 3, None)
    );
    let emails = store.case_emails(&case.id).await.unwrap();
    let events: Vec<&str> = emails.iter().map(|email| email.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "escalated",
            "deadline_warning",
            "deadline_overdue",
            "deadline_overdue",
            "deadline_overdue"
        ]
    );
    for email in &emails[1..] {
        assert_eq!(
            (email.to.clone(), email.cc.clone()),
            (vec![DESK.to_owned()], vec!["pa@partner.example".to_owned()])
        );
        assert_eq!(
            email.payload.thread_root.as_deref(),
            Some(emails[0].message_id.as_str()),
            "one thread per case"
        );
    }
    assert_eq!(counted(&metrics, "acknowledge", "warning"), 1);
    assert_eq!(counted(&metrics, "acknowledge", "reminder"), 3);
}

async fn an_acknowledged_case_is_warned_and_reminded_against_the_resolution_target(store: Store) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::Escalate, Some(30)).await;
    let case = step(&store, &case, Stage::Acknowledged, &vianet(), None, at(10)).await;
    let start = at(10);
    let day = Duration::days(1);
    let metrics = Metrics::new();

    // The moderate resolution target is 5 days: warning after 4, reminders at 5, 10, 15.
    let actions = passes(
        &store,
        &metrics,
        &[
            start + day * 4 - Duration::seconds(1),
            start + day * 4,
            start + day * 5,
            start + day * 9,
            start + day * 10,
            start + day * 15,
            start + day * 20,
        ],
    )
    .await;
    let flat: Vec<(&str, &str)> = actions.into_iter().flatten().collect();
    assert_eq!(
        flat,
        [
            ("resolution", "warning"),
            ("resolution", "reminder"),
            ("resolution", "reminder"),
            ("resolution", "reminder")
        ]
    );
    assert_eq!(
        notices(&store, &case.id, "resolution").await,
        [
            "deadline_warning",
            "deadline_overdue",
            "deadline_overdue",
            "deadline_overdue"
        ]
    );
    let after = store.case(&case.id, &Scope::All).await.unwrap();
    assert_eq!(
        (after.stage, after.version),
        (Stage::Acknowledged, case.version)
    );
}

async fn a_deadline_found_long_overdue_sends_one_reminder_not_a_burst(store: Store) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::Escalate, Some(60)).await;
    let worker = worker(&store, "one");

    assert_eq!(
        pass(&worker, at(150)).await,
        vec![("acknowledge", "reminder")]
    );
    assert_eq!(pass(&worker, at(150)).await, vec![]);
    assert_eq!(
        pass(&worker, at(179)).await,
        vec![],
        "the next whole span ends at 180"
    );
    assert_eq!(
        pass(&worker, at(180)).await,
        vec![("acknowledge", "reminder")]
    );
    assert_eq!(
        notices(&store, &case.id, "acknowledge").await,
        ["deadline_overdue", "deadline_overdue"],
        "no warning once the deadline has passed"
    );
}

contract_tests!(
    an_unacknowledged_escalation_warns_at_the_share_then_reminds_each_span_up_to_the_limit,
    an_acknowledged_case_is_warned_and_reminded_against_the_resolution_target,
    a_deadline_found_long_overdue_sends_one_reminder_not_a_burst,
);
