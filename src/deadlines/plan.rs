//! What a due deadline calls for at `now`, decided purely from the claimed
//! deadline, the case's stage and the settings — no I/O and no clock, so the
//! warning, reminder and move rules are tested without a database.

use chrono::{DateTime, Duration, Utc};

use crate::config::DeadlineSettings;
use crate::mail::EmailEvent;
use crate::store::rfc3339;
use crate::workflow::{DeadlineKind, DeadlineState, Stage};

/// What to do about one claimed deadline.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Move the case (actor `system`) with this reason.
    Move {
        /// Where the case goes.
        to: Stage,
        /// The event's reason, naming the deadline.
        reason: String,
    },
    /// Send a warning or reminder and store the deadline's new state.
    Notice {
        /// `deadline_warning` or `deadline_overdue`.
        email: EmailEvent,
        /// The deadline after the notice.
        deadline: DeadlineState,
    },
    /// Nothing to send now; look again at this time (`None`: never, every
    /// reminder went out).
    Reschedule(Option<DateTime<Utc>>),
    /// The deadline does not belong to the case's stage or is of a kind
    /// that stage never carries; left alone (and logged).
    Mismatch,
}

impl Step {
    /// The `action` label of `escalator_deadline_actions_total` for a step
    /// that did something.
    pub fn action_label(&self) -> Option<&'static str> {
        match self {
            Step::Move {
                to: Stage::Escalated,
                ..
            } => Some("escalated"),
            Step::Move { .. } => Some("closed"),
            Step::Notice {
                email: EmailEvent::DeadlineWarning,
                ..
            } => Some("warning"),
            Step::Notice { .. } => Some("reminder"),
            Step::Reschedule(_) | Step::Mismatch => None,
        }
    }
}

/// Decides what `deadline` (of a case in `case_stage`) calls for at `now`.
///
/// - `partner_working`'s `resolution` and `resolved`'s `close` move the case
///   once due (to `escalated`, to `closed`).
/// - `escalated`'s `acknowledge` and `acknowledged`'s `resolution` send one
///   warning at the warning share, then a reminder when due and another each
///   time the span passes again, up to `max_reminders`. A deadline first
///   looked at after it passed gets no warning, only the reminder. Reminders
///   missed while no worker ran are not sent in a burst: one goes out, and
///   the next waits for the next whole span after `now`.
pub fn step(
    deadline: &DeadlineState,
    case_stage: Stage,
    now: DateTime<Utc>,
    settings: &DeadlineSettings,
) -> Step {
    if deadline.stage != case_stage {
        return Step::Mismatch;
    }
    let Some(due) = deadline.due_at else {
        // A paused deadline is never claimed; if it were, nothing is owed.
        return Step::Reschedule(None);
    };
    match (deadline.kind, deadline.stage) {
        (DeadlineKind::Resolution, Stage::PartnerWorking) if now >= due => Step::Move {
            to: Stage::Escalated,
            reason: format!(
                "the partner's resolution deadline of {} passed at {}",
                span_text(deadline.span_ms),
                rfc3339(due)
            ),
        },
        (DeadlineKind::Close, Stage::Resolved) if now >= due => Step::Move {
            to: Stage::Closed,
            reason: format!(
                "the closing delay of {} after resolution passed at {}",
                span_text(deadline.span_ms),
                rfc3339(due)
            ),
        },
        (DeadlineKind::Resolution, Stage::PartnerWorking)
        | (DeadlineKind::Close, Stage::Resolved) => Step::Reschedule(Some(due)),
        (DeadlineKind::Acknowledge, Stage::Escalated)
        | (DeadlineKind::Resolution, Stage::Acknowledged) => notice(deadline, due, now, settings),
        _ => Step::Mismatch,
    }
}

fn notice(
    deadline: &DeadlineState,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    settings: &DeadlineSettings,
) -> Step {
    if now < due {
        let warning_at = deadline.warning_at(settings.warn_at).unwrap_or(due);
        if deadline.warned || now < warning_at {
            return Step::Reschedule(Some(if deadline.warned { due } else { warning_at }));
        }
        return Step::Notice {
            email: EmailEvent::DeadlineWarning,
            deadline: DeadlineState {
                warned: true,
                next_action_at: Some(due),
                ..deadline.clone()
            },
        };
    }
    if deadline.reminders >= settings.max_reminders {
        return Step::Reschedule(None);
    }
    let sent = deadline.reminders + 1;
    let next_action_at = if sent < settings.max_reminders && deadline.span_ms > 0 {
        // The k-th reminder is due `k - 1` spans after the deadline; one
        // missed while no worker ran moves to the next whole span after now.
        let spans_passed = (now - due).num_milliseconds() / deadline.span_ms + 1;
        let slot = i64::from(sent).max(spans_passed);
        Duration::try_milliseconds(deadline.span_ms.saturating_mul(slot))
            .and_then(|after| due.checked_add_signed(after))
    } else {
        None
    };
    Step::Notice {
        email: EmailEvent::DeadlineOverdue,
        deadline: DeadlineState {
            warned: true,
            reminders: sent,
            next_action_at,
            ..deadline.clone()
        },
    }
}

/// A span in the words of the settings: `4h`, `1h 30m`, `7days`.
fn span_text(span_ms: i64) -> String {
    let span = std::time::Duration::from_millis(u64::try_from(span_ms).unwrap_or(0));
    humantime::format_duration(span).to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 13, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    fn ack(span_minutes: i64) -> DeadlineState {
        DeadlineState::start(
            DeadlineKind::Acknowledge,
            Stage::Escalated,
            span_minutes * 60_000,
            t(0),
            0.8,
        )
    }

    fn apply(deadline: &DeadlineState, now: DateTime<Utc>) -> (Step, DeadlineState) {
        let step = step(
            deadline,
            Stage::Escalated,
            now,
            &DeadlineSettings::default(),
        );
        let after = match &step {
            Step::Notice { deadline, .. } => deadline.clone(),
            Step::Reschedule(next) => DeadlineState {
                next_action_at: *next,
                ..deadline.clone()
            },
            other => panic!("unexpected {other:?}"),
        };
        (step, after)
    }

    #[test]
    fn a_warning_goes_out_at_the_warning_share_and_reminders_follow_each_span_up_to_the_limit() {
        let deadline = ack(100);
        assert_eq!(deadline.next_action_at, Some(t(80)));
        let (step, deadline) = apply(&deadline, t(80));
        assert_eq!(step.action_label(), Some("warning"));
        assert_eq!(deadline.next_action_at, Some(t(100)));
        let (step, deadline) = apply(&deadline, t(100));
        assert_eq!(step.action_label(), Some("reminder"));
        assert_eq!(
            (deadline.reminders, deadline.next_action_at),
            (1, Some(t(200)))
        );
        let (_, deadline) = apply(&deadline, t(200));
        assert_eq!(
            (deadline.reminders, deadline.next_action_at),
            (2, Some(t(300)))
        );
        let (step, deadline) = apply(&deadline, t(300));
        assert_eq!(step.action_label(), Some("reminder"));
        assert_eq!((deadline.reminders, deadline.next_action_at), (3, None));
        let (step, _) = apply(&deadline, t(400));
        assert_eq!(step, Step::Reschedule(None), "the limit was reached");
    }

    #[test]
    fn a_deadline_first_seen_after_it_passed_skips_the_warning_and_missed_reminders() {
        let (step, deadline) = apply(&ack(100), t(250));
        assert_eq!(step.action_label(), Some("reminder"));
        assert!(deadline.warned);
        assert_eq!(
            (deadline.reminders, deadline.next_action_at),
            (1, Some(t(300))),
            "the next reminder waits for the next whole span after now"
        );
    }

    #[test]
    fn a_look_before_the_warning_share_only_reschedules() {
        let (step, _) = apply(&ack(100), t(79));
        assert_eq!(step, Step::Reschedule(Some(t(80))));
    }

    #[test]
    fn the_partners_resolution_deadline_escalates_and_names_itself() {
        let deadline = DeadlineState::start(
            DeadlineKind::Resolution,
            Stage::PartnerWorking,
            4 * 3_600_000,
            t(0),
            0.8,
        );
        assert_eq!(deadline.next_action_at, Some(t(240)), "no warning");
        let settings = DeadlineSettings::default();
        assert_eq!(
            step(&deadline, Stage::PartnerWorking, t(240), &settings),
            Step::Move {
                to: Stage::Escalated,
                reason: "the partner's resolution deadline of 4h passed at 2026-11-23T17:00:00Z"
                    .to_owned()
            }
        );
        assert_eq!(
            step(&deadline, Stage::Escalated, t(240), &settings),
            Step::Mismatch,
            "a deadline of another stage is left alone"
        );
    }

    #[test]
    fn a_resolved_case_closes_once_the_delay_passed() {
        let deadline = DeadlineState::start(
            DeadlineKind::Close,
            Stage::Resolved,
            7 * 86_400_000,
            t(0),
            0.8,
        );
        let settings = DeadlineSettings::default();
        let moved = step(&deadline, Stage::Resolved, t(7 * 1440), &settings);
        assert_eq!(moved.action_label(), Some("closed"));
        assert!(
            matches!(&moved, Step::Move { reason, .. } if reason.contains("7days")),
            "{moved:?}"
        );
    }
}
