//! Every write that changes an existing case: the one stage-change function,
//! deadline notices and plain events (intake is in `intake.rs`). Each is one
//! transaction that writes the case, its event, the outbox rows and the
//! deadline together, so an email or a deadline is never promised without
//! the change that caused it.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::apply::{
    apply, insert_event, insert_outbox, last_seq, load_case, load_partner, next_seq,
    replace_deadline, thread_root, Written,
};
use super::db::{args, Tx};
use super::error::{Context, StoreError};
use super::records::{to_ms, CaseRecord};
use super::{Scope, Store};
use crate::config::Settings;
use crate::mail::EmailEvent;
use crate::policy::Outcome;
use crate::workflow::{
    self, Action, Actor, DeadlineState, EffectContext, MoveRequest, Stage, Trigger,
};

/// An event that is not a stage change (`email_sent`, `email_failed`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The event's kind.
    pub kind: String,
    /// Who.
    pub actor: Actor,
    /// A reason or note, if any.
    pub reason: Option<String>,
    /// Extra fields, flattened into the event's JSON.
    pub data: Map<String, Value>,
}

/// A deadline warning or reminder the deadline worker records: one event of
/// kind `deadline`, one email (To the escalation desk, Cc the partner desk)
/// and the deadline's new state, in one transaction. The case's stage and
/// version do not change.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadlineNotice {
    /// The case version the worker saw; a case that moved since is refused
    /// with [`StoreError::VersionConflict`] (its deadline is gone or new).
    pub version: i64,
    /// `deadline_warning` or `deadline_overdue`.
    pub email: EmailEvent,
    /// The deadline after the notice (`warned`, `reminders`, `next_action_at` advanced).
    pub deadline: DeadlineState,
}

impl Store {
    /// THE stage change: the only code that changes a case's stage.
    ///
    /// Loads the case within `scope` (else [`StoreError::NotFound`]), checks
    /// `request.version` (else [`StoreError::VersionConflict`]), asks the
    /// workflow whether `actor` may make the move (else
    /// [`StoreError::MoveRefused`]), and writes the new stage, version + 1,
    /// the event, the outbox rows and the deadline in one transaction.
    /// A refused or stale move changes nothing.
    ///
    /// Failures are traced at debug only: most are the client's (a refused
    /// or stale move), and the caller logs those that are not.
    #[tracing::instrument(skip_all, err(level = "debug"), fields(case_id, to = %request.to))]
    pub async fn change_stage(
        &self,
        case_id: &str,
        scope: &Scope,
        request: &MoveRequest,
        actor: &Actor,
        settings: &Settings,
        now: DateTime<Utc>,
    ) -> Result<CaseRecord, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin the stage change")?;
        let current = load_case(&mut tx, case_id).await?;
        if !scope.sees(&current) {
            return Err(StoreError::NotFound {
                what: "case",
                id: case_id.to_owned(),
            });
        }
        if current.version != request.version {
            return Err(StoreError::VersionConflict {
                current: current.version,
            });
        }
        let transition = workflow::decide(current.stage, request, actor, now)?;
        let reclassified = transition.classification.as_ref();
        let changed = tx
            .execute(
                "update cases set stage = $3, version = version + 1, updated_at = $4, \
                 vianet_case_id = coalesce($5, vianet_case_id), \
                 ever_escalated = (ever_escalated or $6), \
                 decision = coalesce($7, decision), outcome_json = coalesce($8, outcome_json), \
                 reopened = reopened + $9, last_seq = last_seq + 1 \
                 where id = $1 and version = $2",
                args![
                    case_id,
                    request.version,
                    transition.to.as_str(),
                    to_ms(now),
                    transition.vianet_case_id.clone(),
                    transition.to == Stage::Escalated,
                    reclassified.map(|outcome| outcome.decision.as_str()),
                    reclassified.map(outcome_json),
                    i64::from(transition.action == Action::Reopen),
                ],
            )
            .await
            .context("cannot update the case's stage")?;
        if changed == 0 {
            // A concurrent move committed first (PostgreSQL re-checks the
            // version after waiting for its row lock).
            let latest = load_case(&mut tx, case_id).await?;
            return Err(StoreError::VersionConflict {
                current: latest.version,
            });
        }
        let partner = load_partner(&mut tx, &current.partner_id).await?;
        let updated = load_case(&mut tx, case_id).await?;
        let seq = last_seq(&mut tx, case_id).await?;
        let mut data = Map::new();
        let kind = match request.trigger {
            Trigger::Deadline(kind) => {
                data.insert("deadline_kind".to_owned(), json!(kind.as_str()));
                "deadline"
            }
            Trigger::Request if transition.action == Action::Reopen => "reopen",
            Trigger::Request => "move",
        };
        let written = Written {
            kind,
            data,
            seq,
            new_case: false,
        };
        apply(
            &mut tx,
            &updated,
            &partner,
            &transition,
            written,
            current.deadline.as_ref(),
            settings,
        )
        .await?;
        let record = load_case(&mut tx, case_id).await?;
        tx.commit()
            .await
            .context("cannot commit the stage change")?;
        Ok(record)
    }

    /// Records a deadline warning or reminder (see [`DeadlineNotice`]).
    #[tracing::instrument(skip_all, err, fields(case_id))]
    pub async fn record_deadline_notice(
        &self,
        case_id: &str,
        notice: &DeadlineNotice,
        settings: &Settings,
        now: DateTime<Utc>,
    ) -> Result<CaseRecord, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin the deadline notice")?;
        let record = write_notice(&mut tx, case_id, notice, settings, now).await?;
        tx.commit()
            .await
            .context("cannot commit the deadline notice")?;
        Ok(record)
    }

    /// Appends an event that changes nothing else (the mail dispatcher's
    /// `email_sent` / `email_failed`). Returns its sequence number.
    pub async fn record_event(
        &self,
        case_id: &str,
        event: &NewEvent,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin recording the event")?;
        let seq = next_seq(&mut tx, case_id).await?;
        insert_event(
            &mut tx,
            case_id,
            seq,
            now,
            &event.actor,
            &event.kind,
            None,
            None,
            event.reason.as_deref(),
            None,
            &event.data,
        )
        .await?;
        tx.commit().await.context("cannot commit the event")?;
        Ok(seq)
    }
}

/// The writes of a deadline notice inside an open transaction: the event,
/// the email and the deadline's new state (see [`DeadlineNotice`]).
pub(super) async fn write_notice(
    tx: &mut Tx,
    case_id: &str,
    notice: &DeadlineNotice,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<CaseRecord, StoreError> {
    let current = load_case(tx, case_id).await?;
    if current.version != notice.version {
        return Err(StoreError::VersionConflict {
            current: current.version,
        });
    }
    let seq = next_seq(tx, case_id).await?;
    let partner = load_partner(tx, &current.partner_id).await?;
    let mut data = Map::new();
    data.insert(
        "deadline_kind".to_owned(),
        json!(notice.deadline.kind.as_str()),
    );
    data.insert("notice".to_owned(), json!(notice.email.as_str()));
    insert_event(
        tx,
        case_id,
        seq,
        now,
        &Actor::System,
        "deadline",
        None,
        None,
        None,
        None,
        &data,
    )
    .await?;
    let root = thread_root(tx, case_id).await?;
    let context = EffectContext {
        case_id,
        event_seq: seq,
        severity: current.severity,
        outcome: &current.outcome,
        current_deadline: current.deadline.as_ref(),
        partner_email: &partner.email,
        thread_root: root.as_deref(),
        deadlines: &settings.deadlines,
        mail: &settings.mail,
    };
    let plan = workflow::deadline_email(notice.email, &context);
    let mut after = current.clone();
    after.deadline = Some(notice.deadline.clone());
    insert_outbox(tx, &plan, seq, &after, &partner, None, now).await?;
    replace_deadline(tx, case_id, Some(&notice.deadline)).await?;
    load_case(tx, case_id).await
}

/// The outcome as stored in `cases.outcome_json`.
pub(super) fn outcome_json(outcome: &Outcome) -> String {
    serde_json::to_string(outcome).unwrap_or_else(|_| "null".to_owned())
}
