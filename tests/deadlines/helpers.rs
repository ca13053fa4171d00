//! A worker on a test store, and the deadline events of a case.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use escalator::config::Settings;
use escalator::deadlines::{DeadlineWorker, PassReport};
use escalator::store::{Scope, Store};
use escalator::telemetry::{DeadlineLabels, Metrics};
use escalator::worker::Nudge;
use serde_json::Value;

/// A deadline worker with default settings, claiming as `instance`.
pub fn worker(store: &Store, instance: &str) -> DeadlineWorker {
    worker_with(store, instance, &Metrics::new())
}

/// A deadline worker counting its actions in `metrics`.
pub fn worker_with(store: &Store, instance: &str, metrics: &Metrics) -> DeadlineWorker {
    DeadlineWorker::new(
        store.clone(),
        Arc::new(Settings::default()),
        metrics.clone(),
        Nudge::new(),
        instance,
    )
}

/// Runs one pass at `now` and returns `(kind, action)` of each action.
pub async fn pass(
    worker: &DeadlineWorker,
    now: DateTime<Utc>,
) -> Vec<(&'static str, &'static str)> {
    let report: PassReport = worker.pass(now).await.unwrap();
    report
        .acted
        .iter()
        .map(|acted| (acted.kind, acted.action))
        .collect()
}

/// The case's events of kind `deadline`, as the API shows them.
pub async fn deadline_events(store: &Store, case_id: &str) -> Vec<Value> {
    store
        .events(case_id, &Scope::All)
        .await
        .unwrap()
        .iter()
        .map(|event| serde_json::to_value(event).unwrap())
        .filter(|event| event["kind"] == "deadline")
        .collect()
}

/// The outbox events of a case, in order.
pub async fn email_events(store: &Store, case_id: &str) -> Vec<String> {
    store
        .case_emails(case_id)
        .await
        .unwrap()
        .into_iter()
        .map(|email| email.event)
        .collect()
}

/// How often the metric `escalator_deadline_actions_total{kind,action}` counted.
pub fn counted(metrics: &Metrics, kind: &str, action: &str) -> u64 {
    metrics
        .deadline_actions
        .get_or_create(&DeadlineLabels {
            kind: kind.to_owned(),
            action: action.to_owned(),
        })
        .get()
}
