//! Partners, escalated cases and dispatchers shared by the dispatch tests.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use escalator::case::{Capabilities, Case, EmailAddress, Tier};
use escalator::config::{MailSettings, Settings};
use escalator::mail::{Dispatcher, Transport};
use escalator::policy::{Gaps, Outcome};
use escalator::store::{CaseRecord, EventRecord, NewPartner, OutboxEntry, Scope, Store};
use escalator::telemetry::Metrics;
use serde_json::json;

/// The clock of the in-process tests.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 13, 0, 0).unwrap()
}

/// `t0` plus some milliseconds.
pub fn after(ms: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::milliseconds(ms)
}

pub const DESK: &str = "escalations@21vianet.example";
pub const NOTIFY: &str = "exchange-team@21vianet.example";

/// The repository's shipped policy directory.
pub fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// Registers partner `id` with desk address `{id}@partner.example`.
pub async fn add_partner(store: &Store, id: &str) {
    let partner = NewPartner {
        id: id.to_owned(),
        name: format!("Partner {id}"),
        email: EmailAddress::parse(&format!("{id}@partner.example"), "email").unwrap(),
        capabilities: Capabilities::default(),
    };
    store.add_partner(&partner, t0()).await.unwrap();
}

pub fn case(external_id: &str) -> Case {
    Case::from_json(&json!({
        "external_id": external_id,
        "customer": {"tenant": "contoso.partner.onmschina.cn", "name": "Contoso Ltd"},
        "product": "m365",
        "category": "mail_flow",
        "severity": "critical",
        "subject": "Outbound mail stuck in queue",
        "description": "Since 09:00 no outbound mail leaves the tenant.",
        "attempted": ["checked service health"]
    }))
    .unwrap()
}

/// An `escalate` outcome whose deciding rule notifies `notify`.
pub fn escalate(notify: &[&str]) -> Outcome {
    Outcome {
        case: "CASE".to_owned(),
        decision: Tier::Escalate,
        reasons: vec!["mail flow is down".to_owned()],
        deciding_rules: vec!["mail-flow-outage".into()],
        matched_rules: Vec::new(),
        gaps: Gaps::default(),
        within_minutes: Some(60),
        notify: notify.iter().map(|address| (*address).into()).collect(),
        policy: "sha256:0123".into(),
    }
}

/// Submits a case that is escalated at intake (`at`), which enqueues the
/// escalation email; returns the case and its outbox row's id.
pub async fn escalated_case(
    store: &Store,
    partner: &str,
    external_id: &str,
    notify: &[&str],
    at: DateTime<Utc>,
) -> (CaseRecord, String) {
    let intake = store
        .intake(
            partner,
            &case(external_id),
            &escalate(notify),
            &Settings::default(),
            at,
        )
        .await
        .unwrap();
    let emails = store.case_emails(&intake.case.id).await.unwrap();
    assert_eq!(emails.len(), 1, "an escalation at intake queues one email");
    (intake.case, emails[0].id.clone())
}

/// Mail settings for `url` (None: `.eml` files in `outbox_dir`).
pub fn mail_settings(url: Option<&str>) -> MailSettings {
    MailSettings {
        smtp_url: url.map(str::to_owned),
        send_timeout: Duration::from_secs(5),
        lease: Duration::from_secs(10),
        connections: 4,
        ..MailSettings::default()
    }
}

pub fn dispatcher(store: &Store, settings: &MailSettings, metrics: &Metrics) -> Dispatcher {
    let transport = Transport::from_settings(settings).unwrap();
    Dispatcher::new(store.clone(), transport, settings, metrics.clone())
}

pub async fn entry(store: &Store, id: &str) -> OutboxEntry {
    store.outbox_entry(id).await.unwrap()
}

/// The case's events of `kind`.
pub async fn events_of(store: &Store, case_id: &str, kind: &str) -> Vec<EventRecord> {
    store
        .events(case_id, &Scope::All)
        .await
        .unwrap()
        .into_iter()
        .filter(|event| event.kind == kind)
        .collect()
}

/// Polls `check` every 20 ms until it returns `Some`, failing after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
