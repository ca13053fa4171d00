//! Reading the emails a case has queued (operators, tests). Delivery —
//! claiming, sending, retrying — belongs to the mail dispatcher.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::db::args;
use super::error::{Context, StoreError};
use super::records::from_ms;
use super::Store;
use crate::mail::EmailPayload;

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueuedEmail {
    /// The row's id.
    pub id: String,
    /// The case it belongs to.
    pub case_id: String,
    /// The event that promised it.
    pub event_seq: i64,
    /// `escalated`, `acknowledged`, …
    pub event: String,
    /// `{case_id}:{event_seq}:{event}`.
    pub dedupe_key: String,
    /// The stable Message-ID.
    pub message_id: String,
    /// To addresses.
    pub to: Vec<String>,
    /// Cc addresses.
    pub cc: Vec<String>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// What the message is rendered from.
    pub payload: EmailPayload,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: String,
    case_id: String,
    event_seq: i64,
    event: String,
    dedupe_key: String,
    message_id: String,
    to_addrs: String,
    cc_addrs: String,
    payload: String,
    status: String,
    attempts: i64,
    created_at: i64,
}

impl OutboxRow {
    fn into_email(self) -> Result<QueuedEmail, StoreError> {
        let corrupt = |what: &'static str, error: serde_json::Error| StoreError::Corrupt {
            what,
            case_id: self.case_id.clone(),
            message: error.to_string(),
        };
        Ok(QueuedEmail {
            to: serde_json::from_str(&self.to_addrs)
                .map_err(|error| corrupt("outbox to_addrs", error))?,
            cc: serde_json::from_str(&self.cc_addrs)
                .map_err(|error| corrupt("outbox cc_addrs", error))?,
            payload: serde_json::from_str(&self.payload)
                .map_err(|error| corrupt("outbox payload", error))?,
            id: self.id,
            case_id: self.case_id,
            event_seq: self.event_seq,
            event: self.event,
            dedupe_key: self.dedupe_key,
            message_id: self.message_id,
            status: self.status,
            attempts: self.attempts,
            created_at: from_ms(self.created_at),
        })
    }
}

impl Store {
    /// The emails a case has queued, oldest first.
    pub async fn case_emails(&self, case_id: &str) -> Result<Vec<QueuedEmail>, StoreError> {
        let rows: Vec<OutboxRow> = self
            .pool
            .fetch_all(
                "select id, case_id, event_seq, event, dedupe_key, message_id, to_addrs, cc_addrs, payload, status, \
                 attempts, created_at from outbox where case_id = $1 order by event_seq",
                args![case_id],
            )
            .await
            .context("cannot read the case's emails")?;
        rows.into_iter().map(OutboxRow::into_email).collect()
    }
}
