//! Partners, cases and outcomes built by hand, and small move helpers.

use chrono::{DateTime, Duration, TimeZone, Utc};
use escalator::case::{Capabilities, Case, EmailAddress, Tier};
use escalator::config::Settings;
use escalator::policy::{Gaps, Outcome};
use escalator::store::{CaseRecord, NewPartner, Scope, Store, StoreError};
use escalator::workflow::{Actor, MoveRequest, Stage, Target};
use serde_json::{json, Value};

/// The start of every test's clock.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 13, 0, 0).unwrap()
}

/// `t0` plus some minutes.
pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

pub fn settings() -> Settings {
    Settings::default()
}

pub const DESK: &str = "escalations@21vianet.example";

/// Registers partner `id` with desk address `{id}@partner.example`.
pub async fn add_partner(store: &Store, id: &str) {
    let partner = NewPartner {
        id: id.to_owned(),
        name: format!("Partner {id}"),
        email: EmailAddress::parse(&format!("{id}@partner.example"), "email").unwrap(),
        capabilities: Capabilities {
            training: ["exchange-basics".to_owned()].into_iter().collect(),
            ..Capabilities::default()
        },
    };
    store.add_partner(&partner, t0()).await.unwrap();
}

pub fn case_json(external_id: &str) -> Value {
    json!({
        "external_id": external_id,
        "customer": {"tenant": "contoso.partner.onmschina.cn", "name": "Contoso Ltd"},
        "contact": {"name": "Li Wei", "email": "li.wei@contoso.example"},
        "product": "m365",
        "category": "mail_flow",
        "severity": "moderate",
        "subject": "Outbound mail stuck in queue",
        "description": "Since 09:00 no outbound mail leaves the tenant.",
        "attempted": ["checked service health", "ran message trace"]
    })
}

pub fn case(external_id: &str) -> Case {
    Case::from_json(&case_json(external_id)).unwrap()
}

pub fn outcome(decision: Tier, within_minutes: Option<u64>) -> Outcome {
    Outcome {
        case: "CASE".to_owned(),
        decision,
        reasons: vec!["the rules said so".to_owned()],
        deciding_rules: vec!["some-rule".into()],
        matched_rules: Vec::new(),
        gaps: Gaps::default(),
        within_minutes,
        notify: if decision == Tier::Escalate {
            vec!["exchange-team@21vianet.example".into()]
        } else {
            Vec::new()
        },
        policy: "sha256:0123".into(),
    }
}

pub fn partner_actor(id: &str) -> Actor {
    Actor::Partner { id: id.to_owned() }
}

pub fn vianet() -> Actor {
    Actor::Vianet {
        id: "desk-1".to_owned(),
    }
}

/// Submits a case for partner `partner` with the given decision.
pub async fn submit(
    store: &Store,
    partner: &str,
    external_id: &str,
    decision: Tier,
    within: Option<u64>,
) -> CaseRecord {
    store
        .intake(
            partner,
            &case(external_id),
            &outcome(decision, within),
            &settings(),
            t0(),
        )
        .await
        .unwrap()
        .case
}

/// Moves a case from its current version, with an optional reason.
pub async fn try_move(
    store: &Store,
    case: &CaseRecord,
    to: &str,
    actor: &Actor,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CaseRecord, StoreError> {
    let target: Target = to.parse().unwrap();
    let mut request = MoveRequest::to(target, case.version);
    request.reason = reason.map(str::to_owned);
    store
        .change_stage(
            &case.id,
            &Scope::of(actor),
            &request,
            actor,
            &settings(),
            now,
        )
        .await
}

/// Like [`try_move`], failing the test on refusal, and checks the landing stage.
pub async fn step(
    store: &Store,
    case: &CaseRecord,
    to: Stage,
    actor: &Actor,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> CaseRecord {
    let moved = try_move(store, case, to.as_str(), actor, reason, now)
        .await
        .unwrap_or_else(|error| panic!("{} -> {to} by {:?}: {error}", case.stage, actor.role()));
    assert_eq!(moved.stage, to);
    assert_eq!(moved.version, case.version + 1);
    moved
}
