//! Logging and metrics. Logs go through `tracing` (`RUST_LOG` picks the
//! verbosity, text or JSON lines); metrics are Prometheus counters and
//! gauges held in one registry that `/metrics` encodes. Gauges that describe
//! the database (cases by stage, outbox depth, overdue cases) are set from a
//! query at scrape time, so every instance reports the same truth.

use std::io::IsTerminal;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The log filter when `RUST_LOG` is unset: `info`, except PostgreSQL's
/// notices, which sqlx logs at `info` and which say nothing an operator
/// needs (every start prints "relation \"_sqlx_migrations\" already exists").
pub const DEFAULT_LOG: &str = "info,sqlx::postgres::notice=warn";

/// Installs the global tracing subscriber: `RUST_LOG` (default
/// [`DEFAULT_LOG`]), human-readable or JSON lines on stderr. Safe to call
/// more than once.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // A second initialisation (tests starting several servers) keeps the first.
    drop(result);
}

/// Labels of an HTTP request counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route, e.g. `/v1/cases/{id}`.
    pub route: String,
    /// The HTTP method.
    pub method: String,
    /// The response status code.
    pub status: u16,
}

/// A single `stage`, `tier`, `result` or similar label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabel {
    /// The stage.
    pub stage: String,
}

/// The `tier` label of decision counters.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TierLabel {
    /// The decided tier.
    pub tier: String,
}

/// Labels of deadline actions.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeadlineLabels {
    /// `acknowledge`, `resolution` or `close`.
    pub kind: String,
    /// `warning`, `reminder`, `escalated`, `closed`…
    pub action: String,
}

/// The `result` label of email counters (`sent`, `retry`, `failed`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    /// What happened to the attempt.
    pub result: String,
}

/// Every metric escalator exports.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// HTTP requests by route, method and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Classifications by decided tier (intake, reopen and dry runs).
    pub decisions: Family<TierLabel, Counter>,
    /// Cases by stage (set at scrape time).
    pub cases: Family<StageLabel, Gauge>,
    /// Cases whose deadline has passed, by stage (set at scrape time).
    pub cases_overdue: Family<StageLabel, Gauge>,
    /// Outbox rows waiting to be sent (set at scrape time).
    pub outbox_pending: Gauge,
    /// Outbox rows parked as failed (set at scrape time).
    pub outbox_failed: Gauge,
    /// Email delivery attempts by result.
    pub emails: Family<ResultLabel, Counter>,
    /// Recipients a server refused for good while it took the email for others.
    pub email_recipients_refused: Counter,
    /// Deadline actions by kind and action.
    pub deadline_actions: Family<DeadlineLabels, Counter>,
    /// Seconds the last successful policy load took.
    pub policy_load_seconds: Gauge<f64, AtomicU64>,
    /// Policy loads by result (`ok`, `error`).
    pub policy_loads: Family<ResultLabel, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("escalator");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        let decisions = Family::<TierLabel, Counter>::default();
        registry.register(
            "decisions",
            "Classifications by decided tier",
            decisions.clone(),
        );
        let cases = Family::<StageLabel, Gauge>::default();
        registry.register("cases", "Cases by stage", cases.clone());
        let cases_overdue = Family::<StageLabel, Gauge>::default();
        registry.register(
            "cases_overdue",
            "Cases whose deadline has passed, by stage",
            cases_overdue.clone(),
        );
        let outbox_pending = Gauge::default();
        registry.register(
            "outbox_pending",
            "Emails waiting to be sent",
            outbox_pending.clone(),
        );
        let outbox_failed = Gauge::default();
        registry.register(
            "outbox_failed",
            "Emails parked as failed",
            outbox_failed.clone(),
        );
        let emails = Family::<ResultLabel, Counter>::default();
        registry.register(
            "email_attempts",
            "Email delivery attempts by result",
            emails.clone(),
        );
        let email_recipients_refused = Counter::default();
        registry.register(
            "email_recipients_refused",
            "Recipients a server refused for good while it took the email for others",
            email_recipients_refused.clone(),
        );
        let deadline_actions = Family::<DeadlineLabels, Counter>::default();
        registry.register(
            "deadline_actions",
            "Deadline actions by kind and action",
            deadline_actions.clone(),
        );
        let policy_load_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "policy_load_seconds",
            "Seconds the last successful policy load took",
            policy_load_seconds.clone(),
        );
        let policy_loads = Family::<ResultLabel, Counter>::default();
        registry.register(
            "policy_loads",
            "Policy loads by result",
            policy_loads.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            decisions,
            cases,
            cases_overdue,
            outbox_pending,
            outbox_failed,
            emails,
            email_recipients_refused,
            deadline_actions,
            policy_load_seconds,
            policy_loads,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Counts one decision of `tier`.
    pub fn count_decision(&self, tier: crate::case::Tier) {
        self.decisions
            .get_or_create(&TierLabel {
                tier: tier.as_str().to_owned(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_appear_in_the_text_exposition_with_the_contract_names() {
        let metrics = Metrics::new();
        metrics
            .deadline_actions
            .get_or_create(&DeadlineLabels {
                kind: "acknowledge".to_owned(),
                action: "reminder".to_owned(),
            })
            .inc();
        metrics
            .cases_overdue
            .get_or_create(&StageLabel {
                stage: "escalated".to_owned(),
            })
            .set(2);
        let text = metrics.encode();
        assert!(
            text.contains(
                "escalator_deadline_actions_total{kind=\"acknowledge\",action=\"reminder\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("escalator_cases_overdue{stage=\"escalated\"} 2"),
            "{text}"
        );
    }
}
