//! What every request handler shares: the store, the running policy (swapped
//! whole on reload), the settings, the metrics, and the nudges that wake the
//! background workers when a request wrote something for them.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::Settings;
use crate::policy::Policy;
use crate::store::Store;
use crate::telemetry::Metrics;
use crate::worker::Nudge;

/// The state behind every route.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The running policy; a reload swaps the whole `Arc`, so a request
    /// classifies with one consistent policy from start to end.
    pub policy: Arc<ArcSwap<Policy>>,
    /// The resolved settings.
    pub settings: Arc<Settings>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Wakes the mail dispatcher after a write that enqueued emails.
    pub mail_nudge: Nudge,
    /// Wakes the deadline worker after a write that set a deadline.
    pub deadline_nudge: Nudge,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("policy", &self.policy.load().hash())
            .finish_non_exhaustive()
    }
}
