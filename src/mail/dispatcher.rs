//! The outbox dispatcher: claims due rows with a lease, renders and sends
//! them concurrently, and records each result — sent, retried later with
//! capped exponential backoff, or parked as failed — with an event on the case.
//!
//! It is a [`worker::Pass`](crate::worker::Pass): the worker loop runs a pass,
//! then sleeps until the next due row, a nudge, or shutdown. A pass keeps up
//! to `mail.connections` sends in flight (each a task) and claims more rows
//! only as slots free up, so every claimed row is being sent at once and its
//! lease only has to cover one send (`send_timeout` < `lease`). Finished
//! attempts are written back together, one transaction for all that finished
//! meanwhile, so the database does not limit throughput. A sender that crashes leaves
//! its rows claimed; the claim query takes them over once the lease is past,
//! so delivery is at least once and an email is never lost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{render, EmailPayload, SendError, Transport};
use crate::config::MailSettings;
use crate::store::{
    after_span, ClaimedEmail, DeliveryOutcome, DeliveryResult, RefusedRecipient, Store, StoreError,
};
use crate::telemetry::{Metrics, ResultLabel};
use crate::worker::Pass;

/// Drains the outbox. Several dispatchers (in one process or many) may share
/// one database; each needs its own instance id.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    store: Store,
    attempt: Attempt,
    settings: Arc<MailSettings>,
    metrics: Metrics,
    instance: String,
    shutdown: CancellationToken,
}

/// The pass's clock: the `now` it was given plus the time since it started,
/// so results are stamped when they happen and tests can still pass any `now`.
#[derive(Debug, Clone, Copy)]
struct Clock {
    now: DateTime<Utc>,
    started: Instant,
}

impl Clock {
    fn now(self) -> DateTime<Utc> {
        self.now + chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }
}

impl Dispatcher {
    /// A dispatcher with a fresh instance id ([`instance_id`]) and no shutdown signal.
    pub fn new(
        store: Store,
        transport: Transport,
        settings: &MailSettings,
        metrics: Metrics,
    ) -> Dispatcher {
        let settings = Arc::new(settings.clone());
        Dispatcher {
            store,
            attempt: Attempt {
                transport,
                settings: settings.clone(),
            },
            settings,
            metrics,
            instance: instance_id(),
            shutdown: CancellationToken::new(),
        }
    }

    /// Uses `instance` as the claim owner (tests run two dispatchers in one process).
    #[must_use]
    pub fn with_instance(mut self, instance: impl Into<String>) -> Dispatcher {
        self.instance = instance.into();
        self
    }

    /// Stops claiming new rows once `shutdown` is cancelled; sends already
    /// in flight finish and are recorded.
    #[must_use]
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Dispatcher {
        self.shutdown = shutdown;
        self
    }

    /// The id written to `outbox.claimed_by`.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Delivers every row due at `now` (and rows that fall due while the
    /// pass runs), then returns when the next row is due, if any.
    #[tracing::instrument(skip_all, err, fields(instance = %self.instance))]
    pub async fn pass(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let clock = Clock {
            now,
            started: Instant::now(),
        };
        let slots = self.settings.connections.max(1) as usize;
        // Claim in batches of at least a quarter of the slots: one claim per
        // finished send would cost a write transaction per message.
        let refill = (slots / 4).max(1);
        // Sends run as tasks, so they go on while this loop claims rows and
        // records results.
        let mut in_flight = JoinSet::new();
        let mut drained = false;
        let mut first_error = None;
        loop {
            let free = slots - in_flight.len();
            if !drained && !self.shutdown.is_cancelled() && (free >= refill || in_flight.is_empty())
            {
                let limit = u32::try_from(free).unwrap_or(u32::MAX);
                match self
                    .store
                    .claim_emails(&self.instance, clock.now(), self.settings.lease, limit)
                    .await
                {
                    Ok(claimed) => {
                        drained = claimed.len() < free;
                        for email in claimed {
                            let attempt = self.attempt.clone();
                            in_flight.spawn(async move { attempt.run(email, clock).await });
                        }
                    }
                    Err(error) => {
                        drained = true;
                        first_error.get_or_insert(error);
                    }
                }
            }
            let Some(joined) = in_flight.join_next().await else {
                break;
            };
            // Record every attempt that has finished by now in one transaction.
            let mut finished = vec![joined];
            while let Some(more) = in_flight.try_join_next() {
                finished.push(more);
            }
            let results: Vec<DeliveryResult> = finished
                .into_iter()
                .filter_map(|joined| match joined {
                    Ok(result) => Some(result),
                    Err(error) => {
                        // The row stays claimed and is tried again after its lease.
                        tracing::error!(%error, "a send task ended abnormally");
                        None
                    }
                })
                .collect();
            if let Err(error) = self.record(&results).await {
                first_error.get_or_insert(error);
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        self.store.next_email_due().await
    }

    /// Writes finished attempts back and counts them.
    async fn record(&self, results: &[DeliveryResult]) -> Result<(), StoreError> {
        let written = match self.store.record_deliveries(&self.instance, results).await {
            Ok(written) => written,
            Err(error) => {
                tracing::error!(%error, rows = results.len(), "cannot record delivery results; the rows are tried again when their leases expire");
                return Err(error);
            }
        };
        for (result, written) in results.iter().zip(written) {
            let email = &result.email;
            let attempts = email.attempts + 1;
            let label = match &result.outcome {
                DeliveryOutcome::Sent { refused } => {
                    tracing::debug!(outbox_id = %email.id, message_id = %email.message_id, attempts, "email sent");
                    for refusal in refused {
                        tracing::error!(outbox_id = %email.id, case_id = %email.case_id, recipient = %refusal.recipient, error = %refusal.error, "a recipient refused the email for good; the others got it");
                        self.metrics.email_recipients_refused.inc();
                    }
                    "sent"
                }
                DeliveryOutcome::Retry {
                    next_attempt_at,
                    error,
                } => {
                    tracing::warn!(outbox_id = %email.id, case_id = %email.case_id, attempts, %next_attempt_at, %error, "email not sent; will retry");
                    "retry"
                }
                DeliveryOutcome::Failed { error } => {
                    tracing::error!(outbox_id = %email.id, case_id = %email.case_id, attempts, %error, "email parked as failed");
                    "failed"
                }
            };
            self.metrics
                .emails
                .get_or_create(&ResultLabel {
                    result: label.to_owned(),
                })
                .inc();
            if !written {
                tracing::warn!(outbox_id = %email.id, "the claim expired and was taken over before the result was recorded; the new owner sends it again");
            }
        }
        Ok(())
    }
}

/// What a send task needs: the transport and the retry settings.
#[derive(Debug, Clone)]
struct Attempt {
    transport: Transport,
    settings: Arc<MailSettings>,
}

impl Attempt {
    /// One attempt at one claimed row, and what it came to.
    async fn run(&self, email: ClaimedEmail, clock: Clock) -> DeliveryResult {
        let result = self.send(&email).await;
        let at = clock.now();
        let attempts = email.attempts + 1;
        let outcome = match result {
            Ok(refused) => DeliveryOutcome::Sent { refused },
            Err(error)
                if error.is_transient() && attempts < i64::from(self.settings.max_attempts) =>
            {
                let delay = retry_delay(
                    u32::try_from(attempts).unwrap_or(u32::MAX),
                    self.settings.first_retry,
                    self.settings.max_retry_interval,
                );
                DeliveryOutcome::Retry {
                    // A retry interval configured past the last date a clock
                    // can hold retries at that date rather than overflowing.
                    next_attempt_at: after_span(at, delay),
                    error: error.to_string(),
                }
            }
            Err(error) if error.is_transient() => DeliveryOutcome::Failed {
                error: format!("gave up after {attempts} attempts: {error}"),
            },
            Err(error) => DeliveryOutcome::Failed {
                error: error.to_string(),
            },
        };
        DeliveryResult { email, outcome, at }
    }

    /// Renders the stored payload and sends it; `Ok` lists the recipients
    /// refused while the others got it. A payload that does not decode or
    /// render is a permanent failure.
    async fn send(&self, email: &ClaimedEmail) -> Result<Vec<RefusedRecipient>, SendError> {
        let payload: EmailPayload =
            serde_json::from_str(&email.payload).map_err(|error| SendError::Permanent {
                via: "renderer".to_owned(),
                code: None,
                detail: format!(
                    "the stored payload of `{}` does not decode: {error}",
                    email.id
                ),
            })?;
        let message = render(&payload, &self.settings.mail_from)?;
        self.transport.send(&message).await
    }
}

impl Pass for Dispatcher {
    type Error = StoreError;

    async fn run(&mut self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.pass(now).await
    }
}

/// The delay before the next attempt after `failures` failed attempts:
/// capped exponential backoff with full jitter. The cap is
/// `first_retry · 2^(failures-1)`, never above `max_retry_interval`; the
/// delay is drawn uniformly between a tenth of the cap and the cap, so a
/// retry never comes at once and many failed rows spread out.
pub fn retry_delay(failures: u32, first_retry: Duration, max_retry_interval: Duration) -> Duration {
    let doublings = failures.saturating_sub(1).min(30);
    let cap = first_retry
        .saturating_mul(1u32 << doublings)
        .min(max_retry_interval);
    let floor = cap / 10;
    if cap <= floor {
        return cap;
    }
    rand::thread_rng().gen_range(floor..=cap)
}

/// A per-process id for claims: host name, process id and a random suffix
/// (a restarted process with a recycled pid is still a new instance).
pub fn instance_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let suffix: u32 = rand::thread_rng().gen();
    format!("{host}/{}/{suffix:08x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_retry_comes_within_first_retry_and_no_delay_exceeds_the_cap() {
        let first = Duration::from_secs(5);
        let max = Duration::from_secs(300);
        for _ in 0..200 {
            let delay = retry_delay(1, first, max);
            assert!(
                delay >= Duration::from_millis(500) && delay <= first,
                "{delay:?}"
            );
        }
        for failures in 1..60 {
            assert!(retry_delay(failures, first, max) <= max);
        }
        let late = retry_delay(40, first, max);
        assert!(late >= max / 10, "{late:?}");
    }

    #[test]
    fn the_cap_doubles_with_each_failure() {
        let first = Duration::from_secs(1);
        let max = Duration::from_secs(3600);
        for _ in 0..50 {
            let delay = retry_delay(4, first, max);
            assert!(delay >= Duration::from_millis(800) && delay <= Duration::from_secs(8));
        }
    }

    #[test]
    fn instance_ids_differ_between_dispatchers() {
        assert_ne!(instance_id(), instance_id());
    }
}
