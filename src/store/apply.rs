//! The rows a write touches inside its transaction: the case and partner
//! it reads, the event it appends, the outbox rows and the deadline it
//! writes. [`apply`] turns one workflow transition into those rows.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::db::{args, Tx};
use super::error::{Context, StoreError};
use super::ids;
use super::partners::Partner;
use super::records::{case_select, to_ms, CaseRecord, CaseRow};
use crate::config::Settings;
use crate::mail::{DeadlineInfo, EmailPayload, PartnerContact};
use crate::workflow::{
    self, Action, Actor, DeadlineState, EffectContext, EmailPlan, Stage, Transition,
};

/// How a transition's event is recorded: its kind, extra data, and number.
pub(super) struct Written {
    pub kind: &'static str,
    pub data: Map<String, Value>,
    pub seq: i64,
    /// The case was inserted in this transaction: it has no email and no
    /// deadline yet, so there is nothing to read or clear first.
    pub new_case: bool,
}

/// Writes what a transition promises: its event, its emails and its deadline.
/// `record` is the case after the stage was written. Returns the deadline
/// the case carries afterwards.
pub(super) async fn apply(
    tx: &mut Tx,
    record: &CaseRecord,
    partner: &Partner,
    transition: &Transition,
    written: Written,
    previous_deadline: Option<&DeadlineState>,
    settings: &Settings,
) -> Result<Option<DeadlineState>, StoreError> {
    let Written {
        kind,
        mut data,
        seq,
        new_case,
    } = written;
    if let Some(outcome) = &transition.classification {
        data.insert(
            "outcome".to_owned(),
            serde_json::to_value(outcome).unwrap_or(Value::Null),
        );
        data.insert("policy".to_owned(), json!(outcome.policy));
    }
    if let Some(vianet_case_id) = &transition.vianet_case_id {
        data.insert("vianet_case_id".to_owned(), json!(vianet_case_id));
    }
    insert_event(
        tx,
        &record.id,
        seq,
        transition.at,
        &transition.actor,
        kind,
        transition.from,
        Some(transition.to),
        transition.reason.as_deref(),
        Some(transition.action),
        &data,
    )
    .await?;
    let root = if new_case {
        None
    } else {
        thread_root(tx, &record.id).await?
    };
    let context = EffectContext {
        case_id: &record.id,
        event_seq: seq,
        severity: record.severity,
        outcome: &record.outcome,
        current_deadline: previous_deadline,
        partner_email: &partner.email,
        thread_root: root.as_deref(),
        deadlines: &settings.deadlines,
        mail: &settings.mail,
    };
    let effects = workflow::effects(transition, &context);
    let mut after = record.clone();
    after.deadline = effects.deadline.clone();
    for plan in &effects.emails {
        insert_outbox(
            tx,
            plan,
            seq,
            &after,
            partner,
            transition.reason.as_deref(),
            transition.at,
        )
        .await?;
    }
    if new_case {
        insert_deadline(tx, &record.id, effects.deadline.as_ref()).await?;
    } else {
        replace_deadline(tx, &record.id, effects.deadline.as_ref()).await?;
    }
    Ok(effects.deadline)
}

pub(super) async fn load_case(tx: &mut Tx, case_id: &str) -> Result<CaseRecord, StoreError> {
    let row: Option<CaseRow> = tx
        .fetch_optional(concat!(case_select!(), " where c.id = $1"), args![case_id])
        .await
        .context("cannot read the case")?;
    row.ok_or_else(|| StoreError::NotFound {
        what: "case",
        id: case_id.to_owned(),
    })?
    .into_record()
}

pub(super) async fn load_partner(tx: &mut Tx, partner_id: &str) -> Result<Partner, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        name: String,
        email: String,
    }
    let row: Option<Row> = tx
        .fetch_optional(
            "select id, name, email from partners where id = $1",
            args![partner_id],
        )
        .await
        .context("cannot read the case's partner")?;
    let row = row.ok_or_else(|| StoreError::NotFound {
        what: "partner",
        id: partner_id.to_owned(),
    })?;
    Ok(Partner {
        capabilities: crate::case::Capabilities {
            id: row.id.clone(),
            ..Default::default()
        },
        id: row.id,
        name: row.name,
        email: row.email,
        created_at: DateTime::<Utc>::MIN_UTC,
        updated_at: DateTime::<Utc>::MIN_UTC,
    })
}

/// Takes the case's next event number. The update also locks the case row
/// (PostgreSQL) for the rest of the transaction, so numbers never collide.
pub(super) async fn next_seq(tx: &mut Tx, case_id: &str) -> Result<i64, StoreError> {
    let row: Option<(i64,)> = tx
        .fetch_optional(
            "update cases set last_seq = last_seq + 1 where id = $1 returning last_seq",
            args![case_id],
        )
        .await
        .context("cannot number the case's event")?;
    row.map(|(seq,)| seq).ok_or_else(|| StoreError::NotFound {
        what: "case",
        id: case_id.to_owned(),
    })
}

pub(super) async fn last_seq(tx: &mut Tx, case_id: &str) -> Result<i64, StoreError> {
    let (seq,): (i64,) = tx
        .fetch_one("select last_seq from cases where id = $1", args![case_id])
        .await
        .context("cannot read the case's event number")?;
    Ok(seq)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one column per argument of the events row"
)]
pub(super) async fn insert_event(
    tx: &mut Tx,
    case_id: &str,
    seq: i64,
    at: DateTime<Utc>,
    actor: &Actor,
    kind: &str,
    from: Option<Stage>,
    to: Option<Stage>,
    reason: Option<&str>,
    action: Option<Action>,
    data: &Map<String, Value>,
) -> Result<(), StoreError> {
    let data = (!data.is_empty()).then(|| Value::Object(data.clone()).to_string());
    tx.execute(
        "insert into events (case_id, seq, at, actor_role, actor_id, kind, from_stage, to_stage, reason, action, data) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        args![
            case_id,
            seq,
            to_ms(at),
            actor.role().as_str(),
            actor.id(),
            kind,
            from.map(Stage::as_str),
            to.map(Stage::as_str),
            reason,
            action.map(Action::as_str),
            data,
        ],
    )
    .await
    .context("cannot store the event")?;
    Ok(())
}

/// The Message-ID of the case's first email, if it has one.
pub(super) async fn thread_root(tx: &mut Tx, case_id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = tx
        .fetch_optional(
            "select message_id from outbox where case_id = $1 order by event_seq, created_at limit 1",
            args![case_id],
        )
        .await
        .context("cannot read the case's first email")?;
    Ok(row.map(|(id,)| id))
}

pub(super) async fn insert_outbox(
    tx: &mut Tx,
    plan: &EmailPlan,
    seq: i64,
    case: &CaseRecord,
    partner: &Partner,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let payload = EmailPayload {
        event: plan.event,
        case_id: case.id.clone(),
        external_id: case.external_id.clone(),
        partner: PartnerContact {
            id: partner.id.clone(),
            name: partner.name.clone(),
            email: partner.email.clone(),
        },
        case: case.case.clone(),
        outcome: case.outcome.clone(),
        stage: case.stage.as_str().to_owned(),
        reason: reason.map(str::to_owned),
        vianet_case_id: case.vianet_case_id.clone(),
        deadline: case.deadline.as_ref().and_then(|deadline| {
            deadline.due_at.map(|at| DeadlineInfo {
                kind: deadline.kind.as_str().to_owned(),
                at,
            })
        }),
        occurred_at: now,
        message_id: plan.message_id.clone(),
        thread_root: plan.thread_root.clone(),
        to: plan.to.clone(),
        cc: plan.cc.clone(),
    };
    tx.execute(
        "insert into outbox (id, case_id, event_seq, event, dedupe_key, message_id, to_addrs, cc_addrs, payload, \
         status, attempts, next_attempt_at, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10) \
         on conflict (dedupe_key) do nothing",
        args![
            ids::random_id("m_"),
            &case.id,
            seq,
            plan.event.as_str(),
            &plan.dedupe_key,
            &plan.message_id,
            json!(plan.to).to_string(),
            json!(plan.cc).to_string(),
            serde_json::to_string(&payload).unwrap_or_else(|_| "null".to_owned()),
            to_ms(now),
        ],
    )
    .await
    .context("cannot queue the email")?;
    Ok(())
}

/// Replaces the case's deadline row (deleting it for `None`).
pub(super) async fn replace_deadline(
    tx: &mut Tx,
    case_id: &str,
    deadline: Option<&DeadlineState>,
) -> Result<(), StoreError> {
    tx.execute("delete from deadlines where case_id = $1", args![case_id])
        .await
        .context("cannot clear the case's deadline")?;
    insert_deadline(tx, case_id, deadline).await
}

/// Writes the case's deadline row (nothing for `None`); the case has none yet.
async fn insert_deadline(
    tx: &mut Tx,
    case_id: &str,
    deadline: Option<&DeadlineState>,
) -> Result<(), StoreError> {
    let Some(deadline) = deadline else {
        return Ok(());
    };
    tx.execute(
        "insert into deadlines (case_id, kind, stage, span_ms, due_at, remaining_ms, warned, reminders, next_action_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![
            case_id,
            deadline.kind.as_str(),
            deadline.stage.as_str(),
            deadline.span_ms,
            deadline.due_at.map(to_ms),
            deadline.remaining_ms,
            deadline.warned,
            i64::from(deadline.reminders),
            deadline.next_action_at.map(to_ms),
        ],
    )
    .await
    .context("cannot store the case's deadline")?;
    Ok(())
}
