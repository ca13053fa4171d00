//! Deadlines that move the case (the partner's resolution deadline, the
//! auto-close), the paused clock of awaiting_info, and deadlines that a
//! manual move cleared first.

use chrono::Duration;
use escalator::case::Tier;
use escalator::store::{Scope, Store};
use escalator::telemetry::Metrics;
use escalator::workflow::{DeadlineKind, Stage};

use crate::fixtures::*;
use crate::helpers::*;

async fn a_passed_partner_deadline_escalates_the_case_once_through_the_normal_move(store: Store) {
    add_partner(&store, "pa").await;
    let case = submit(&store, "pa", "CASE-1", Tier::Partner, Some(60)).await;
    let metrics = Metrics::new();
    let worker = worker_with(&store, "one", &metrics);

    assert_eq!(
        pass(&worker, at(59)).await,
        vec![],
        "not due a minute early"
    );
    assert_eq!(
        pass(&worker, at(60)).await,
        vec![("resolution", "escalated")]
    );
    assert_eq!(
        pass(&worker, at(60)).await,
        vec![],
        "a second pass at the same time"
    );
    assert_eq!(pass(&worker, at(61)).await, vec![]);

    let moved = store.case(&case.id, &Scope::All).await.unwrap();
    assert_eq!(
        (moved.stage, moved.version),
        (Stage::Escalated, case.version + 1)
    );
    assert!(moved.ever_escalated, "21Vianet sees it now");
    let events = deadline_events(&store, &case.id).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["actor"]["role"], "system");
    assert_eq!(event["deadline_kind"], "resolution");
    assert_eq!(event["action"], "escalate");
    assert_eq!(
        (&event["from"], &event["to"]),
        (&"partner_working".into(), &"escalated".into())
    );
    assert_eq!(
        event["reason"],
        "the partner's resolution deadline of 1h passed at 2026-11-23T14:00:00Z"
    );
    assert_eq!(email_events(&store, &case.id).await, vec!["escalated"]);
    let emails = store.case_emails(&case.id).await.unwrap();
    assert_eq!(
        (emails[0].to.clone(), emails[0].cc.clone()),
        (vec![DESK.to_owned()], vec!["pa@partner.example".to_owned()])
    );
    let acknowledge = moved.deadline.unwrap();
    assert_eq!(
        (acknowledge.kind, acknowledge.due_at),
        (
            DeadlineKind::Acknowledge,
            Some(at(60) + Duration::hours(24))
        ),
        "the per-severity acknowledgement default (moderate) starts at the escalation"
    );
    assert_eq!(counted(&metrics, "resolution", "escalated"), 1);
}

async fn a_resolved_case_closes_after_the_auto_close_delay(store: Store) {
    add_partner(&store, "pa").await;
    let pa = partner_actor("pa");
    let case = submit(&store, "pa", "CASE-1", Tier::Partner, None).await;
    assert_eq!(case.deadline, None, "no `within`, no partner deadline");
    let resolved = step(&store, &case, Stage::Resolved, &pa, None, at(10)).await;
    let worker = worker(&store, "one");
    let closes_at = at(10) + Duration::days(7);

    assert_eq!(
        pass(&worker, closes_at - Duration::seconds(1)).await,
        vec![]
    );
    assert_eq!(pass(&worker, closes_at).await, vec![("close", "closed")]);
    assert_eq!(pass(&worker, closes_at + Duration::days(30)).await, vec![]);

    let closed = store.case(&case.id, &Scope::All).await.unwrap();
    assert_eq!(
        (closed.stage, closed.version),
        (Stage::Closed, resolved.version + 1)
    );
    assert_eq!(closed.deadline, None);
    let events = deadline_events(&store, &case.id).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["deadline_kind"], "close");
    assert_eq!(events[0]["action"], "close");
    assert_eq!(
        (&events[0]["from"], &events[0]["to"]),
        (&"resolved".into(), &"closed".into())
    );
    assert_eq!(
        email_events(&store, &case.id).await,
        Vec::<String>::new(),
        "closing sends nothing"
    );
}

async fn awaiting_info_pauses_the_clock_and_supplying_the_information_resumes_it(store: Store) {
    add_partner(&store, "pa").await;
    let pa = partner_actor("pa");
    let case = submit(&store, "pa", "CASE-1", Tier::Escalate, Some(30)).await;
    let case = step(&store, &case, Stage::Acknowledged, &vianet(), None, at(1)).await;
    let asked_at = at(1) + Duration::days(1);
    let case = step(
        &store,
        &case,
        Stage::AwaitingInfo,
        &vianet(),
        Some("logs?"),
        asked_at,
    )
    .await;
    let worker = worker(&store, "one");

    let long_after = at(1) + Duration::days(30);
    assert_eq!(
        pass(&worker, long_after).await,
        vec![],
        "nothing fires while paused"
    );
    let paused = store.case(&case.id, &Scope::All).await.unwrap();
    assert_eq!(paused.stage, Stage::AwaitingInfo);
    assert_eq!(
        paused
            .deadline
            .as_ref()
            .and_then(|deadline| deadline.remaining_ms),
        Some(Duration::days(4).num_milliseconds()),
        "the 5-day target had 4 days left when 21Vianet asked"
    );

    let case = step(
        &store,
        &paused,
        Stage::Acknowledged,
        &pa,
        Some("logs attached"),
        long_after,
    )
    .await;
    let due = long_after + Duration::days(4);
    assert_eq!(
        case.deadline.as_ref().and_then(|deadline| deadline.due_at),
        Some(due)
    );
    assert_eq!(
        pass(&worker, due - Duration::days(1) - Duration::seconds(1)).await,
        vec![]
    );
    assert_eq!(
        pass(&worker, due - Duration::days(1)).await,
        vec![("resolution", "warning")],
        "the warning at 80% of the 5-day span, counted on the resumed clock"
    );
    assert_eq!(pass(&worker, due).await, vec![("resolution", "reminder")]);
    let stage = store.case(&case.id, &Scope::All).await.unwrap().stage;
    assert_eq!(stage, Stage::Acknowledged, "reminders never move the case");
}

async fn a_reminder_sent_before_a_pause_is_not_repeated_when_the_information_comes(store: Store) {
    add_partner(&store, "pa").await;
    let pa = partner_actor("pa");
    let case = submit(&store, "pa", "CASE-1", Tier::Escalate, Some(30)).await;
    let case = step(&store, &case, Stage::Acknowledged, &vianet(), None, at(1)).await;
    let worker = worker(&store, "one");
    let due = at(1) + Duration::days(5);
    assert_eq!(
        pass(&worker, due - Duration::days(1)).await,
        vec![("resolution", "warning")]
    );
    assert_eq!(pass(&worker, due).await, vec![("resolution", "reminder")]);

    // One hour after the first reminder 21Vianet asks for logs; they come
    // two days later. The clock stood still meanwhile: on the running clock
    // the first reminder went out one hour ago.
    let asked_at = due + Duration::hours(1);
    let case = step(
        &store,
        &case,
        Stage::AwaitingInfo,
        &vianet(),
        Some("logs?"),
        asked_at,
    )
    .await;
    let supplied_at = asked_at + Duration::days(2);
    let case = step(
        &store,
        &case,
        Stage::Acknowledged,
        &pa,
        Some("logs attached"),
        supplied_at,
    )
    .await;
    let resumed_due = supplied_at - Duration::hours(1);
    assert_eq!(
        case.deadline.as_ref().and_then(|deadline| deadline.due_at),
        Some(resumed_due)
    );
    assert_eq!(
        pass(&worker, supplied_at).await,
        vec![],
        "the second reminder is owed one span after the first, not when the information comes"
    );
    let second = resumed_due + Duration::days(5);
    assert_eq!(pass(&worker, second - Duration::seconds(1)).await, vec![]);
    assert_eq!(
        pass(&worker, second).await,
        vec![("resolution", "reminder")]
    );
    let notices: Vec<String> = deadline_events(&store, &case.id)
        .await
        .iter()
        .map(|event| event["notice"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        notices,
        ["deadline_warning", "deadline_overdue", "deadline_overdue"]
    );
}

async fn a_deadline_cleared_by_a_manual_move_before_it_passes_does_nothing(store: Store) {
    add_partner(&store, "pa").await;
    let pa = partner_actor("pa");
    let resolved_first = submit(&store, "pa", "CASE-1", Tier::Partner, Some(60)).await;
    let resolved_first = step(&store, &resolved_first, Stage::Resolved, &pa, None, at(30)).await;
    let escalated_first = submit(&store, "pa", "CASE-2", Tier::Partner, Some(60)).await;
    let escalated_first = step(
        &store,
        &escalated_first,
        Stage::Escalated,
        &pa,
        Some("the customer is losing mail"),
        at(30),
    )
    .await;
    let worker = worker(&store, "one");

    assert_eq!(pass(&worker, at(61)).await, vec![]);
    assert_eq!(pass(&worker, at(120)).await, vec![]);
    for case in [&resolved_first, &escalated_first] {
        let now = store.case(&case.id, &Scope::All).await.unwrap();
        assert_eq!((now.stage, now.version), (case.stage, case.version));
        assert_eq!(deadline_events(&store, &case.id).await.len(), 0);
    }
}

async fn overdue_cases_are_counted_by_stage_and_paused_ones_are_not(store: Store) {
    add_partner(&store, "pa").await;
    submit(&store, "pa", "CASE-1", Tier::Escalate, Some(30)).await;
    submit(&store, "pa", "CASE-2", Tier::Escalate, Some(90)).await;
    let working = submit(&store, "pa", "CASE-3", Tier::Partner, Some(30)).await;
    let paused = submit(&store, "pa", "CASE-4", Tier::Escalate, Some(30)).await;
    let paused = step(&store, &paused, Stage::Acknowledged, &vianet(), None, at(1)).await;
    step(
        &store,
        &paused,
        Stage::AwaitingInfo,
        &vianet(),
        Some("logs?"),
        at(2),
    )
    .await;

    let overdue = store.overdue_by_stage(at(60)).await.unwrap();
    assert_eq!(
        overdue,
        vec![(Stage::Escalated, 1), (Stage::PartnerWorking, 1)]
    );
    assert_eq!(working.stage, Stage::PartnerWorking);
    assert_eq!(store.overdue_by_stage(at(0)).await.unwrap(), vec![]);
}

contract_tests!(
    a_passed_partner_deadline_escalates_the_case_once_through_the_normal_move,
    a_resolved_case_closes_after_the_auto_close_delay,
    awaiting_info_pauses_the_clock_and_supplying_the_information_resumes_it,
    a_reminder_sent_before_a_pause_is_not_repeated_when_the_information_comes,
    a_deadline_cleared_by_a_manual_move_before_it_passes_does_nothing,
    overdue_cases_are_counted_by_stage_and_paused_ones_are_not,
);
