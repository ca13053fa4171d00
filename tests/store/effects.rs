//! Outbox rows and deadline rows, as the Emails and Deadlines tables promise.

use chrono::Duration;
use escalator::case::Tier;
use escalator::mail::EmailEvent;
use escalator::store::{DeadlineNotice, Scope, Store, StoreError};
use escalator::workflow::{DeadlineKind, Stage};

use crate::fixtures::*;

async fn an_escalation_queues_one_threaded_email_per_event(store: Store) {
    add_partner(&store, "pa").await;
    let pa = partner_actor("pa");
    let case = submit(&store, "pa", "CASE-1", Tier::Escalate, Some(30)).await;
    let case = step(&store, &case, Stage::Acknowledged, &vianet(), None, at(1)).await;
    let case = step(
        &store,
        &case,
        Stage::AwaitingInfo,
        &vianet(),
        Some("logs?"),
        at(2),
    )
    .await;
    let case = step(
        &store,
        &case,
        Stage::Acknowledged,
        &pa,
        Some("logs attached"),
        at(3),
    )
    .await;
    let case = step(&store, &case, Stage::Resolved, &vianet(), None, at(4)).await;
    step(&store, &case, Stage::Closed, &pa, None, at(5)).await;

    let emails = store.case_emails(&case.id).await.unwrap();
    let summary: Vec<(i64, &str, Vec<String>, Vec<String>)> = emails
        .iter()
        .map(|email| {
            (
                email.event_seq,
                email.event.as_str(),
                email.to.clone(),
                email.cc.clone(),
            )
        })
        .collect();
    let partner_desk = "pa@partner.example".to_owned();
    assert_eq!(
        summary,
        vec![
            (
                1,
                "escalated",
                vec![DESK.to_owned(), "exchange-team@21vianet.example".to_owned()],
                vec![partner_desk.clone()]
            ),
            (2, "acknowledged", vec![partner_desk.clone()], vec![]),
            (3, "info_requested", vec![partner_desk.clone()], vec![]),
            (4, "info_supplied", vec![DESK.to_owned()], vec![]),
            (5, "resolved", vec![partner_desk.clone()], vec![]),
        ],
        "closing sends nothing"
    );
    let root = format!("<{}.1.escalated@localhost>", case.id);
    assert_eq!(emails[0].message_id, root);
    assert_eq!(emails[0].dedupe_key, format!("{}:1:escalated", case.id));
    assert_eq!(emails[0].payload.thread_root, None);
    assert_eq!(emails[0].status, "pending");
    for email in &emails[1..] {
        assert_eq!(email.payload.thread_root.as_deref(), Some(root.as_str()));
        assert_eq!(
            email.message_id,
            format!(
                "<{}.{}.{}@localhost>",
                case.id, email.event_seq, email.event
            )
        );
    }
    assert_eq!(emails[2].payload.reason.as_deref(), Some("logs?"));
    assert_eq!(emails[0].payload.partner.email, partner_desk);
    assert_eq!(emails[0].payload.case["external_id"], "CASE-1");
}

async fn deadlines_follow_the_stage_and_awaiting_info_keeps_the_remaining_time(store: Store) {
    add_partner(&store, "pa").await;
    let pa = partner_actor("pa");
    let case = submit(&store, "pa", "CASE-1", Tier::Partner, Some(120)).await;
    let deadline = case.deadline.clone().unwrap();
    assert_eq!(
        (deadline.kind, deadline.due_at),
        (DeadlineKind::Resolution, Some(at(120)))
    );
    assert_eq!(
        deadline.next_action_at, deadline.due_at,
        "no warning while the partner works"
    );

    let case = step(&store, &case, Stage::Escalated, &pa, Some("stuck"), at(10)).await;
    let deadline = case.deadline.clone().unwrap();
    // Escalated by the partner: the moderate acknowledgement default (24h), warning at 80%.
    assert_eq!(
        (deadline.kind, deadline.span_ms),
        (DeadlineKind::Acknowledge, 24 * 3_600_000)
    );
    assert_eq!(deadline.due_at, Some(at(10) + Duration::hours(24)));
    assert_eq!(
        deadline.next_action_at,
        Some(at(10) + Duration::minutes(24 * 48))
    );

    let case = step(&store, &case, Stage::Acknowledged, &vianet(), None, at(20)).await;
    let resolution = case.deadline.clone().unwrap();
    assert_eq!(
        (resolution.kind, resolution.due_at),
        (DeadlineKind::Resolution, Some(at(20) + Duration::days(5)))
    );

    let case = step(
        &store,
        &case,
        Stage::AwaitingInfo,
        &vianet(),
        Some("logs?"),
        at(80),
    )
    .await;
    let paused = case.deadline.clone().unwrap();
    assert_eq!((paused.due_at, paused.next_action_at), (None, None));
    assert_eq!(
        paused.remaining_ms,
        Some((Duration::days(5) - Duration::minutes(60)).num_milliseconds())
    );
    let json = case.to_json(at(5000));
    assert_eq!(json["deadline"]["paused"], true);
    assert_eq!(json["deadline"]["at"], serde_json::Value::Null);
    assert_eq!(json["deadline"]["kind"], "resolution");
    assert_eq!(
        json["deadline"]["remaining_seconds"],
        (Duration::days(5) - Duration::minutes(60)).num_seconds()
    );

    let resumed_at = at(3 * 24 * 60);
    let case = step(
        &store,
        &case,
        Stage::Acknowledged,
        &pa,
        Some("logs attached"),
        resumed_at,
    )
    .await;
    let running = case.deadline.clone().unwrap();
    assert_eq!(
        running.due_at,
        Some(resumed_at + Duration::days(5) - Duration::minutes(60))
    );

    let case = step(&store, &case, Stage::Resolved, &vianet(), None, resumed_at).await;
    let close = case.deadline.clone().unwrap();
    assert_eq!(
        (close.kind, close.due_at),
        (DeadlineKind::Close, Some(resumed_at + Duration::days(7)))
    );
    let case = step(&store, &case, Stage::Closed, &pa, None, resumed_at).await;
    assert_eq!(case.deadline, None);
}

async fn a_deadline_warning_is_recorded_with_its_email_without_moving_the_case(store: Store) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::Escalate, Some(60)).await;
    let mut warned = case.deadline.clone().unwrap();
    warned.warned = true;
    warned.next_action_at = warned.due_at;
    let notice = DeadlineNotice {
        version: case.version,
        email: EmailEvent::DeadlineWarning,
        deadline: warned.clone(),
    };
    let after = store
        .record_deadline_notice(&case.id, &notice, &settings(), at(48))
        .await
        .unwrap();
    assert_eq!(
        (after.stage, after.version),
        (Stage::Escalated, case.version)
    );
    assert_eq!(after.deadline, Some(warned));
    let events = store.events(&case.id, &Scope::All).await.unwrap();
    let last = serde_json::to_value(events.last().unwrap()).unwrap();
    assert_eq!(last["kind"], "deadline");
    assert_eq!(last["deadline_kind"], "acknowledge");
    assert_eq!(last["actor"]["role"], "system");
    let emails = store.case_emails(&case.id).await.unwrap();
    let warning = emails.last().unwrap();
    assert_eq!(warning.event, "deadline_warning");
    assert_eq!(
        (warning.to.clone(), warning.cc.clone()),
        (vec![DESK.to_owned()], vec!["pa@partner.example".to_owned()])
    );
    assert_eq!(
        warning.payload.thread_root.as_deref(),
        Some(emails[0].message_id.as_str())
    );

    let stale = store
        .record_deadline_notice(
            &case.id,
            &DeadlineNotice {
                version: 99,
                ..notice
            },
            &settings(),
            at(49),
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict { current: 1 })),
        "{stale:?}"
    );
}

contract_tests!(
    an_escalation_queues_one_threaded_email_per_event,
    deadlines_follow_the_stage_and_awaiting_info_keeps_the_remaining_time,
    a_deadline_warning_is_recorded_with_its_email_without_moving_the_case,
);
