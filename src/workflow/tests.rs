//! The stage table, the effects tables and the workflow's global properties.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::case::{Severity, Tier};
use crate::config::{DeadlineSettings, MailSettings};
use crate::mail::EmailEvent;
use crate::policy::{Gaps, Outcome};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 13, 0, 0).unwrap()
}

fn outcome(decision: Tier, within_minutes: Option<u64>) -> Outcome {
    Outcome {
        case: "CASE-1".to_owned(),
        decision,
        reasons: vec!["because".to_owned()],
        deciding_rules: vec!["rule".into()],
        matched_rules: Vec::new(),
        gaps: Gaps::default(),
        within_minutes,
        notify: vec!["mail-team@21vianet.example".into()],
        policy: "sha256:abc".into(),
    }
}

fn partner() -> Actor {
    Actor::Partner {
        id: "pa".to_owned(),
    }
}

fn vianet() -> Actor {
    Actor::Vianet {
        id: "desk".to_owned(),
    }
}

fn request(to: Stage) -> MoveRequest {
    MoveRequest::to(Target::Stage(to), 1)
}

struct Fixture {
    deadlines: DeadlineSettings,
    mail: MailSettings,
    outcome: Outcome,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            deadlines: DeadlineSettings::default(),
            mail: MailSettings::default(),
            outcome: outcome(Tier::Escalate, Some(30)),
        }
    }

    fn context<'a>(
        &'a self,
        current: Option<&'a DeadlineState>,
        thread_root: Option<&'a str>,
    ) -> EffectContext<'a> {
        EffectContext {
            case_id: "c_abc",
            event_seq: 2,
            severity: Severity::Critical,
            outcome: &self.outcome,
            current_deadline: current,
            partner_email: "desk@partner.example",
            thread_root,
            deadlines: &self.deadlines,
            mail: &self.mail,
        }
    }
}

#[test]
fn every_row_of_the_stage_table_is_allowed_for_its_actor() {
    let rows: Vec<(Stage, Target, Actor, Option<&str>)> = vec![
        (
            Stage::SelfService,
            Target::Stage(Stage::PartnerWorking),
            partner(),
            None,
        ),
        (
            Stage::SelfService,
            Target::Stage(Stage::Resolved),
            partner(),
            None,
        ),
        (
            Stage::PartnerWorking,
            Target::Stage(Stage::Resolved),
            partner(),
            None,
        ),
        (
            Stage::PartnerWorking,
            Target::Stage(Stage::Escalated),
            partner(),
            Some("beyond us"),
        ),
        (
            Stage::PartnerWorking,
            Target::Stage(Stage::Escalated),
            Actor::System,
            None,
        ),
        (
            Stage::Escalated,
            Target::Stage(Stage::Acknowledged),
            vianet(),
            None,
        ),
        (
            Stage::Acknowledged,
            Target::Stage(Stage::AwaitingInfo),
            vianet(),
            Some("logs please"),
        ),
        (
            Stage::AwaitingInfo,
            Target::Stage(Stage::Acknowledged),
            partner(),
            Some("here are the logs"),
        ),
        (
            Stage::Escalated,
            Target::Stage(Stage::PartnerWorking),
            vianet(),
            Some("not ours"),
        ),
        (
            Stage::Acknowledged,
            Target::Stage(Stage::PartnerWorking),
            vianet(),
            Some("not ours"),
        ),
        (
            Stage::AwaitingInfo,
            Target::Stage(Stage::PartnerWorking),
            vianet(),
            Some("not ours"),
        ),
        (
            Stage::Acknowledged,
            Target::Stage(Stage::Resolved),
            vianet(),
            None,
        ),
        (
            Stage::Resolved,
            Target::Stage(Stage::Closed),
            partner(),
            None,
        ),
        (
            Stage::Resolved,
            Target::Stage(Stage::Closed),
            Actor::System,
            None,
        ),
        (Stage::Resolved, Target::Reopened, partner(), None),
    ];
    for (from, to, actor, reason) in rows {
        let mut request = MoveRequest::to(to, 1);
        request.reason = reason.map(str::to_owned);
        request.reclassified = Some(outcome(Tier::Partner, None));
        let transition = decide(from, &request, &actor, now())
            .unwrap_or_else(|error| panic!("{from} -> {to} by {:?}: {error}", actor.role()));
        assert_eq!(transition.from, Some(from));
    }
    for from in Stage::OPEN {
        let transition = decide(
            from,
            &request(Stage::Closed).with_reason("customer left"),
            &partner(),
            now(),
        )
        .unwrap();
        assert_eq!(transition.action, Action::Withdraw);
    }
}

#[test]
fn a_refused_move_names_the_current_stage_and_the_allowed_moves() {
    let error = decide(
        Stage::Escalated,
        &request(Stage::Resolved),
        &partner(),
        now(),
    )
    .unwrap_err();
    let MoveError::Refused { from, allowed, .. } = &error else {
        panic!("expected a refusal, got {error:?}");
    };
    assert_eq!(*from, Stage::Escalated);
    assert_eq!(allowed, &vec![Target::Stage(Stage::Closed)]);
    let message = error.to_string();
    assert!(
        message.contains("`escalated`") && message.contains("`closed`"),
        "{message}"
    );
}

#[test]
fn moves_that_need_a_reason_refuse_a_blank_one() {
    let error = decide(
        Stage::PartnerWorking,
        &request(Stage::Escalated).with_reason("   "),
        &partner(),
        now(),
    )
    .unwrap_err();
    assert_eq!(
        error,
        MoveError::ReasonRequired {
            action: Action::Escalate
        }
    );
    assert_eq!(error.field(), Some("reason"));
    let error = decide(
        Stage::Acknowledged,
        &request(Stage::Closed),
        &partner(),
        now(),
    )
    .unwrap_err();
    assert_eq!(error.field(), Some("reason"));
}

#[test]
fn closing_a_resolved_case_needs_no_reason() {
    let transition = decide(Stage::Resolved, &request(Stage::Closed), &partner(), now()).unwrap();
    assert_eq!(transition.action, Action::Close);
}

#[test]
fn a_reopen_lands_in_the_stage_of_the_new_decision() {
    for (decision, stage) in [
        (Tier::SelfService, Stage::SelfService),
        (Tier::Partner, Stage::PartnerWorking),
        (Tier::Escalate, Stage::Escalated),
    ] {
        let mut request = MoveRequest::to(Target::Reopened, 3);
        request.reclassified = Some(outcome(decision, None));
        let transition = decide(Stage::Resolved, &request, &partner(), now()).unwrap();
        assert_eq!(transition.to, stage);
        assert_eq!(transition.action, Action::Reopen);
    }
    let error = decide(
        Stage::Resolved,
        &MoveRequest::to(Target::Reopened, 3),
        &partner(),
        now(),
    )
    .unwrap_err();
    assert_eq!(error, MoveError::NotReclassified);
}

#[test]
fn only_vianet_records_its_case_id() {
    let mut ask = request(Stage::Resolved);
    ask.vianet_case_id = Some("VN-1".to_owned());
    let error = decide(Stage::PartnerWorking, &ask, &partner(), now()).unwrap_err();
    assert_eq!(error.field(), Some("vianet_case_id"));
    let mut ack = request(Stage::Acknowledged);
    ack.vianet_case_id = Some(" VN-1 ".to_owned());
    let transition = decide(Stage::Escalated, &ack, &vianet(), now()).unwrap();
    assert_eq!(transition.vianet_case_id.as_deref(), Some("VN-1"));
}

#[test]
fn admins_move_nothing() {
    let admin = Actor::Admin {
        id: "ops".to_owned(),
    };
    for from in Stage::ALL {
        assert!(allowed_moves(from, Role::Admin).is_empty(), "{from}");
    }
    assert!(decide(Stage::Resolved, &request(Stage::Closed), &admin, now()).is_err());
}

#[test]
fn an_escalation_at_intake_mails_the_desk_and_notify_list_with_the_partner_in_cc() {
    let fixture = Fixture::new();
    let transition = Transition::intake(fixture.outcome.clone(), partner(), now());
    let effects = effects(&transition, &fixture.context(None, None));
    assert_eq!(effects.emails.len(), 1);
    let email = &effects.emails[0];
    assert_eq!(email.event, EmailEvent::Escalated);
    assert_eq!(
        email.to,
        vec!["escalations@21vianet.example", "mail-team@21vianet.example"]
    );
    assert_eq!(email.cc, vec!["desk@partner.example"]);
    assert_eq!(email.message_id, "<c_abc.2.escalated@localhost>");
    assert_eq!(email.dedupe_key, "c_abc:2:escalated");
    assert_eq!(email.thread_root, None);
    let deadline = effects.deadline.unwrap();
    assert_eq!(deadline.kind, DeadlineKind::Acknowledge);
    assert_eq!(deadline.span_ms, 30 * 60_000);
    assert_eq!(deadline.due_at, Some(now() + Duration::minutes(30)));
    assert_eq!(deadline.next_action_at, Some(now() + Duration::minutes(24)));
}

#[test]
fn a_partner_escalation_uses_the_severity_default_and_threads_under_the_first_email() {
    let fixture = Fixture::new();
    let transition = decide(
        Stage::PartnerWorking,
        &request(Stage::Escalated).with_reason("stuck"),
        &partner(),
        now(),
    )
    .unwrap();
    let effects = effects(
        &transition,
        &fixture.context(None, Some("<root@localhost>")),
    );
    assert_eq!(
        effects.emails[0].thread_root.as_deref(),
        Some("<root@localhost>")
    );
    let deadline = effects.deadline.unwrap();
    assert_eq!(
        deadline.span_ms, 3_600_000,
        "critical acknowledgement default is 1h"
    );
}

#[test]
fn the_partner_working_deadline_exists_only_when_the_policy_decided_partner() {
    let fixture = Fixture::new();
    let intake = Transition::intake(outcome(Tier::Partner, Some(240)), partner(), now());
    let deadline = effects(&intake, &fixture.context(None, None))
        .deadline
        .unwrap();
    assert_eq!(
        (deadline.kind, deadline.span_ms),
        (DeadlineKind::Resolution, 240 * 60_000)
    );
    assert_eq!(
        deadline.next_action_at, deadline.due_at,
        "no warning in partner_working"
    );
    let no_within = Transition::intake(outcome(Tier::Partner, None), partner(), now());
    assert_eq!(
        effects(&no_within, &fixture.context(None, None)).deadline,
        None
    );
    let taken = decide(
        Stage::SelfService,
        &request(Stage::PartnerWorking),
        &partner(),
        now(),
    )
    .unwrap();
    assert_eq!(effects(&taken, &fixture.context(None, None)).deadline, None);
    assert!(effects(&taken, &fixture.context(None, None))
        .emails
        .is_empty());
}

#[test]
fn a_within_longer_than_a_clock_can_hold_is_a_deadline_a_thousand_years_away() {
    let fixture = Fixture::new();
    for decision in [Tier::Escalate, Tier::Partner] {
        let intake = Transition::intake(outcome(decision, Some(u64::MAX)), partner(), now());
        let deadline = effects(&intake, &fixture.context(None, None))
            .deadline
            .unwrap();
        assert_eq!(deadline.span_ms, effects::LONGEST_SPAN_MS);
        assert_eq!(
            deadline.due_at,
            Some(now() + Duration::milliseconds(effects::LONGEST_SPAN_MS))
        );
        assert!(deadline.next_action_at.is_some_and(|at| at > now()));
    }
}

#[test]
fn awaiting_info_pauses_the_resolution_clock_and_supplying_info_resumes_it() {
    let fixture = Fixture::new();
    let acked = decide(
        Stage::Escalated,
        &request(Stage::Acknowledged),
        &vianet(),
        now(),
    )
    .unwrap();
    let running = effects(&acked, &fixture.context(None, None))
        .deadline
        .unwrap();
    assert_eq!(running.span_ms, 24 * 3_600_000);

    let later = now() + Duration::hours(2);
    let ask = decide(
        Stage::Acknowledged,
        &request(Stage::AwaitingInfo).with_reason("logs"),
        &vianet(),
        later,
    )
    .unwrap();
    let ask_effects = effects(&ask, &fixture.context(Some(&running), Some("<root@x>")));
    let paused = ask_effects.deadline.unwrap();
    assert_eq!((paused.due_at, paused.next_action_at), (None, None));
    assert_eq!(paused.remaining_ms, Some(22 * 3_600_000));
    assert_eq!(ask_effects.emails[0].to, vec!["desk@partner.example"]);

    let much_later = later + Duration::days(3);
    let supply = decide(
        Stage::AwaitingInfo,
        &request(Stage::Acknowledged).with_reason("here"),
        &partner(),
        much_later,
    )
    .unwrap();
    let supply_effects = effects(&supply, &fixture.context(Some(&paused), Some("<root@x>")));
    let resumed = supply_effects.deadline.unwrap();
    assert_eq!(resumed.due_at, Some(much_later + Duration::hours(22)));
    assert_eq!(resumed.remaining_ms, None);
    assert_eq!(supply_effects.emails[0].event, EmailEvent::InfoSupplied);
    assert_eq!(
        supply_effects.emails[0].to,
        vec!["escalations@21vianet.example"]
    );
}

#[test]
fn resolving_sets_the_close_deadline_and_only_vianet_resolutions_are_mailed() {
    let fixture = Fixture::new();
    let by_vianet = decide(
        Stage::Acknowledged,
        &request(Stage::Resolved),
        &vianet(),
        now(),
    )
    .unwrap();
    let done = effects(&by_vianet, &fixture.context(None, None));
    assert_eq!(done.emails[0].event, EmailEvent::Resolved);
    let deadline = done.deadline.unwrap();
    assert_eq!(deadline.kind, DeadlineKind::Close);
    assert_eq!(deadline.due_at, Some(now() + Duration::days(7)));
    let by_partner = decide(
        Stage::PartnerWorking,
        &request(Stage::Resolved),
        &partner(),
        now(),
    )
    .unwrap();
    assert!(effects(&by_partner, &fixture.context(None, None))
        .emails
        .is_empty());
}

#[test]
fn the_message_id_uses_the_sender_domain() {
    assert_eq!(
        message_id("c_1", 4, EmailEvent::Returned, "noreply@escalator.example"),
        "<c_1.4.returned@escalator.example>"
    );
}

fn any_actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        Just(partner()),
        Just(vianet()),
        Just(Actor::Admin {
            id: "ops".to_owned()
        }),
        Just(Actor::System)
    ]
}

fn any_request() -> impl Strategy<Value = MoveRequest> {
    let targets: Vec<Target> = Stage::ALL
        .into_iter()
        .map(Target::Stage)
        .chain([Target::Reopened])
        .collect();
    (
        proptest::sample::select(targets),
        proptest::option::of(Just("a reason".to_owned())),
        proptest::sample::select(vec![Tier::SelfService, Tier::Partner, Tier::Escalate]),
    )
        .prop_map(|(to, reason, decision)| MoveRequest {
            to,
            version: 1,
            reason,
            vianet_case_id: None,
            reclassified: Some(outcome(decision, None)),
            trigger: Trigger::Request,
        })
}

/// Every (from, to) pair the stage table allows, reopen landings included.
fn table_edge(from: Stage, to: Stage) -> bool {
    use Stage::*;
    matches!(
        (from, to),
        (SelfService, PartnerWorking)
            | (SelfService | PartnerWorking, Resolved)
            | (PartnerWorking, Escalated)
            | (Escalated, Acknowledged)
            | (Acknowledged, AwaitingInfo)
            | (AwaitingInfo, Acknowledged)
            | (Escalated | Acknowledged | AwaitingInfo, PartnerWorking)
            | (Acknowledged, Resolved)
            | (Resolved, Closed)
            | (Resolved, SelfService | PartnerWorking | Escalated)
            | (
                SelfService | PartnerWorking | Escalated | Acknowledged | AwaitingInfo,
                Closed
            )
    )
}

proptest! {
    #[test]
    fn no_sequence_of_moves_leaves_the_stage_table(
        start in proptest::sample::select(vec![Stage::SelfService, Stage::PartnerWorking, Stage::Escalated]),
        moves in proptest::collection::vec((any_request(), any_actor()), 0..40),
    ) {
        let mut stage = start;
        for (request, actor) in moves {
            if let Ok(transition) = decide(stage, &request, &actor, now()) {
                prop_assert!(table_edge(stage, transition.to), "{} -> {}", stage, transition.to);
                stage = transition.to;
            }
        }
    }

    #[test]
    fn closed_is_final(request in any_request(), actor in any_actor()) {
        prop_assert!(decide(Stage::Closed, &request, &actor, now()).is_err());
    }

    #[test]
    fn every_stage_can_reach_closed(start in proptest::sample::select(Stage::ALL.to_vec())) {
        // Breadth-first over every actor's allowed moves.
        let actors = [partner(), vianet(), Actor::System];
        let mut seen = vec![start];
        let mut queue = vec![start];
        while let Some(stage) = queue.pop() {
            for actor in &actors {
                for target in allowed_moves(stage, actor.role()) {
                    let mut request = MoveRequest::to(target, 1).with_reason("why");
                    request.reclassified = Some(outcome(Tier::Partner, None));
                    if let Ok(transition) = decide(stage, &request, actor, now()) {
                        if !seen.contains(&transition.to) {
                            seen.push(transition.to);
                            queue.push(transition.to);
                        }
                    }
                }
            }
        }
        prop_assert!(seen.contains(&Stage::Closed), "{start} cannot reach closed");
    }
}
