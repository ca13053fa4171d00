//! Delivering the outbox: claiming due rows with a lease, recording each
//! attempt's result (sent, retry later, parked as failed) with its event on
//! the case, and the operator's view and retry of rows.
//!
//! Every write after a send is conditional on the sender still holding the
//! claim (`claimed_by = me and status = 'pending'`), so a sender whose lease
//! ran out and was taken over never overwrites the new owner's work. Rows are
//! never deleted. The claim is the only statement that differs by backend:
//! PostgreSQL skips rows another instance is claiming (`for update skip
//! locked`); SQLite serialises writers with `BEGIN IMMEDIATE`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::apply::{insert_event, next_seq};
use super::db::{args, Pool, Tx};
use super::error::{Context, StoreError};
use super::records::{after_span, from_ms, to_ms};
use super::Store;
use crate::workflow::Actor;

/// The statuses an outbox row can have.
pub const OUTBOX_STATUSES: [&str; 3] = ["pending", "sent", "failed"];

/// The condition under which outbox row `o` waits for an earlier email of
/// its case: one still pending that has not been tried yet, or that
/// `$in_flight` says is being sent. A case's emails are so tried in the
/// order they were queued, and the desk does not read the acknowledgement
/// before the escalation it answers. An earlier email that failed and
/// waits for its retry does not hold the later ones back (a greylisting
/// server would otherwise delay them for hours), nor does one sent or
/// parked.
macro_rules! waits_for_earlier {
    ($in_flight:literal) => {
        concat!(
            "exists (select 1 from outbox earlier where earlier.case_id = o.case_id \
             and earlier.status = 'pending' and earlier.event_seq < o.event_seq \
             and (earlier.attempts = 0 or ",
            $in_flight,
            "))"
        )
    };
}

/// Claims due rows: pending, due, not claimed (or their claim expired), not
/// waiting for an earlier email of their case; `$lock` is what the
/// backend needs to keep two senders apart.
macro_rules! claim {
    ($lock:literal) => {
        concat!(
            "update outbox set claimed_by = $1, lease_until = $2 \
             where id in (select id from outbox o where status = 'pending' and next_attempt_at <= $3 \
             and (lease_until is null or lease_until < $3) and not ",
            waits_for_earlier!("earlier.lease_until >= $3"),
            " order by next_attempt_at, id limit $4",
            $lock,
            ") returning id, case_id, event, message_id, attempts, payload"
        )
    };
}

const CLAIM_POSTGRES: &str = claim!(" for update skip locked");

// INVARIANT: runs inside `BEGIN IMMEDIATE`, so no other writer sees the rows
// between the select and the update.
const CLAIM_SQLITE: &str = claim!("");

/// `select` of the operator's columns, followed by `$rest`.
macro_rules! select_entries {
    ($rest:literal) => {
        concat!(
            "select id, case_id, event, message_id, to_addrs, cc_addrs, status, attempts, \
             next_attempt_at, lease_until, claimed_by, last_error, sent_at, created_at from outbox",
            $rest
        )
    };
}

/// An outbox row claimed for one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedEmail {
    /// The row's id (`m_…`).
    pub id: String,
    /// The case it belongs to.
    pub case_id: String,
    /// `escalated`, `acknowledged`, …
    pub event: String,
    /// The stable Message-ID.
    pub message_id: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// The JSON snapshot the message is rendered from (`mail::EmailPayload`).
    pub payload: String,
}

/// A recipient the server refused although it accepted the message for
/// the others (an unknown mailbox among the `notify` addresses, say). As
/// JSON, one entry of an `email_sent` event's `refused`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedRecipient {
    /// The address.
    pub recipient: String,
    /// The server's answer.
    pub error: String,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The server accepted the message (or its file was written), for
    /// every recipient but the `refused` ones.
    Sent {
        /// Recipients refused for good; the row keeps them in `last_error`
        /// and the `email_sent` event lists them.
        refused: Vec<RefusedRecipient>,
    },
    /// A transient failure: try again at `next_attempt_at`.
    Retry {
        /// When the next attempt is due.
        next_attempt_at: DateTime<Utc>,
        /// What went wrong, kept as `last_error`.
        error: String,
    },
    /// A permanent failure, or the last allowed attempt: park the row.
    Failed {
        /// What went wrong, kept as `last_error` and in the event.
        error: String,
    },
}

/// One finished attempt, to be written by [`Store::record_deliveries`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryResult {
    /// The claimed row.
    pub email: ClaimedEmail,
    /// What the attempt came to.
    pub outcome: DeliveryOutcome,
    /// When it finished.
    pub at: DateTime<Utc>,
}

/// One outbox row as operators see it (`escalator outbox list`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    /// The row's id (`m_…`).
    pub id: String,
    /// The case it belongs to.
    pub case_id: String,
    /// `escalated`, `acknowledged`, …
    pub event: String,
    /// The stable Message-ID.
    pub message_id: String,
    /// To addresses.
    pub to: Vec<String>,
    /// Cc addresses.
    pub cc: Vec<String>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Delivery attempts made so far.
    pub attempts: i64,
    /// When the next attempt is due (meaningful while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// Until when a sender holds the row, if claimed.
    pub lease_until: Option<DateTime<Utc>>,
    /// The sender instance that claimed it last.
    pub claimed_by: Option<String>,
    /// The latest failed attempt's error, if any; on a sent row whose server
    /// refused some recipients, which (`sent, but refused for …`).
    pub last_error: Option<String>,
    /// When the server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    case_id: String,
    event: String,
    message_id: String,
    to_addrs: String,
    cc_addrs: String,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    lease_until: Option<i64>,
    claimed_by: Option<String>,
    last_error: Option<String>,
    sent_at: Option<i64>,
    created_at: i64,
}

impl EntryRow {
    fn into_entry(self) -> Result<OutboxEntry, StoreError> {
        let addresses = |what: &'static str, text: &str| {
            serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
                what,
                case_id: self.case_id.clone(),
                message: error.to_string(),
            })
        };
        Ok(OutboxEntry {
            to: addresses("outbox to_addrs", &self.to_addrs)?,
            cc: addresses("outbox cc_addrs", &self.cc_addrs)?,
            id: self.id,
            case_id: self.case_id,
            event: self.event,
            message_id: self.message_id,
            status: self.status,
            attempts: self.attempts,
            next_attempt_at: from_ms(self.next_attempt_at),
            lease_until: self.lease_until.map(from_ms),
            claimed_by: self.claimed_by,
            last_error: self.last_error,
            sent_at: self.sent_at.map(from_ms),
            created_at: from_ms(self.created_at),
        })
    }
}

/// The `data` of an email event: which row and message it was about.
fn email_data(email: &ClaimedEmail, attempts: i64, error: Option<&str>) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("outbox_id".to_owned(), json!(email.id));
    data.insert("message_id".to_owned(), json!(email.message_id));
    data.insert("email".to_owned(), json!(email.event));
    data.insert("attempts".to_owned(), json!(attempts));
    if let Some(error) = error {
        data.insert("error".to_owned(), json!(error));
    }
    data
}

/// What a sent row keeps as `last_error`: the refused recipients, if any,
/// so that `outbox list` shows them; `None` (the earlier attempt's error
/// kept) otherwise.
fn refusals(refused: &[RefusedRecipient]) -> Option<String> {
    (!refused.is_empty()).then(|| {
        let each: Vec<String> = refused
            .iter()
            .map(|r| format!("{}: {}", r.recipient, r.error))
            .collect();
        format!("sent, but refused for {}", each.join("; "))
    })
}

/// Appends a system event about an email in the same transaction.
async fn email_event(
    tx: &mut Tx,
    email: &ClaimedEmail,
    kind: &str,
    data: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let seq = next_seq(tx, &email.case_id).await?;
    insert_event(
        tx,
        &email.case_id,
        seq,
        now,
        &Actor::System,
        kind,
        None,
        None,
        None,
        None,
        data,
    )
    .await
}

/// Writes one result, if `instance` still holds the claim.
async fn record_one(
    tx: &mut Tx,
    instance: &str,
    result: &DeliveryResult,
) -> Result<bool, StoreError> {
    let email = &result.email;
    let changed = match &result.outcome {
        DeliveryOutcome::Sent { refused } => tx
            .execute(
                "update outbox set status = 'sent', sent_at = $3, attempts = attempts + 1, lease_until = null, \
                 last_error = coalesce($4, last_error) where id = $1 and claimed_by = $2 and status = 'pending'",
                args![&email.id, instance, to_ms(result.at), refusals(refused)],
            )
            .await
            .context("cannot mark the email sent")?,
        DeliveryOutcome::Retry {
            next_attempt_at,
            error,
        } => tx
            .execute(
                "update outbox set attempts = attempts + 1, next_attempt_at = $3, last_error = $4, \
                 lease_until = null, claimed_by = null \
                 where id = $1 and claimed_by = $2 and status = 'pending'",
                args![&email.id, instance, to_ms(*next_attempt_at), error.as_str()],
            )
            .await
            .context("cannot reschedule the email")?,
        DeliveryOutcome::Failed { error } => tx
            .execute(
                "update outbox set status = 'failed', attempts = attempts + 1, last_error = $3, lease_until = null \
                 where id = $1 and claimed_by = $2 and status = 'pending'",
                args![&email.id, instance, error.as_str()],
            )
            .await
            .context("cannot park the email")?,
    };
    if changed == 0 {
        return Ok(false);
    }
    let attempts = email.attempts + 1;
    match &result.outcome {
        DeliveryOutcome::Sent { refused } => {
            let mut data = email_data(email, attempts, None);
            if !refused.is_empty() {
                data.insert("refused".to_owned(), json!(refused));
            }
            email_event(tx, email, "email_sent", &data, result.at).await?;
        }
        DeliveryOutcome::Failed { error } => {
            let data = email_data(email, attempts, Some(error));
            email_event(tx, email, "email_failed", &data, result.at).await?;
        }
        DeliveryOutcome::Retry { .. } => {}
    }
    Ok(true)
}

impl Store {
    /// Claims up to `limit` due rows for `instance` until `now + lease` (at
    /// most the last date a clock can hold): rows pending, due, and not
    /// claimed (or whose claim expired — a crashed sender's rows are taken
    /// over by this same query).
    #[tracing::instrument(skip_all, err, fields(instance))]
    pub async fn claim_emails(
        &self,
        instance: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedEmail>, StoreError> {
        let sql = match self.pool {
            Pool::Sqlite(_) => CLAIM_SQLITE,
            Pool::Postgres(_) => CLAIM_POSTGRES,
        };
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin claiming emails")?;
        let mut claimed: Vec<ClaimedEmail> = tx
            .fetch_all(
                sql,
                args![
                    instance,
                    to_ms(after_span(now, lease)),
                    to_ms(now),
                    i64::from(limit)
                ],
            )
            .await
            .context("cannot claim due emails")?;
        tx.commit().await.context("cannot commit the claim")?;
        claimed.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(claimed)
    }

    /// Writes the results of finished attempts in one transaction (one
    /// commit for many messages): each row is marked sent, rescheduled or
    /// parked, with an `email_sent` / `email_failed` event on its case —
    /// only where `instance` still holds the claim. Returns, per result,
    /// whether it was written; `false` means another sender took the row
    /// over after the lease ran out and will send it again (delivery is at
    /// least once).
    pub async fn record_deliveries(
        &self,
        instance: &str,
        results: &[DeliveryResult],
    ) -> Result<Vec<bool>, StoreError> {
        if results.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin recording delivery results")?;
        // Rows are written case by case in one fixed order, whatever order
        // the sends finished in: two instances recording results of the same
        // cases then lock those cases' rows in the same order, and cannot
        // deadlock on PostgreSQL.
        let mut order: Vec<usize> = (0..results.len()).collect();
        order.sort_by(|a, b| {
            let (a, b) = (&results[*a].email, &results[*b].email);
            (&a.case_id, &a.id).cmp(&(&b.case_id, &b.id))
        });
        let mut written = vec![false; results.len()];
        for index in order {
            written[index] = record_one(&mut tx, instance, &results[index]).await?;
        }
        tx.commit()
            .await
            .context("cannot commit delivery results")?;
        Ok(written)
    }

    /// Marks one claimed row sent (see [`Store::record_deliveries`]).
    pub async fn mark_email_sent(
        &self,
        email: &ClaimedEmail,
        instance: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.record_single(
            instance,
            email,
            DeliveryOutcome::Sent {
                refused: Vec::new(),
            },
            now,
        )
        .await
    }

    /// Counts a failed attempt of one claimed row and schedules the next
    /// (see [`Store::record_deliveries`]).
    pub async fn reschedule_email(
        &self,
        email: &ClaimedEmail,
        instance: &str,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StoreError> {
        let outcome = DeliveryOutcome::Retry {
            next_attempt_at,
            error: error.to_owned(),
        };
        self.record_single(instance, email, outcome, next_attempt_at)
            .await
    }

    /// Parks one claimed row as failed (see [`Store::record_deliveries`]).
    pub async fn park_email(
        &self,
        email: &ClaimedEmail,
        instance: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let outcome = DeliveryOutcome::Failed {
            error: error.to_owned(),
        };
        self.record_single(instance, email, outcome, now).await
    }

    async fn record_single(
        &self,
        instance: &str,
        email: &ClaimedEmail,
        outcome: DeliveryOutcome,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = DeliveryResult {
            email: email.clone(),
            outcome,
            at,
        };
        let written = self.record_deliveries(instance, &[result]).await?;
        Ok(written.first().copied().unwrap_or(false))
    }

    /// When the next pending row becomes claimable: its due time, or for a
    /// row claimed by a sender, just after its lease runs out. A row that
    /// waits for an earlier email of its case (see the claim) is left out:
    /// the earlier row's own time is when it can move again.
    pub async fn next_email_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row: Option<(Option<i64>,)> = self
            .pool
            .fetch_optional(
                concat!(
                    "select min(case when lease_until is not null and lease_until >= next_attempt_at \
                     then lease_until + 1 else next_attempt_at end) from outbox o \
                     where status = 'pending' and not ",
                    // Claimed at all, even past its lease: its own time covers it.
                    waits_for_earlier!("earlier.lease_until is not null")
                ),
                Vec::new(),
            )
            .await
            .context("cannot read when the next email is due")?;
        Ok(row.and_then(|(due,)| due).map(from_ms))
    }

    /// Outbox rows, newest first, optionally only those with `status`.
    pub async fn list_emails(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        if let Some(status) = status {
            if !OUTBOX_STATUSES.contains(&status) {
                return Err(StoreError::Invalid {
                    field: "status",
                    message: format!(
                        "`{status}` is not a status; use `pending`, `sent` or `failed`"
                    ),
                });
            }
        }
        let rows: Vec<EntryRow> = match status {
            Some(status) => {
                self.pool
                    .fetch_all(
                        select_entries!(
                            " where status = $1 order by created_at desc, id desc limit $2"
                        ),
                        args![status, i64::from(limit)],
                    )
                    .await
            }
            None => {
                self.pool
                    .fetch_all(
                        select_entries!(" order by created_at desc, id desc limit $1"),
                        args![i64::from(limit)],
                    )
                    .await
            }
        }
        .context("cannot list the outbox")?;
        rows.into_iter().map(EntryRow::into_entry).collect()
    }

    /// One outbox row.
    pub async fn outbox_entry(&self, id: &str) -> Result<OutboxEntry, StoreError> {
        let row: Option<EntryRow> = self
            .pool
            .fetch_optional(select_entries!(" where id = $1"), args![id])
            .await
            .context("cannot read the outbox row")?;
        row.ok_or_else(|| StoreError::NotFound {
            what: "outbox row",
            id: id.to_owned(),
        })?
        .into_entry()
    }

    /// Puts a failed row back in the queue: `pending`, attempts reset, due
    /// at `now`, recorded as an `email_retried` event on its case. Rows that
    /// are pending or sent are refused.
    pub async fn retry_email(
        &self,
        id: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<OutboxEntry, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin retrying the email")?;
        let row: Option<EntryRow> = tx
            .fetch_optional(select_entries!(" where id = $1"), args![id])
            .await
            .context("cannot read the outbox row")?;
        let Some(row) = row else {
            return Err(StoreError::NotFound {
                what: "outbox row",
                id: id.to_owned(),
            });
        };
        if row.status != "failed" {
            return Err(StoreError::Invalid {
                field: "id",
                message: format!(
                    "outbox row `{id}` is {}; only failed emails can be retried",
                    row.status
                ),
            });
        }
        tx.execute(
            "update outbox set status = 'pending', attempts = 0, next_attempt_at = $2, \
             lease_until = null, claimed_by = null where id = $1 and status = 'failed'",
            args![id, to_ms(now)],
        )
        .await
        .context("cannot queue the email again")?;
        let mut data = Map::new();
        data.insert("outbox_id".to_owned(), json!(row.id));
        data.insert("message_id".to_owned(), json!(row.message_id));
        data.insert("email".to_owned(), json!(row.event));
        data.insert("attempts".to_owned(), json!(row.attempts));
        if let Some(error) = &row.last_error {
            data.insert("error".to_owned(), json!(error));
        }
        let seq = next_seq(&mut tx, &row.case_id).await?;
        insert_event(
            &mut tx,
            &row.case_id,
            seq,
            now,
            actor,
            "email_retried",
            None,
            None,
            None,
            None,
            &data,
        )
        .await?;
        tx.commit()
            .await
            .context("cannot commit retrying the email")?;
        self.outbox_entry(id).await
    }
}
