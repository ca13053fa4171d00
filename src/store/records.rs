//! What the store hands out: cases and events as values, and their JSON
//! shapes of the interfaces contract. Rows are decoded with `FromRow` into
//! plain structs first and turned into domain values here, so a corrupt
//! stored value is reported with the case it belongs to.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::error::StoreError;
use crate::case::{Case, CaseError, Severity, Tier};
use crate::policy::Outcome;
use crate::workflow::{Actor, DeadlineKind, DeadlineState, Role, Stage};

/// Milliseconds since the epoch, as stored.
pub(crate) fn to_ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// A stored time back as a `DateTime`; one past the dates a clock can hold
/// (the last date plus a millisecond, as the next due time of a row leased
/// until that date is computed) reads as the nearest date it can hold.
pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(if ms > 0 {
        DateTime::<Utc>::MAX_UTC
    } else {
        DateTime::<Utc>::MIN_UTC
    })
}

/// `now` plus `span`, or the last date a clock can hold when the sum would
/// pass it (a lease configured for millions of years): every stored time
/// then reads back as the date it was, and `+ 1` on it stays in range.
pub fn after_span(now: DateTime<Utc>, span: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(span)
        .ok()
        .and_then(|span| now.checked_add_signed(span))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// RFC 3339 in UTC, to the second (`2026-11-23T13:00:00Z`).
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A stored case with its running deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    /// `c_…`, not guessable.
    pub id: String,
    /// The partner's own reference.
    pub external_id: String,
    /// The partner that submitted it.
    pub partner_id: String,
    /// Where it is.
    pub stage: Stage,
    /// The latest classification's tier.
    pub decision: Tier,
    /// The latest classification.
    pub outcome: Outcome,
    /// The running (or paused) deadline of its stage.
    pub deadline: Option<DeadlineState>,
    /// Grows by one with every stage change.
    pub version: i64,
    /// 21Vianet's own case id, once recorded.
    pub vianet_case_id: Option<String>,
    /// Times it was reopened.
    pub reopened: u32,
    /// Whether it was ever escalated (21Vianet keeps seeing it).
    pub ever_escalated: bool,
    /// The case's severity.
    pub severity: Severity,
    /// SHA-256 of the normalised case (idempotent intake).
    pub fingerprint: String,
    /// The normalised case.
    pub case: Value,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The contract's JSON shape of a case at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseView {
    /// `c_…`.
    pub id: String,
    /// The partner's reference.
    pub external_id: String,
    /// The partner's id.
    pub partner_id: String,
    /// The stage.
    pub stage: Stage,
    /// The decision.
    pub decision: Tier,
    /// The outcome object.
    pub outcome: Outcome,
    /// The deadline, or `null`.
    pub deadline: Option<DeadlineView>,
    /// The version to send with the next move.
    pub version: i64,
    /// 21Vianet's case id, or `null`.
    pub vianet_case_id: Option<String>,
    /// Times reopened.
    pub reopened: u32,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// The submitted case, normalised.
    pub case: Value,
}

/// A deadline as the case JSON shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadlineView {
    /// `acknowledge`, `resolution` or `close`.
    pub kind: DeadlineKind,
    /// `true` while the clock is stopped (awaiting_info); absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
    /// When it passes (RFC 3339), `null` while paused.
    pub at: Option<String>,
    /// Seconds left; negative when overdue.
    pub remaining_seconds: i64,
}

impl CaseRecord {
    /// The case as the contract shows it at `now` (`remaining_seconds` depends on it).
    pub fn view(&self, now: DateTime<Utc>) -> CaseView {
        CaseView {
            id: self.id.clone(),
            external_id: self.external_id.clone(),
            partner_id: self.partner_id.clone(),
            stage: self.stage,
            decision: self.decision,
            outcome: self.outcome.clone(),
            deadline: self
                .deadline
                .as_ref()
                .map(|deadline| deadline_view(deadline, now)),
            version: self.version,
            vianet_case_id: self.vianet_case_id.clone(),
            reopened: self.reopened,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
            case: self.case.clone(),
        }
    }

    /// [`CaseRecord::view`] as a JSON value.
    pub fn to_json(&self, now: DateTime<Utc>) -> Value {
        serde_json::to_value(self.view(now)).unwrap_or(Value::Null)
    }

    /// The stored case parsed back (for re-classification on reopen), with
    /// its reopen counter.
    pub fn parsed_case(&self) -> Result<Case, CaseError> {
        Case::from_json(&self.case).map(|case| case.with_reopened(self.reopened))
    }
}

fn deadline_view(deadline: &DeadlineState, now: DateTime<Utc>) -> DeadlineView {
    let remaining_ms = match deadline.due_at {
        Some(due) => (due - now).num_milliseconds(),
        None => deadline.remaining_ms.unwrap_or(deadline.span_ms),
    };
    DeadlineView {
        kind: deadline.kind,
        paused: deadline.is_paused(),
        at: deadline.due_at.map(rfc3339),
        remaining_seconds: remaining_ms.div_euclid(1000),
    }
}

/// One entry of a case's history.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// 1, 2, 3… per case.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// `intake`, `move`, `reopen`, `deadline`, `email_sent`, `email_failed`…
    pub kind: String,
    /// The stage before, for events that moved the case.
    pub from: Option<Stage>,
    /// The stage after, for events that moved the case.
    pub to: Option<Stage>,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// The workflow move (`take`, `escalate`, `return`…), for moves.
    pub action: Option<String>,
    /// Extra fields (`outcome`, `deadline_kind`, `vianet_case_id`…), flattened into the JSON.
    pub data: Map<String, Value>,
}

impl Serialize for EventRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const FIXED: [&str; 8] = [
            "seq", "at", "actor", "kind", "from", "to", "reason", "action",
        ];
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("seq", &self.seq)?;
        map.serialize_entry("at", &rfc3339(self.at))?;
        map.serialize_entry("actor", &self.actor)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("from", &self.from)?;
        map.serialize_entry("to", &self.to)?;
        map.serialize_entry("reason", &self.reason)?;
        if let Some(action) = &self.action {
            map.serialize_entry("action", action)?;
        }
        for (key, value) in self
            .data
            .iter()
            .filter(|(key, _)| !FIXED.contains(&key.as_str()))
        {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A case row joined with its deadline row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CaseRow {
    pub id: String,
    pub partner_id: String,
    pub external_id: String,
    pub fingerprint: String,
    pub case_json: String,
    pub severity: String,
    pub stage: String,
    pub decision: String,
    pub outcome_json: String,
    pub version: i64,
    pub vianet_case_id: Option<String>,
    pub reopened: i64,
    pub ever_escalated: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deadline_kind: Option<String>,
    pub deadline_stage: Option<String>,
    pub deadline_span_ms: Option<i64>,
    pub deadline_due_at: Option<i64>,
    pub deadline_remaining_ms: Option<i64>,
    pub deadline_warned: Option<bool>,
    pub deadline_reminders: Option<i64>,
    pub deadline_next_action_at: Option<i64>,
}

/// The columns of [`CaseRow`], from `cases c left join deadlines d`.
macro_rules! case_select {
    () => {
        "select c.id, c.partner_id, c.external_id, c.fingerprint, c.case_json, c.severity, c.stage, \
         c.decision, c.outcome_json, c.version, c.vianet_case_id, c.reopened, c.ever_escalated, \
         c.created_at, c.updated_at, d.kind as deadline_kind, d.stage as deadline_stage, \
         d.span_ms as deadline_span_ms, d.due_at as deadline_due_at, \
         d.remaining_ms as deadline_remaining_ms, d.warned as deadline_warned, \
         d.reminders as deadline_reminders, d.next_action_at as deadline_next_action_at \
         from cases c left join deadlines d on d.case_id = c.id"
    };
}
pub(crate) use case_select;

impl CaseRow {
    pub(crate) fn into_record(self) -> Result<CaseRecord, StoreError> {
        let id = self.id.clone();
        let corrupt = |what: &'static str, message: String| StoreError::Corrupt {
            what,
            case_id: id.clone(),
            message,
        };
        let stage: Stage = self
            .stage
            .parse()
            .map_err(|message| corrupt("stage", message))?;
        let decision: Tier = self
            .decision
            .parse()
            .map_err(|message| corrupt("decision", message))?;
        let severity: Severity = self
            .severity
            .parse()
            .map_err(|message| corrupt("severity", message))?;
        let outcome: Outcome = serde_json::from_str(&self.outcome_json)
            .map_err(|error| corrupt("outcome", error.to_string()))?;
        let case: Value = serde_json::from_str(&self.case_json)
            .map_err(|error| corrupt("case", error.to_string()))?;
        let deadline = match (
            self.deadline_kind,
            self.deadline_stage,
            self.deadline_span_ms,
        ) {
            (Some(kind), Some(deadline_stage), Some(span_ms)) => Some(DeadlineState {
                kind: kind
                    .parse()
                    .map_err(|message| corrupt("deadline kind", message))?,
                stage: deadline_stage
                    .parse()
                    .map_err(|message| corrupt("deadline stage", message))?,
                span_ms,
                due_at: self.deadline_due_at.map(from_ms),
                remaining_ms: self.deadline_remaining_ms,
                warned: self.deadline_warned.unwrap_or(false),
                reminders: u32::try_from(self.deadline_reminders.unwrap_or(0)).unwrap_or(u32::MAX),
                next_action_at: self.deadline_next_action_at.map(from_ms),
            }),
            _ => None,
        };
        Ok(CaseRecord {
            id: self.id,
            external_id: self.external_id,
            partner_id: self.partner_id,
            stage,
            decision,
            outcome,
            deadline,
            version: self.version,
            vianet_case_id: self.vianet_case_id,
            reopened: u32::try_from(self.reopened).unwrap_or(u32::MAX),
            ever_escalated: self.ever_escalated,
            severity,
            fingerprint: self.fingerprint,
            case,
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
        })
    }
}

/// An event row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub case_id: String,
    pub seq: i64,
    pub at: i64,
    pub actor_role: String,
    pub actor_id: Option<String>,
    pub kind: String,
    pub from_stage: Option<String>,
    pub to_stage: Option<String>,
    pub reason: Option<String>,
    pub action: Option<String>,
    pub data: Option<String>,
}

impl EventRow {
    pub(crate) fn into_record(self) -> Result<EventRecord, StoreError> {
        let corrupt = |what: &'static str, message: String| StoreError::Corrupt {
            what,
            case_id: self.case_id.clone(),
            message,
        };
        let role: Role = self
            .actor_role
            .parse()
            .map_err(|message| corrupt("event actor", message))?;
        let stage = |text: &Option<String>| -> Result<Option<Stage>, StoreError> {
            text.as_deref()
                .map(|text| {
                    text.parse()
                        .map_err(|message| corrupt("event stage", message))
                })
                .transpose()
        };
        let data = match self.data.as_deref() {
            None => Map::new(),
            Some(text) => serde_json::from_str(text)
                .map_err(|error| corrupt("event data", error.to_string()))?,
        };
        Ok(EventRecord {
            seq: self.seq,
            at: from_ms(self.at),
            actor: Actor::from_parts(role, self.actor_id.as_deref().unwrap_or("")),
            kind: self.kind.clone(),
            from: stage(&self.from_stage)?,
            to: stage(&self.to_stage)?,
            reason: self.reason.clone(),
            action: self.action.clone(),
            data,
        })
    }
}
