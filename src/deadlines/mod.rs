//! The deadline worker: claims passed deadlines, acts on each through the
//! same store functions an API call uses (`change_stage` for the escalation
//! and the auto-close, `record_claimed_notice` for warnings and reminders),
//! and says when it next has work.
//!
//! Built for several instances on one database: rows are claimed with a
//! lease (see `store::deadline_claims`), and every action is conditional on
//! the state that was claimed — the case version for moves, the claimed
//! deadline row for notices — so a late, duplicate or overtaken worker
//! changes nothing. A pass reads no clock: `now` is its argument, and tests
//! drive it with explicit times.

mod plan;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rand::RngCore;

pub use plan::{step, Step};

use crate::config::Settings;
use crate::store::{ClaimedDeadline, DeadlineNotice, Scope, Store, StoreError};
use crate::telemetry::{DeadlineLabels, Metrics};
use crate::worker::{Nudge, Pass};
use crate::workflow::{Actor, MoveRequest, Target, Trigger};

/// Deadlines claimed at once; a full batch makes the pass run again at once.
pub const CLAIM_BATCH: u32 = 50;

/// Why a pass stopped early (claiming failed); the worker loop retries it.
#[derive(Debug, thiserror::Error)]
pub enum DeadlineError {
    /// The database could not be read or written.
    #[error("the deadline worker cannot reach its deadlines: {0}")]
    Store(#[from] StoreError),
}

/// One action the pass took (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acted {
    /// The case.
    pub case_id: String,
    /// `acknowledge`, `resolution` or `close`.
    pub kind: &'static str,
    /// `warning`, `reminder`, `escalated` or `closed`.
    pub action: &'static str,
}

/// What one pass did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PassReport {
    /// The actions taken, in order.
    pub acted: Vec<Acted>,
    /// When the next pass has work (`None`: no running deadline).
    pub next: Option<DateTime<Utc>>,
}

/// The deadline worker of one instance.
#[derive(Debug, Clone)]
pub struct DeadlineWorker {
    store: Store,
    settings: Arc<Settings>,
    metrics: Metrics,
    mail_nudge: Nudge,
    instance: String,
}

impl DeadlineWorker {
    /// A worker claiming as `instance` (unique per process, see [`instance_id`]).
    /// `mail_nudge` wakes the mail dispatcher after an action queued an email.
    pub fn new(
        store: Store,
        settings: Arc<Settings>,
        metrics: Metrics,
        mail_nudge: Nudge,
        instance: impl Into<String>,
    ) -> DeadlineWorker {
        DeadlineWorker {
            store,
            settings,
            metrics,
            mail_nudge,
            instance: instance.into(),
        }
    }

    /// The id this worker claims under.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Acts on every deadline due at `now` that this instance can claim,
    /// batch by batch, and reports what it did and when to look next.
    /// A failed action is logged and its row left claimed until the lease lapses; only a failure to
    /// claim ends the pass with an error.
    pub async fn pass(&self, now: DateTime<Utc>) -> Result<PassReport, DeadlineError> {
        let mut report = PassReport::default();
        loop {
            let claims = self
                .store
                .claim_due_deadlines(
                    &self.instance,
                    now,
                    self.settings.deadlines.lease,
                    CLAIM_BATCH,
                )
                .await?;
            let full = claims.len() == CLAIM_BATCH as usize;
            for claim in &claims {
                if let Some(acted) = self.act(claim, now).await {
                    report.acted.push(acted);
                }
            }
            if !full {
                break;
            }
        }
        if !report.acted.is_empty() {
            self.mail_nudge.nudge();
        }
        report.next = self.store.next_deadline_action().await?;
        Ok(report)
    }

    /// Acts on one claimed deadline; `None` when nothing was done (not due,
    /// already handled elsewhere, or failed).
    async fn act(&self, claim: &ClaimedDeadline, now: DateTime<Utc>) -> Option<Acted> {
        let step = plan::step(
            &claim.deadline,
            claim.case_stage,
            now,
            &self.settings.deadlines,
        );
        let kind = claim.deadline.kind.as_str();
        let result = match &step {
            Step::Move { to, reason } => {
                let request = MoveRequest {
                    reason: Some(reason.clone()),
                    trigger: Trigger::Deadline(claim.deadline.kind),
                    ..MoveRequest::to(Target::Stage(*to), claim.version)
                };
                self.store
                    .change_stage(
                        &claim.case_id,
                        &Scope::All,
                        &request,
                        &Actor::System,
                        &self.settings,
                        now,
                    )
                    .await
                    .map(|_| true)
            }
            Step::Notice { email, deadline } => {
                let notice = DeadlineNotice {
                    version: claim.version,
                    email: *email,
                    deadline: deadline.clone(),
                };
                self.store
                    .record_claimed_notice(claim, &notice, &self.settings, now)
                    .await
                    .map(|record| record.is_some())
            }
            Step::Reschedule(next) => self
                .store
                .reschedule_claimed_deadline(claim, *next)
                .await
                .map(|_| false),
            Step::Mismatch => {
                tracing::warn!(case_id = %claim.case_id, kind, deadline_stage = %claim.deadline.stage,
                    case_stage = %claim.case_stage, "a deadline does not fit its case's stage; looked at again after the lease");
                return None;
            }
        };
        match result {
            Ok(true) => {
                let action = step.action_label()?;
                self.metrics
                    .deadline_actions
                    .get_or_create(&DeadlineLabels {
                        kind: kind.to_owned(),
                        action: action.to_owned(),
                    })
                    .inc();
                tracing::info!(case_id = %claim.case_id, kind, action, "deadline acted on");
                Some(Acted {
                    case_id: claim.case_id.clone(),
                    kind,
                    action,
                })
            }
            Ok(false) => {
                tracing::debug!(case_id = %claim.case_id, kind, "deadline already handled or not due");
                None
            }
            // The case moved since the claim: its deadline was replaced with it.
            Err(StoreError::VersionConflict { .. } | StoreError::NotFound { .. }) => {
                tracing::debug!(case_id = %claim.case_id, kind, "the case moved since the claim");
                None
            }
            Err(error) => {
                // The claim is kept until its lease lapses: then any instance retries.
                tracing::warn!(case_id = %claim.case_id, kind, %error, "deadline action failed; retried after the lease");
                None
            }
        }
    }
}

impl Pass for DeadlineWorker {
    type Error = DeadlineError;

    async fn run(&mut self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, DeadlineError> {
        Ok(self.pass(now).await?.next)
    }
}

/// A claim id unique to this process: its pid and 64 random bits.
pub fn instance_id() -> String {
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("escalator-{}-{}", std::process::id(), hex::encode(bytes))
}
