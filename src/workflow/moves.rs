//! The stage table as data, and the one pure decision over it: may this
//! actor make this move from this stage, and where does the case land.
//! Keeping the table as a list of rows lets the refusal message list the
//! allowed moves from the same data that allows them.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::stage::{quoted, Actor, Role, Stage, Target};
use crate::case::NUL_REFUSED;
use crate::policy::Outcome;

/// Longest accepted `reason`, in characters.
pub const MAX_REASON_CHARS: usize = 10_000;
/// Longest accepted `vianet_case_id`, in characters.
const MAX_VIANET_CASE_ID_CHARS: usize = 128;

/// A named move of the stage table (recorded as the event's `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The case was submitted and classified (not a move; the first event).
    Intake,
    /// self_service → partner_working: the customer could not do it.
    Take,
    /// → resolved, by the partner or by 21Vianet.
    Resolve,
    /// partner_working → escalated, by the partner or a passed deadline.
    Escalate,
    /// escalated → acknowledged, by 21Vianet.
    Acknowledge,
    /// acknowledged → awaiting_info: 21Vianet needs information.
    RequestInfo,
    /// awaiting_info → acknowledged: the partner supplied it.
    SupplyInfo,
    /// 21Vianet hands the case back: not escalation-worthy (counted per partner).
    Return,
    /// resolved → closed.
    Close,
    /// resolved → re-classified into a working stage.
    Reopen,
    /// any open stage → closed, by the partner.
    Withdraw,
}

impl Action {
    /// The name stored in the event's `action` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Intake => "intake",
            Action::Take => "take",
            Action::Resolve => "resolve",
            Action::Escalate => "escalate",
            Action::Acknowledge => "acknowledge",
            Action::RequestInfo => "request_info",
            Action::SupplyInfo => "supply_info",
            Action::Return => "return",
            Action::Close => "close",
            Action::Reopen => "reopen",
            Action::Withdraw => "withdraw",
        }
    }

    /// Words for error messages ("a reason is required to …").
    fn describe(self) -> &'static str {
        match self {
            Action::Intake => "submit the case",
            Action::Take => "take the case",
            Action::Resolve => "resolve the case",
            Action::Escalate => "escalate the case",
            Action::Acknowledge => "acknowledge the case",
            Action::RequestInfo => "request information",
            Action::SupplyInfo => "supply the requested information",
            Action::Return => "return the case to the partner",
            Action::Close => "close the case",
            Action::Reopen => "reopen the case",
            Action::Withdraw => "withdraw the case",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the stage table.
struct Row {
    action: Action,
    from: &'static [Stage],
    to: Target,
    who: Role,
    reason_required: bool,
}

const fn row(
    action: Action,
    from: &'static [Stage],
    to: Target,
    who: Role,
    reason_required: bool,
) -> Row {
    Row {
        action,
        from,
        to,
        who,
        reason_required,
    }
}

use Stage::{Acknowledged, AwaitingInfo, Closed, Escalated, PartnerWorking, Resolved, SelfService};

/// The stage table of the interfaces contract, one row per (move, role).
// INVARIANT: for a given (from, to, role) at most one row matches; `decide`
// takes the first.
const TABLE: &[Row] = &[
    row(
        Action::Take,
        &[SelfService],
        Target::Stage(PartnerWorking),
        Role::Partner,
        false,
    ),
    row(
        Action::Resolve,
        &[SelfService, PartnerWorking],
        Target::Stage(Resolved),
        Role::Partner,
        false,
    ),
    row(
        Action::Escalate,
        &[PartnerWorking],
        Target::Stage(Escalated),
        Role::Partner,
        true,
    ),
    row(
        Action::Escalate,
        &[PartnerWorking],
        Target::Stage(Escalated),
        Role::System,
        false,
    ),
    row(
        Action::Acknowledge,
        &[Escalated],
        Target::Stage(Acknowledged),
        Role::Vianet,
        false,
    ),
    row(
        Action::RequestInfo,
        &[Acknowledged],
        Target::Stage(AwaitingInfo),
        Role::Vianet,
        true,
    ),
    row(
        Action::SupplyInfo,
        &[AwaitingInfo],
        Target::Stage(Acknowledged),
        Role::Partner,
        true,
    ),
    row(
        Action::Return,
        &[Escalated, Acknowledged, AwaitingInfo],
        Target::Stage(PartnerWorking),
        Role::Vianet,
        true,
    ),
    row(
        Action::Resolve,
        &[Acknowledged],
        Target::Stage(Resolved),
        Role::Vianet,
        false,
    ),
    row(
        Action::Close,
        &[Resolved],
        Target::Stage(Closed),
        Role::Partner,
        false,
    ),
    row(
        Action::Close,
        &[Resolved],
        Target::Stage(Closed),
        Role::System,
        false,
    ),
    row(
        Action::Reopen,
        &[Resolved],
        Target::Reopened,
        Role::Partner,
        false,
    ),
    row(
        Action::Withdraw,
        &Stage::OPEN,
        Target::Stage(Closed),
        Role::Partner,
        true,
    ),
];

/// What started a move: a request (API, CLI) or a passed deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Someone asked for it; the event's kind is `move` (or `reopen`).
    Request,
    /// A deadline of this kind passed; the event's kind is `deadline`.
    Deadline(super::DeadlineKind),
}

/// A requested move, as the API's transition body carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct MoveRequest {
    /// The stage asked for, or `reopened`.
    pub to: Target,
    /// The case version the caller saw; the store refuses the move when it
    /// is no longer current. Not used by [`decide`].
    pub version: i64,
    /// Why; required by some rows of the table.
    pub reason: Option<String>,
    /// 21Vianet's own case id (21Vianet's moves only).
    pub vianet_case_id: Option<String>,
    /// The new classification, required for a reopen.
    pub reclassified: Option<Outcome>,
    /// What started the move.
    pub trigger: Trigger,
}

impl MoveRequest {
    /// A plain request to move to `to` from version `version`.
    pub fn to(to: Target, version: i64) -> MoveRequest {
        MoveRequest {
            to,
            version,
            reason: None,
            vianet_case_id: None,
            reclassified: None,
            trigger: Trigger::Request,
        }
    }

    /// The same request with a reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> MoveRequest {
        self.reason = Some(reason.into());
        self
    }
}

/// An allowed move, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The named move.
    pub action: Action,
    /// The stage before (`None` at intake).
    pub from: Option<Stage>,
    /// The stage after.
    pub to: Stage,
    /// Who made it.
    pub actor: Actor,
    /// Why (trimmed; `None` when blank or not given).
    pub reason: Option<String>,
    /// 21Vianet's case id, when the move records one.
    pub vianet_case_id: Option<String>,
    /// The classification that placed the case (intake and reopen only).
    pub classification: Option<Outcome>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Transition {
    /// The first "transition" of a case: submitted by `actor`, placed by
    /// the policy's decision.
    pub fn intake(outcome: Outcome, actor: Actor, at: DateTime<Utc>) -> Transition {
        Transition {
            action: Action::Intake,
            from: None,
            to: Stage::for_decision(outcome.decision),
            actor,
            reason: None,
            vianet_case_id: None,
            classification: Some(outcome),
            at,
        }
    }
}

/// Why a move was not allowed. Nothing changes when a move is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MoveError {
    /// The stage table has no such move for this actor (HTTP 409 `move_refused`).
    #[error("{}", refusal_message(*.from, *.to, *.role, .allowed))]
    Refused {
        /// The case's current stage.
        from: Stage,
        /// What was asked for.
        to: Target,
        /// The actor's role.
        role: Role,
        /// The targets this role may ask for from `from`.
        allowed: Vec<Target>,
    },
    /// The move needs a reason and none (or a blank one) was given (HTTP 400 `invalid_field`, field `reason`).
    #[error("`reason`: a reason is required to {}", .action.describe())]
    ReasonRequired {
        /// The move that needs it.
        action: Action,
    },
    /// A field of the request is not acceptable (HTTP 400 `invalid_field`).
    #[error("`{field}`: {message}")]
    InvalidField {
        /// The field's name.
        field: &'static str,
        /// What was wrong.
        message: String,
    },
    /// A reopen needs the re-classified outcome; the caller must classify first.
    #[error("reopening a case needs its new classification")]
    NotReclassified,
}

impl MoveError {
    /// The request field at fault, for errors that are about one field.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            MoveError::ReasonRequired { .. } => Some("reason"),
            MoveError::InvalidField { field, .. } => Some(field),
            MoveError::Refused { .. } | MoveError::NotReclassified => None,
        }
    }
}

fn refusal_message(from: Stage, to: Target, role: Role, allowed: &[Target]) -> String {
    let options = if allowed.is_empty() {
        "none".to_owned()
    } else {
        quoted(allowed)
    };
    format!("the case is `{from}`: {role} cannot move it to `{to}`; moves {role} may make from `{from}`: {options}")
}

/// The targets `role` may ask for from `from`, in table order.
pub fn allowed_moves(from: Stage, role: Role) -> Vec<Target> {
    let mut targets = Vec::new();
    for row in TABLE
        .iter()
        .filter(|row| row.who == role && row.from.contains(&from))
    {
        if !targets.contains(&row.to) {
            targets.push(row.to);
        }
    }
    targets
}

/// Decides a move: whether `actor` may move a case in stage `from` as
/// `request` asks, and if so the transition to apply.
pub fn decide(
    from: Stage,
    request: &MoveRequest,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Transition, MoveError> {
    let role = actor.role();
    let Some(row) = TABLE
        .iter()
        .find(|row| row.who == role && row.to == request.to && row.from.contains(&from))
    else {
        return Err(MoveError::Refused {
            from,
            to: request.to,
            role,
            allowed: allowed_moves(from, role),
        });
    };
    let reason = match request.reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) if text.chars().count() > MAX_REASON_CHARS => {
            return Err(MoveError::InvalidField {
                field: "reason",
                message: format!("has more than {MAX_REASON_CHARS} characters"),
            })
        }
        Some(text) if text.contains('\0') => {
            return Err(MoveError::InvalidField {
                field: "reason",
                message: NUL_REFUSED.to_owned(),
            })
        }
        Some(text) => Some(text.to_owned()),
    };
    if row.reason_required && reason.is_none() {
        return Err(MoveError::ReasonRequired { action: row.action });
    }
    let vianet_case_id = match request.vianet_case_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(_) if role != Role::Vianet => {
            return Err(MoveError::InvalidField {
                field: "vianet_case_id",
                message: "only 21Vianet records its own case id".to_owned(),
            })
        }
        Some(text) if text.chars().count() > MAX_VIANET_CASE_ID_CHARS => {
            return Err(MoveError::InvalidField {
                field: "vianet_case_id",
                message: format!("has more than {MAX_VIANET_CASE_ID_CHARS} characters"),
            })
        }
        Some(text) if text.contains('\0') => {
            return Err(MoveError::InvalidField {
                field: "vianet_case_id",
                message: NUL_REFUSED.to_owned(),
            })
        }
        Some(text) => Some(text.to_owned()),
    };
    let (to, classification) = match row.to {
        Target::Stage(stage) => (stage, None),
        Target::Reopened => {
            let outcome = request
                .reclassified
                .clone()
                .ok_or(MoveError::NotReclassified)?;
            (Stage::for_decision(outcome.decision), Some(outcome))
        }
    };
    Ok(Transition {
        action: row.action,
        from: Some(from),
        to,
        actor: actor.clone(),
        reason,
        vianet_case_id,
        classification,
        at: now,
    })
}
