//! The deadline worker's side of the `deadlines` table: claiming due rows
//! with a lease, recording a notice only if the claimed state still holds,
//! and releasing a claim. The stage changes themselves go through
//! [`Store::change_stage`] like any other move.
//!
//! A claim is `lease_until` + `claimed_by` on the row. Rows are claimed when
//! their `next_action_at` has come, they are running (not paused) and no live
//! lease holds them; an expired lease is simply claimed again by the same
//! statement, so a crashed instance's rows are taken over without a separate
//! rescuer. On PostgreSQL the claim locks the rows it picks with
//! `for update skip locked` (instances never wait on each other); on SQLite
//! the claim runs inside `BEGIN IMMEDIATE`, which serialises writers.
//! Nothing here makes an action happen twice: a move checks the case version
//! seen at the claim, a notice compares-and-sets the claimed row.

use chrono::{DateTime, Utc};

use super::db::{args, Pool};
use super::error::{Context, StoreError};
use super::records::{after_span, from_ms, to_ms};
use super::write::{write_notice, DeadlineNotice};
use super::{CaseRecord, Store};
use crate::config::Settings;
use crate::workflow::{DeadlineState, Stage};

/// A deadline claimed by one worker instance, with the case state it was
/// claimed against.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDeadline {
    /// The case.
    pub case_id: String,
    /// The case's version when claimed; a move must start from it.
    pub version: i64,
    /// The case's stage when claimed.
    pub case_stage: Stage,
    /// The deadline as claimed.
    pub deadline: DeadlineState,
    /// The instance holding the claim.
    pub claimed_by: String,
    /// When the claim lapses and another instance may take the row.
    pub lease_until: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    case_id: String,
    kind: String,
    stage: String,
    span_ms: i64,
    due_at: Option<i64>,
    remaining_ms: Option<i64>,
    warned: bool,
    reminders: i64,
    next_action_at: Option<i64>,
    lease_until: i64,
    claimed_by: String,
    version: i64,
    case_stage: String,
}

impl ClaimRow {
    fn into_claim(self) -> Result<ClaimedDeadline, StoreError> {
        let case_id = self.case_id.clone();
        let corrupt = |what: &'static str, message: String| StoreError::Corrupt {
            what,
            case_id: case_id.clone(),
            message,
        };
        Ok(ClaimedDeadline {
            deadline: DeadlineState {
                kind: self
                    .kind
                    .parse()
                    .map_err(|message| corrupt("deadline kind", message))?,
                stage: self
                    .stage
                    .parse()
                    .map_err(|message| corrupt("deadline stage", message))?,
                span_ms: self.span_ms,
                due_at: self.due_at.map(from_ms),
                remaining_ms: self.remaining_ms,
                warned: self.warned,
                reminders: u32::try_from(self.reminders).unwrap_or(u32::MAX),
                next_action_at: self.next_action_at.map(from_ms),
            },
            case_stage: self
                .case_stage
                .parse()
                .map_err(|message| corrupt("stage", message))?,
            case_id: self.case_id,
            version: self.version,
            claimed_by: self.claimed_by,
            lease_until: from_ms(self.lease_until),
        })
    }
}

/// The claimed row's columns plus the case's version and stage, read in the
/// claiming statement itself so that they belong to the same moment.
macro_rules! claim_returning {
    () => {
        " returning case_id, kind, stage, span_ms, due_at, remaining_ms, warned, reminders, \
         next_action_at, lease_until, claimed_by, \
         (select c.version from cases c where c.id = deadlines.case_id) as version, \
         (select c.stage from cases c where c.id = deadlines.case_id) as case_stage"
    };
}

/// Due, running rows without a live lease, oldest first.
macro_rules! claimable {
    () => {
        "select case_id from deadlines \
         where next_action_at is not null and next_action_at <= $1 and due_at is not null \
         and (lease_until is null or lease_until <= $1) \
         order by next_action_at, case_id limit $4"
    };
}

const CLAIM_POSTGRES: &str = concat!(
    "update deadlines set lease_until = $2, claimed_by = $3 where case_id in (",
    claimable!(),
    " for update skip locked)",
    claim_returning!()
);

const CLAIM_SQLITE: &str = concat!(
    "update deadlines set lease_until = $2, claimed_by = $3 where case_id in (",
    claimable!(),
    ")",
    claim_returning!()
);

impl Store {
    /// Claims up to `limit` deadlines whose next action is due at `now` for
    /// `instance`, each for `lease`. Rows under another instance's live
    /// lease are skipped; rows whose lease expired are taken over.
    #[tracing::instrument(skip_all, err, fields(instance))]
    pub async fn claim_due_deadlines(
        &self,
        instance: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDeadline>, StoreError> {
        let lease_until = after_span(now, lease);
        let sql = match self.pool {
            Pool::Sqlite(_) => CLAIM_SQLITE,
            Pool::Postgres(_) => CLAIM_POSTGRES,
        };
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin claiming deadlines")?;
        let rows: Vec<ClaimRow> = tx
            .fetch_all(
                sql,
                args![to_ms(now), to_ms(lease_until), instance, i64::from(limit)],
            )
            .await
            .context("cannot claim due deadlines")?;
        tx.commit()
            .await
            .context("cannot commit the deadline claims")?;
        rows.into_iter().map(ClaimRow::into_claim).collect()
    }

    /// Records a warning or reminder for a claimed deadline — only if the
    /// case is still at the claimed version and the row still carries this
    /// claim and the claimed `warned`/`reminders`. Returns `None` (and
    /// changes nothing) when another instance or a move got there first.
    /// The row written by the notice has no lease: the claim is released.
    #[tracing::instrument(skip_all, err, fields(case_id = %claim.case_id))]
    pub async fn record_claimed_notice(
        &self,
        claim: &ClaimedDeadline,
        notice: &DeadlineNotice,
        settings: &Settings,
        now: DateTime<Utc>,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin the deadline notice")?;
        // INVARIANT: the case row is locked before the deadline row, in the
        // same order as `change_stage`, so the two never deadlock.
        let case_current = tx
            .execute(
                "update cases set version = version where id = $1 and version = $2",
                args![&claim.case_id, claim.version],
            )
            .await
            .context("cannot lock the case for the deadline notice")?;
        let deadline_current = if case_current == 1 {
            tx.execute(
                "update deadlines set claimed_by = claimed_by \
                 where case_id = $1 and claimed_by = $2 and lease_until = $3 \
                 and warned = $4 and reminders = $5",
                args![
                    &claim.case_id,
                    &claim.claimed_by,
                    to_ms(claim.lease_until),
                    claim.deadline.warned,
                    i64::from(claim.deadline.reminders),
                ],
            )
            .await
            .context("cannot check the claimed deadline")?
        } else {
            0
        };
        if deadline_current != 1 {
            tx.rollback()
                .await
                .context("cannot roll back a stale deadline notice")?;
            return Ok(None);
        }
        let record = write_notice(&mut tx, &claim.case_id, notice, settings, now).await?;
        tx.commit()
            .await
            .context("cannot commit the deadline notice")?;
        Ok(Some(record))
    }

    /// Stores the next look of a claimed deadline without sending anything
    /// (`None`: nothing more to do for it) and releases the claim. Returns
    /// `false` when the row no longer carries this claim.
    pub async fn reschedule_claimed_deadline(
        &self,
        claim: &ClaimedDeadline,
        next_action_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin rescheduling the deadline")?;
        let changed = tx
            .execute(
                "update deadlines set next_action_at = $4, lease_until = null, claimed_by = null \
                 where case_id = $1 and claimed_by = $2 and lease_until = $3",
                args![
                    &claim.case_id,
                    &claim.claimed_by,
                    to_ms(claim.lease_until),
                    next_action_at.map(to_ms),
                ],
            )
            .await
            .context("cannot reschedule the deadline")?;
        tx.commit()
            .await
            .context("cannot commit the rescheduled deadline")?;
        Ok(changed == 1)
    }

    /// When the deadline worker should look next: the earliest
    /// `next_action_at` of a running deadline, or the end of the lease
    /// holding it if that is later. `None` when no deadline is running.
    pub async fn next_deadline_action(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row: Option<(Option<i64>,)> = self
            .pool
            .fetch_optional(
                "select min(case when lease_until is not null and lease_until > next_action_at \
                 then lease_until else next_action_at end) from deadlines \
                 where next_action_at is not null and due_at is not null",
                args![],
            )
            .await
            .context("cannot read the next deadline")?;
        Ok(row.and_then(|(at,)| at).map(from_ms))
    }
}
