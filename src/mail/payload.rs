//! The snapshot an outbox row is rendered from. Written at enqueue time in
//! the stage change's transaction and never changed afterwards, so every
//! attempt renders the same message.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::policy::Outcome;

/// Which event an email announces; also the `X-Escalator-Event` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailEvent {
    /// The case reached 21Vianet (at intake, by the partner, or by a passed deadline).
    Escalated,
    /// 21Vianet acknowledged the case.
    Acknowledged,
    /// 21Vianet needs information from the partner.
    InfoRequested,
    /// The partner supplied the information.
    InfoSupplied,
    /// 21Vianet returned the case to the partner.
    Returned,
    /// 21Vianet resolved the case.
    Resolved,
    /// A deadline is about to pass.
    DeadlineWarning,
    /// A deadline passed (a reminder).
    DeadlineOverdue,
}

impl EmailEvent {
    /// The name used in headers, outbox rows and events.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailEvent::Escalated => "escalated",
            EmailEvent::Acknowledged => "acknowledged",
            EmailEvent::InfoRequested => "info_requested",
            EmailEvent::InfoSupplied => "info_supplied",
            EmailEvent::Returned => "returned",
            EmailEvent::Resolved => "resolved",
            EmailEvent::DeadlineWarning => "deadline_warning",
            EmailEvent::DeadlineOverdue => "deadline_overdue",
        }
    }
}

/// The partner desk as emails show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerContact {
    /// The partner's id.
    pub id: String,
    /// The partner's display name.
    pub name: String,
    /// The partner desk's address.
    pub email: String,
}

/// A deadline as emails show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineInfo {
    /// `acknowledge`, `resolution` or `close`.
    pub kind: String,
    /// When it passes (UTC).
    pub at: DateTime<Utc>,
}

/// Everything one email is rendered from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailPayload {
    /// What happened.
    pub event: EmailEvent,
    /// The case's id (`c_…`).
    pub case_id: String,
    /// The partner's reference for the case.
    pub external_id: String,
    /// The partner desk.
    pub partner: PartnerContact,
    /// The normalised case JSON (as `Case::to_json` writes it).
    pub case: serde_json::Value,
    /// The latest classification outcome (reasons, gaps, deciding rules).
    pub outcome: Outcome,
    /// The stage the case is in after the event.
    pub stage: String,
    /// The reason given with the move, if any.
    pub reason: Option<String>,
    /// 21Vianet's own case id, once known.
    pub vianet_case_id: Option<String>,
    /// The deadline running after the event, if any.
    pub deadline: Option<DeadlineInfo>,
    /// When the event happened.
    pub occurred_at: DateTime<Utc>,
    /// This message's `Message-ID` (also stored on the outbox row).
    pub message_id: String,
    /// The `Message-ID` of the case's first email, for `In-Reply-To`/`References`;
    /// `None` when this is the first.
    pub thread_root: Option<String>,
    /// To addresses.
    pub to: Vec<String>,
    /// Cc addresses.
    pub cc: Vec<String>,
}
