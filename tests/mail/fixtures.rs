//! Payloads and settings shared by the mail tests.

use std::time::Duration;

use chrono::{DateTime, Utc};
use escalator::case::Tier;
use escalator::config::MailSettings;
use escalator::mail::{DeadlineInfo, EmailEvent, EmailPayload, PartnerContact};
use escalator::policy::{Gap, Gaps, MatchedRule, Outcome};
use serde_json::json;

pub const FROM: &str = "Escalator <escalator@vianet.test>";

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// A critical case escalated at intake with two gaps and an acknowledgement deadline.
pub fn escalated() -> EmailPayload {
    EmailPayload {
        event: EmailEvent::Escalated,
        case_id: "c_8f3k2m9x".to_owned(),
        external_id: "CASE-1042".to_owned(),
        partner: PartnerContact {
            id: "p-contoso-csp".to_owned(),
            name: "Contoso CSP".to_owned(),
            email: "desk@csp.test".to_owned(),
        },
        case: json!({
            "external_id": "CASE-1042",
            "customer": {"tenant": "contoso.partner.onmschina.cn", "name": "Contoso Ltd"},
            "contact": {"name": "Li Wei", "email": "li.wei@contoso.test"},
            "product": "m365",
            "category": "mail_flow",
            "severity": "critical",
            "subject": "Outbound mail stuck in queue",
            "description": "Since 09:00 no outbound mail leaves the tenant.\nMessage trace shows 'pending'.",
            "affected_users": 120,
            "attempted": ["checked service health", "ran message trace"],
            "attributes": {}
        }),
        outcome: Outcome {
            case: "CASE-1042".to_owned(),
            decision: Tier::Escalate,
            reasons: vec![
                "mail flow is down for 120 users".to_owned(),
                "the partner lacks the transport tooling".to_owned(),
            ],
            deciding_rules: vec!["mail-flow-outage".into()],
            matched_rules: vec![MatchedRule {
                rule: "mail-flow-outage".into(),
                tier: Tier::Escalate,
            }],
            gaps: Gaps {
                training: vec![Gap {
                    item: "exchange-transport".into(),
                    requirement: "mail-flow-skills".into(),
                }],
                documentation: vec![],
                tooling: vec![Gap {
                    item: "message-trace-admin".into(),
                    requirement: "mail-flow-tools".into(),
                }],
            },
            within_minutes: Some(60),
            notify: vec!["mail-team@vianet.test".into()],
            policy: "sha256:00".into(),
        },
        stage: "escalated".to_owned(),
        reason: None,
        vianet_case_id: None,
        deadline: Some(DeadlineInfo {
            kind: "acknowledge".to_owned(),
            at: at("2026-03-01T18:30:00Z"),
        }),
        occurred_at: at("2026-03-01T17:30:00Z"),
        message_id: "<c_8f3k2m9x.1.escalated@escalator.test>".to_owned(),
        thread_root: None,
        to: vec![
            "escalations@vianet.test".to_owned(),
            "mail-team@vianet.test".to_owned(),
        ],
        cc: vec!["desk@csp.test".to_owned()],
    }
}

/// The same case later in its thread, announcing `event`.
pub fn follow_up(event: EmailEvent) -> EmailPayload {
    let mut payload = escalated();
    payload.event = event;
    payload.message_id = format!("<c_8f3k2m9x.2.{}@escalator.test>", event.as_str());
    payload.thread_root = Some("<c_8f3k2m9x.1.escalated@escalator.test>".to_owned());
    payload.vianet_case_id = Some("21V-778899".to_owned());
    payload
}

/// Settings pointing at `url`, with a short send timeout.
pub fn smtp_settings(url: &str, connections: u32) -> MailSettings {
    MailSettings {
        smtp_url: Some(url.to_owned()),
        send_timeout: Duration::from_secs(2),
        connections,
        ..MailSettings::default()
    }
}
