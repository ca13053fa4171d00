//! What a transition promises, decided purely: the emails it sends (one
//! outbox row each) and the deadline the case carries afterwards. The store
//! writes these in the transition's transaction; the mail dispatcher and the
//! deadline worker act on them later.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::moves::{Action, Transition};
use super::stage::{Role, Stage};
use crate::case::Severity;
use crate::config::{DeadlineSettings, MailSettings};
use crate::mail::EmailEvent;
use crate::policy::Outcome;

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// 21Vianet must acknowledge an escalated case.
    Acknowledge,
    /// The case must be resolved (partner_working, acknowledged).
    Resolution,
    /// A resolved case closes by itself.
    Close,
}

impl DeadlineKind {
    /// The name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::Acknowledge => "acknowledge",
            DeadlineKind::Resolution => "resolution",
            DeadlineKind::Close => "close",
        }
    }
}

impl fmt::Display for DeadlineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeadlineKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "acknowledge" => Ok(DeadlineKind::Acknowledge),
            "resolution" => Ok(DeadlineKind::Resolution),
            "close" => Ok(DeadlineKind::Close),
            _ => Err(format!("unknown deadline kind `{s}`")),
        }
    }
}

/// The running (or paused) deadline of a case's stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineState {
    /// What it is for.
    pub kind: DeadlineKind,
    /// The stage it belongs to.
    pub stage: Stage,
    /// Its full length in milliseconds (warnings and reminders are shares and multiples of it).
    pub span_ms: i64,
    /// When it passes; `None` while paused.
    pub due_at: Option<DateTime<Utc>>,
    /// Time left while paused; `None` while running.
    pub remaining_ms: Option<i64>,
    /// The warning email went out.
    pub warned: bool,
    /// Reminders sent for it.
    pub reminders: u32,
    /// When the deadline worker must look next; `None` while paused.
    pub next_action_at: Option<DateTime<Utc>>,
}

/// The longest span a deadline runs for: a thousand years. The rule
/// language allows `within` up to 2^64−1 minutes, far past the last date a
/// clock can hold; a longer span is taken as this one, so that every due
/// time is a date the store and the API can write.
pub(crate) const LONGEST_SPAN_MS: i64 = 1_000 * 366 * 24 * 60 * 60 * 1_000;

impl DeadlineState {
    /// A fresh deadline of `span_ms` (at most `LONGEST_SPAN_MS`) starting at `now`.
    pub fn start(
        kind: DeadlineKind,
        stage: Stage,
        span_ms: i64,
        now: DateTime<Utc>,
        warn_at: f64,
    ) -> DeadlineState {
        let span_ms = span_ms.clamp(0, LONGEST_SPAN_MS);
        let mut state = DeadlineState {
            kind,
            stage,
            span_ms,
            due_at: Some(now + Duration::milliseconds(span_ms)),
            remaining_ms: None,
            warned: false,
            reminders: 0,
            next_action_at: None,
        };
        state.next_action_at = state.first_action(warn_at);
        state
    }

    /// Whether this deadline sends a warning before it passes (the
    /// `acknowledge` deadline and the acknowledged stage's `resolution`).
    pub fn warns(&self) -> bool {
        self.kind == DeadlineKind::Acknowledge
            || (self.kind == DeadlineKind::Resolution && self.stage == Stage::Acknowledged)
    }

    /// The time the warning is due: the warning share of the span after its start.
    pub fn warning_at(&self, warn_at: f64) -> Option<DateTime<Utc>> {
        let due = self.due_at?;
        let before_due = ((1.0 - warn_at) * self.span_ms as f64).round() as i64;
        Some(due - Duration::milliseconds(before_due))
    }

    /// The worker's next look: the warning time while one is owed, else the
    /// due time, or, once reminders went out (a clock resumed after a pause),
    /// one span after the last reminder's slot, so that resuming does not
    /// send the next reminder at once.
    pub fn first_action(&self, warn_at: f64) -> Option<DateTime<Utc>> {
        if self.warns() && !self.warned {
            self.warning_at(warn_at)
        } else if self.reminders > 0 {
            let due = self.due_at?;
            let after = self.span_ms.saturating_mul(i64::from(self.reminders));
            Duration::try_milliseconds(after).and_then(|after| due.checked_add_signed(after))
        } else {
            self.due_at
        }
    }

    /// Whether the clock is stopped (awaiting_info).
    pub fn is_paused(&self) -> bool {
        self.due_at.is_none()
    }

    /// The same deadline, stopped at `now` with its remaining time kept.
    pub fn paused(&self, now: DateTime<Utc>) -> DeadlineState {
        let remaining = self
            .due_at
            .map(|due| (due - now).num_milliseconds())
            .or(self.remaining_ms)
            .unwrap_or(self.span_ms);
        DeadlineState {
            due_at: None,
            remaining_ms: Some(remaining),
            next_action_at: None,
            ..self.clone()
        }
    }

    /// The same deadline, running again from `now` with the time it had left.
    pub fn resumed(&self, now: DateTime<Utc>, warn_at: f64) -> DeadlineState {
        let remaining = self.remaining_ms.unwrap_or(self.span_ms);
        let mut state = DeadlineState {
            due_at: Some(now + Duration::milliseconds(remaining)),
            remaining_ms: None,
            ..self.clone()
        };
        state.next_action_at = state.first_action(warn_at);
        state
    }
}

/// One email a transition promises: one outbox row (To and Cc together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailPlan {
    /// What it announces.
    pub event: EmailEvent,
    /// To addresses, without duplicates.
    pub to: Vec<String>,
    /// Cc addresses, without duplicates and without any To address.
    pub cc: Vec<String>,
    /// `<{case_id}.{event_seq}.{event}@{sender domain}>`, stable from enqueue on.
    pub message_id: String,
    /// The Message-ID of the case's first email; `None` when this is the first.
    pub thread_root: Option<String>,
    /// `{case_id}:{event_seq}:{event}`: a repeated write cannot enqueue twice.
    pub dedupe_key: String,
}

/// Everything a transition promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effects {
    /// The emails, one outbox row each.
    pub emails: Vec<EmailPlan>,
    /// The deadline the case carries after the transition (`None`: no deadline).
    pub deadline: Option<DeadlineState>,
}

/// What the effects of a transition depend on besides the transition itself.
#[derive(Debug, Clone, Copy)]
pub struct EffectContext<'a> {
    /// The case's id.
    pub case_id: &'a str,
    /// The sequence number the transition's event gets.
    pub event_seq: i64,
    /// The case's severity (deadline defaults).
    pub severity: Severity,
    /// The classification in force after the transition (its `notify` and `within_minutes`).
    pub outcome: &'a Outcome,
    /// The case's deadline before the transition.
    pub current_deadline: Option<&'a DeadlineState>,
    /// The partner desk's address.
    pub partner_email: &'a str,
    /// The Message-ID of the case's first email, if it has one.
    pub thread_root: Option<&'a str>,
    /// Deadline settings.
    pub deadlines: &'a DeadlineSettings,
    /// Mail settings (escalation desk and sender addresses).
    pub mail: &'a MailSettings,
}

/// The emails and the deadline a transition promises.
pub fn effects(transition: &Transition, context: &EffectContext<'_>) -> Effects {
    let email = email_event(transition).map(|event| plan_email(event, context));
    Effects {
        emails: email.into_iter().collect(),
        deadline: deadline_after(transition, context),
    }
}

/// The warning or reminder email of a deadline (To the escalation desk, Cc the partner desk).
pub fn deadline_email(event: EmailEvent, context: &EffectContext<'_>) -> EmailPlan {
    plan_email(event, context)
}

/// The stable Message-ID of one email of a case.
pub fn message_id(case_id: &str, event_seq: i64, event: EmailEvent, mail_from: &str) -> String {
    let domain = mail_from
        .rsplit_once('@')
        .map(|(_, domain)| domain.trim_end_matches('>'))
        .filter(|domain| !domain.is_empty())
        .unwrap_or("localhost");
    format!("<{case_id}.{event_seq}.{}@{domain}>", event.as_str())
}

fn email_event(transition: &Transition) -> Option<EmailEvent> {
    let by_vianet = transition.actor.role() == Role::Vianet;
    match transition.action {
        _ if transition.to == Stage::Escalated => Some(EmailEvent::Escalated),
        Action::Acknowledge => Some(EmailEvent::Acknowledged),
        Action::RequestInfo => Some(EmailEvent::InfoRequested),
        Action::SupplyInfo => Some(EmailEvent::InfoSupplied),
        Action::Return => Some(EmailEvent::Returned),
        Action::Resolve if by_vianet => Some(EmailEvent::Resolved),
        _ => None,
    }
}

fn plan_email(event: EmailEvent, context: &EffectContext<'_>) -> EmailPlan {
    let desk = context.mail.escalation_to.clone();
    let partner = context.partner_email.to_owned();
    let (to, cc) = match event {
        EmailEvent::Escalated => {
            let mut to = vec![desk];
            to.extend(context.outcome.notify.iter().map(|n| n.to_string()));
            (to, vec![partner])
        }
        EmailEvent::Acknowledged
        | EmailEvent::InfoRequested
        | EmailEvent::Returned
        | EmailEvent::Resolved => (vec![partner], Vec::new()),
        EmailEvent::InfoSupplied => (vec![desk], Vec::new()),
        EmailEvent::DeadlineWarning | EmailEvent::DeadlineOverdue => (vec![desk], vec![partner]),
    };
    let to = unique(to, &[]);
    let cc = unique(cc, &to);
    EmailPlan {
        event,
        message_id: message_id(
            context.case_id,
            context.event_seq,
            event,
            &context.mail.mail_from,
        ),
        thread_root: context.thread_root.map(str::to_owned),
        dedupe_key: format!(
            "{}:{}:{}",
            context.case_id,
            context.event_seq,
            event.as_str()
        ),
        to,
        cc,
    }
}

/// Drops repeated addresses (case-insensitively) and those already in `taken`.
fn unique(addresses: Vec<String>, taken: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for address in addresses {
        let address = address.trim().to_owned();
        let seen = |other: &String| other.eq_ignore_ascii_case(&address);
        if !address.is_empty() && !kept.iter().any(seen) && !taken.iter().any(seen) {
            kept.push(address);
        }
    }
    kept
}

fn deadline_after(transition: &Transition, context: &EffectContext<'_>) -> Option<DeadlineState> {
    let settings = context.deadlines;
    let now = transition.at;
    let warn_at = settings.warn_at;
    let policy_minutes = transition
        .classification
        .as_ref()
        .and_then(|outcome| outcome.within_minutes)
        .map(minutes_ms);
    let start = |kind, span_ms| {
        Some(DeadlineState::start(
            kind,
            transition.to,
            span_ms,
            now,
            warn_at,
        ))
    };
    match (transition.action, transition.to) {
        (Action::RequestInfo, Stage::AwaitingInfo) => match context.current_deadline {
            Some(current) => Some(current.paused(now)),
            None => Some(resolution_target(transition, context).paused(now)),
        },
        (Action::SupplyInfo, Stage::Acknowledged) => match context.current_deadline {
            Some(current) if current.is_paused() => Some(DeadlineState {
                stage: Stage::Acknowledged,
                ..current.resumed(now, warn_at)
            }),
            _ => Some(resolution_target(transition, context)),
        },
        (_, Stage::Escalated) => {
            let span = policy_minutes
                .unwrap_or_else(|| duration_ms(settings.ack_within.get(context.severity)));
            start(DeadlineKind::Acknowledge, span)
        }
        // Only the policy's own `partner` decision sets a resolution deadline
        // (the shortest `within` of the deciding rules); none otherwise.
        (_, Stage::PartnerWorking) => {
            policy_minutes.and_then(|span| start(DeadlineKind::Resolution, span))
        }
        (_, Stage::Acknowledged) => Some(resolution_target(transition, context)),
        (_, Stage::Resolved) => start(DeadlineKind::Close, duration_ms(settings.auto_close)),
        (_, Stage::SelfService | Stage::AwaitingInfo | Stage::Closed) => None,
    }
}

fn resolution_target(transition: &Transition, context: &EffectContext<'_>) -> DeadlineState {
    DeadlineState::start(
        DeadlineKind::Resolution,
        Stage::Acknowledged,
        duration_ms(context.deadlines.resolve_within.get(context.severity)),
        transition.at,
        context.deadlines.warn_at,
    )
}

fn minutes_ms(minutes: u64) -> i64 {
    i64::try_from(minutes)
        .unwrap_or(i64::MAX / 60_000)
        .saturating_mul(60_000)
}

fn duration_ms(span: std::time::Duration) -> i64 {
    i64::try_from(span.as_millis()).unwrap_or(i64::MAX)
}
