//! Intake: storing a newly submitted, classified case with its first event,
//! its emails and its deadline. The rows are written by one function that
//! works inside a transaction it is given ([`insert_intake`]), so the same
//! code serves a single intake (its own transaction) and the group commit of
//! `batch.rs` (one savepoint per intake inside a shared transaction).
//!
//! Idempotency rests on the unique constraint on (partner, `external_id`):
//! when the insert violates it, the stored case is looked up and compared by
//! fingerprint — the same case is answered again, a different one is a
//! conflict.

use chrono::{DateTime, Utc};
use serde_json::Map;

use super::apply::{apply, load_partner, Written};
use super::db::{args, violated_constraint, Constraint, Tx};
use super::error::{Context, StoreError};
use super::ids;
use super::partners::Partner;
use super::records::{case_select, from_ms, to_ms, CaseRecord, CaseRow};
use super::write::outcome_json;
use super::Store;
use crate::case::Case;
use crate::config::Settings;
use crate::policy::Outcome;
use crate::workflow::{Actor, Stage, Transition};

/// The result of an intake.
#[derive(Debug, Clone, PartialEq)]
pub struct Intake {
    /// The stored case.
    pub case: CaseRecord,
    /// `false` when the same case had been submitted before (idempotent resubmission).
    pub created: bool,
}

/// What [`insert_intake`] did inside its transaction.
pub(super) enum Inserted {
    /// The case and everything it promises are written.
    New(Box<CaseRecord>),
    /// The partner already has a case with this `external_id` (the unique
    /// constraint refused the insert); the caller looks it up. On
    /// PostgreSQL the transaction is aborted and must be rolled back (or
    /// rolled back to its savepoint) first.
    Taken(sqlx::Error),
}

/// Writes a new case of `partner`, its `intake` event (with the outcome),
/// its emails and its deadline inside `tx`.
pub(super) async fn insert_intake(
    tx: &mut Tx,
    partner: &Partner,
    case: &Case,
    outcome: &Outcome,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Inserted, StoreError> {
    let partner_id = partner.id.as_str();
    let actor = Actor::Partner {
        id: partner_id.to_owned(),
    };
    let transition = Transition::intake(outcome.clone(), actor, now);
    // Stored times have millisecond precision; the record says what a read
    // would return.
    let now = from_ms(to_ms(now));
    let mut record = CaseRecord {
        id: ids::case_id(),
        external_id: case.external_id().as_str().to_owned(),
        partner_id: partner_id.to_owned(),
        stage: transition.to,
        decision: outcome.decision,
        outcome: outcome.clone(),
        deadline: None,
        version: 1,
        vianet_case_id: None,
        reopened: 0,
        ever_escalated: transition.to == Stage::Escalated,
        severity: case.severity(),
        fingerprint: case.fingerprint(),
        case: case.to_json(),
        created_at: now,
        updated_at: now,
    };
    let inserted = tx
        .execute(
            "insert into cases (id, partner_id, external_id, fingerprint, case_json, severity, stage, decision, \
             outcome_json, version, vianet_case_id, reopened, ever_escalated, last_seq, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, null, 0, $10, 1, $11, $11)",
            args![
                &record.id,
                partner_id,
                &record.external_id,
                &record.fingerprint,
                record.case.to_string(),
                record.severity.as_str(),
                record.stage.as_str(),
                record.decision.as_str(),
                outcome_json(outcome),
                record.ever_escalated,
                to_ms(now),
            ],
        )
        .await;
    if let Err(error) = inserted {
        if violated_constraint(&error) == Some(Constraint::CaseExternalId) {
            return Ok(Inserted::Taken(error));
        }
        return Err(StoreError::Database {
            context: "cannot store the case",
            source: error,
        });
    }
    let written = Written {
        kind: "intake",
        data: Map::new(),
        seq: 1,
        new_case: true,
    };
    // INVARIANT: the row just inserted holds exactly `record`'s values, so
    // the record is not read back; `apply` returns the deadline it wrote.
    record.deadline = apply(tx, &record, partner, &transition, written, None, settings).await?;
    Ok(Inserted::New(Box::new(record)))
}

/// A partner's case by `external_id`: the resubmission look-up, in or out
/// of a transaction.
const CASE_BY_EXTERNAL_ID: &str = concat!(
    case_select!(),
    " where c.partner_id = $1 and c.external_id = $2"
);

/// The stored case with this `external_id`, read inside `tx`, compared with
/// the resubmitted case's fingerprint.
pub(super) async fn existing_in_tx(
    tx: &mut Tx,
    partner_id: &str,
    case: &Case,
) -> Result<Option<Intake>, StoreError> {
    let row: Option<CaseRow> = tx
        .fetch_optional(
            CASE_BY_EXTERNAL_ID,
            args![partner_id, case.external_id().as_str()],
        )
        .await
        .context("cannot look up the case's external_id")?;
    resubmission(row, case)
}

/// `Some` when the stored case has the same fingerprint, a conflict when it
/// differs, `None` when there is no stored case.
fn resubmission(row: Option<CaseRow>, case: &Case) -> Result<Option<Intake>, StoreError> {
    let Some(row) = row else { return Ok(None) };
    let record = row.into_record()?;
    if record.fingerprint == case.fingerprint() {
        Ok(Some(Intake {
            case: record,
            created: false,
        }))
    } else {
        Err(StoreError::Conflict {
            external_id: case.external_id().as_str().to_owned(),
            case_id: record.id,
        })
    }
}

impl Store {
    /// Stores a newly submitted, classified case: the case, its `intake`
    /// event (with the outcome), its emails and its deadline, in one
    /// transaction. Idempotent on (partner, `external_id`): the same case
    /// again returns the stored one with `created: false`; a different case
    /// under the same `external_id` is a [`StoreError::Conflict`].
    ///
    /// With group commit on ([`Store::with_group_commit`]) concurrent intakes
    /// share one transaction; each call still returns only after its case is
    /// durable, with the same results as alone.
    ///
    /// Failures are traced at debug only: most are the client's (a
    /// conflicting resubmission), and the caller logs those that are not.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(partner_id))]
    pub async fn intake(
        &self,
        partner_id: &str,
        case: &Case,
        outcome: &Outcome,
        settings: &Settings,
        now: DateTime<Utc>,
    ) -> Result<Intake, StoreError> {
        if let Some(queue) = &self.intake_queue {
            return queue.submit(partner_id, case, outcome, settings, now).await;
        }
        if let Some(existing) = self.existing_intake(partner_id, case).await? {
            return Ok(existing);
        }
        let mut tx = self.pool.begin().await.context("cannot begin the intake")?;
        let partner = load_partner(&mut tx, partner_id).await?;
        match insert_intake(&mut tx, &partner, case, outcome, settings, now).await? {
            Inserted::New(record) => {
                tx.commit().await.context("cannot commit the intake")?;
                Ok(Intake {
                    case: *record,
                    created: true,
                })
            }
            Inserted::Taken(error) => {
                // Another request stored the same external_id first.
                tx.rollback().await.context("cannot roll back the intake")?;
                self.existing_intake(partner_id, case)
                    .await?
                    .ok_or(StoreError::Database {
                        context: "the conflicting case vanished during intake",
                        source: error,
                    })
            }
        }
    }

    /// The stored case for a resubmission (see [`resubmission`]), read outside
    /// any transaction.
    async fn existing_intake(
        &self,
        partner_id: &str,
        case: &Case,
    ) -> Result<Option<Intake>, StoreError> {
        let row: Option<CaseRow> = self
            .pool
            .fetch_optional(
                CASE_BY_EXTERNAL_ID,
                args![partner_id, case.external_id().as_str()],
            )
            .await
            .context("cannot look up the case's external_id")?;
        resubmission(row, case)
    }
}
