//! A case through every row of the stage table, read back with its history.

use escalator::case::Tier;
use escalator::store::{Scope, Store};
use escalator::workflow::{Actor, DeadlineKind, MoveRequest, Stage, Target, Trigger};

use crate::fixtures::*;

/// An event as (seq, kind, from, to, action).
type Step<'a> = (i64, &'a str, Option<Stage>, Option<Stage>, Option<&'a str>);

async fn every_row_of_the_stage_table_is_applied_and_recorded(store: Store) {
    add_partner(&store, "pa").await;
    let pa = partner_actor("pa");
    use Stage::*;

    // intake → self_service; take; escalate (partner); ack; request info; supply; return;
    // deadline escalation (system); return from escalated; resolve (partner); reopen → escalated;
    // ack; request info; return from awaiting_info; escalate; ack; resolve (vianet); close (partner).
    let case = submit(&store, "pa", "CASE-1", Tier::SelfService, None).await;
    assert_eq!((case.stage, case.version), (SelfService, 1));
    let case = step(&store, &case, PartnerWorking, &pa, None, at(1)).await;
    let case = step(&store, &case, Escalated, &pa, Some("needs 21Vianet"), at(2)).await;
    let mut ack = MoveRequest::to(Target::Stage(Acknowledged), case.version);
    ack.vianet_case_id = Some("VN-77".to_owned());
    let case = store
        .change_stage(
            &case.id,
            &Scope::Vianet,
            &ack,
            &vianet(),
            &settings(),
            at(3),
        )
        .await
        .unwrap();
    assert_eq!(case.vianet_case_id.as_deref(), Some("VN-77"));
    let case = step(
        &store,
        &case,
        AwaitingInfo,
        &vianet(),
        Some("send the trace"),
        at(4),
    )
    .await;
    let case = step(
        &store,
        &case,
        Acknowledged,
        &pa,
        Some("trace attached"),
        at(5),
    )
    .await;
    let case = step(
        &store,
        &case,
        PartnerWorking,
        &vianet(),
        Some("configuration issue"),
        at(6),
    )
    .await;
    let mut by_deadline = MoveRequest::to(Target::Stage(Escalated), case.version);
    by_deadline.trigger = Trigger::Deadline(DeadlineKind::Resolution);
    let case = store
        .change_stage(
            &case.id,
            &Scope::All,
            &by_deadline,
            &Actor::System,
            &settings(),
            at(7),
        )
        .await
        .unwrap();
    let case = step(
        &store,
        &case,
        PartnerWorking,
        &vianet(),
        Some("still yours"),
        at(8),
    )
    .await;
    let case = step(&store, &case, Resolved, &pa, None, at(9)).await;
    let mut reopen = MoveRequest::to(Target::Reopened, case.version);
    reopen.reclassified = Some(outcome(Tier::Escalate, Some(45)));
    let case = store
        .change_stage(&case.id, &Scope::of(&pa), &reopen, &pa, &settings(), at(10))
        .await
        .unwrap();
    assert_eq!(
        (case.stage, case.reopened, case.decision),
        (Escalated, 1, Tier::Escalate)
    );
    let case = step(&store, &case, Acknowledged, &vianet(), None, at(11)).await;
    let case = step(
        &store,
        &case,
        AwaitingInfo,
        &vianet(),
        Some("which users?"),
        at(12),
    )
    .await;
    let case = step(
        &store,
        &case,
        PartnerWorking,
        &vianet(),
        Some("no answer needed"),
        at(13),
    )
    .await;
    let case = step(&store, &case, Escalated, &pa, Some("back again"), at(14)).await;
    let case = step(&store, &case, Acknowledged, &vianet(), None, at(15)).await;
    let case = step(&store, &case, Resolved, &vianet(), None, at(16)).await;
    let case = step(&store, &case, Closed, &pa, None, at(17)).await;
    assert_eq!(case.deadline, None, "a closed case has no deadline");

    let history = store.events(&case.id, &Scope::of(&pa)).await.unwrap();
    let seen: Vec<Step<'_>> = history
        .iter()
        .map(|event| {
            (
                event.seq,
                event.kind.as_str(),
                event.from,
                event.to,
                event.action.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (1, "intake", None, Some(SelfService), Some("intake")),
            (
                2,
                "move",
                Some(SelfService),
                Some(PartnerWorking),
                Some("take")
            ),
            (
                3,
                "move",
                Some(PartnerWorking),
                Some(Escalated),
                Some("escalate")
            ),
            (
                4,
                "move",
                Some(Escalated),
                Some(Acknowledged),
                Some("acknowledge")
            ),
            (
                5,
                "move",
                Some(Acknowledged),
                Some(AwaitingInfo),
                Some("request_info")
            ),
            (
                6,
                "move",
                Some(AwaitingInfo),
                Some(Acknowledged),
                Some("supply_info")
            ),
            (
                7,
                "move",
                Some(Acknowledged),
                Some(PartnerWorking),
                Some("return")
            ),
            (
                8,
                "deadline",
                Some(PartnerWorking),
                Some(Escalated),
                Some("escalate")
            ),
            (
                9,
                "move",
                Some(Escalated),
                Some(PartnerWorking),
                Some("return")
            ),
            (
                10,
                "move",
                Some(PartnerWorking),
                Some(Resolved),
                Some("resolve")
            ),
            (
                11,
                "reopen",
                Some(Resolved),
                Some(Escalated),
                Some("reopen")
            ),
            (
                12,
                "move",
                Some(Escalated),
                Some(Acknowledged),
                Some("acknowledge")
            ),
            (
                13,
                "move",
                Some(Acknowledged),
                Some(AwaitingInfo),
                Some("request_info")
            ),
            (
                14,
                "move",
                Some(AwaitingInfo),
                Some(PartnerWorking),
                Some("return")
            ),
            (
                15,
                "move",
                Some(PartnerWorking),
                Some(Escalated),
                Some("escalate")
            ),
            (
                16,
                "move",
                Some(Escalated),
                Some(Acknowledged),
                Some("acknowledge")
            ),
            (
                17,
                "move",
                Some(Acknowledged),
                Some(Resolved),
                Some("resolve")
            ),
            (18, "move", Some(Resolved), Some(Closed), Some("close")),
        ]
    );
    let json = serde_json::to_value(&history[0]).unwrap();
    assert_eq!(
        json["actor"],
        serde_json::json!({"role": "partner", "id": "pa"})
    );
    assert_eq!(json["outcome"]["policy"], "sha256:0123");
    assert_eq!(json["from"], serde_json::Value::Null);
    assert_eq!(json["at"], "2026-11-23T13:00:00Z");
    let deadline_event = serde_json::to_value(&history[7]).unwrap();
    assert_eq!(deadline_event["actor"]["role"], "system");
    assert_eq!(deadline_event["deadline_kind"], "resolution");
    assert_eq!(history[3].data["vianet_case_id"], "VN-77");
    assert_eq!(history[10].data["outcome"]["decision"], "escalate");
    assert_eq!(history[2].reason.as_deref(), Some("needs 21Vianet"));

    let returned = store.returned_escalations().await.unwrap();
    assert_eq!(
        returned,
        vec![("pa".to_owned(), 3)],
        "returns are counted per partner"
    );
}

async fn the_remaining_rows_close_by_system_withdraw_and_reopen_into_each_working_stage(
    store: Store,
) {
    add_partner(&store, "pa").await;
    let pa = partner_actor("pa");
    use Stage::*;
    let case = submit(&store, "pa", "CASE-2", Tier::SelfService, None).await;
    let case = step(&store, &case, Resolved, &pa, None, at(1)).await;
    let closed = try_move(&store, &case, "closed", &Actor::System, None, at(2))
        .await
        .unwrap();
    assert_eq!(closed.stage, Closed);

    for (external_id, decision, landing) in [
        ("CASE-3", Tier::SelfService, SelfService),
        ("CASE-4", Tier::Partner, PartnerWorking),
    ] {
        let case = submit(&store, "pa", external_id, Tier::Partner, Some(60)).await;
        let case = step(&store, &case, Resolved, &pa, None, at(1)).await;
        let mut reopen = MoveRequest::to(Target::Reopened, case.version);
        reopen.reclassified = Some(outcome(decision, Some(90)));
        let case = store
            .change_stage(&case.id, &Scope::of(&pa), &reopen, &pa, &settings(), at(2))
            .await
            .unwrap();
        assert_eq!((case.stage, case.reopened), (landing, 1));
    }

    let case = submit(&store, "pa", "CASE-5", Tier::Escalate, None).await;
    let withdrawn = step(&store, &case, Closed, &pa, Some("customer fixed it"), at(3)).await;
    let history = store.events(&withdrawn.id, &Scope::All).await.unwrap();
    assert_eq!(history.last().unwrap().action.as_deref(), Some("withdraw"));
    assert_eq!(withdrawn.deadline, None);
    assert!(
        try_move(&store, &withdrawn, "escalated", &pa, Some("again"), at(4))
            .await
            .is_err(),
        "closed is final"
    );
}

contract_tests!(
    every_row_of_the_stage_table_is_applied_and_recorded,
    the_remaining_rows_close_by_system_withdraw_and_reopen_into_each_working_stage,
);
