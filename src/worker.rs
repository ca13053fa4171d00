//! The loop shared by the background workers (the mail dispatcher and the
//! deadline worker): run a pass, then sleep until the next due time, a nudge,
//! or shutdown — whichever comes first (the model is mini-redis's purge task).
//!
//! Each pass reads the clock once and returns when it next has work. A nudge
//! (a new outbox row, a new deadline) wakes the worker early; a cap on the
//! sleep lets an instance notice work that another instance wrote or a lease
//! that expired. A failing pass is logged and retried with a growing pause,
//! so a database outage does not spin.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Wakes a worker early. Cloning shares the same worker; a nudge sent while
/// the worker is busy is kept and wakes it as soon as it sleeps.
#[derive(Debug, Clone, Default)]
pub struct Nudge(Arc<Notify>);

impl Nudge {
    /// A nudge with no worker listening yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the worker (or makes its next sleep return at once).
    pub fn nudge(&self) {
        self.0.notify_one();
    }

    async fn notified(&self) {
        self.0.notified().await;
    }
}

/// One pass of a worker: do whatever is due at `now`, and say when to look again.
pub trait Pass: Send {
    /// The error a pass may end with; logged, then the pass is retried.
    type Error: std::fmt::Display + Send;

    /// Handles what is due at `now`; returns the next due time, if known.
    fn run(
        &mut self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, Self::Error>> + Send;
}

/// How a worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Longest sleep between passes, even with nothing due (other instances,
    /// expired leases).
    pub max_sleep: Duration,
    /// First pause after a failed pass; doubles up to `max_sleep`.
    pub error_pause: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            max_sleep: Duration::from_secs(10),
            error_pause: Duration::from_millis(500),
        }
    }
}

/// Runs `pass` until `shutdown` is cancelled. A pass in progress is finished
/// before the worker returns, so nothing is left half-done.
pub async fn run(
    name: &'static str,
    mut pass: impl Pass,
    nudge: Nudge,
    pacing: Pacing,
    shutdown: CancellationToken,
) {
    let mut error_pause = pacing.error_pause;
    tracing::info!(worker = name, "worker started");
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let now = Utc::now();
        let sleep = match pass.run(now).await {
            Ok(next) => {
                error_pause = pacing.error_pause;
                next.map(|due| (due - now).to_std().unwrap_or(Duration::ZERO))
                    .unwrap_or(pacing.max_sleep)
                    .min(pacing.max_sleep)
            }
            Err(error) => {
                tracing::warn!(worker = name, %error, pause_ms = error_pause.as_millis() as u64, "worker pass failed");
                let pause = error_pause;
                error_pause = (error_pause * 2).min(pacing.max_sleep);
                pause
            }
        };
        if sleep.is_zero() {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = nudge.notified() => {}
            () = shutdown.cancelled() => break,
        }
    }
    tracing::info!(worker = name, "worker stopped");
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counting(Arc<AtomicUsize>);

    impl Pass for Counting {
        type Error = String;

        async fn run(&mut self, _now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        }
    }

    #[tokio::test]
    async fn a_nudge_wakes_the_worker_and_shutdown_stops_it() {
        let passes = Arc::new(AtomicUsize::new(0));
        let nudge = Nudge::new();
        let shutdown = CancellationToken::new();
        let pacing = Pacing {
            max_sleep: Duration::from_secs(3600),
            error_pause: Duration::from_millis(1),
        };
        let worker = tokio::spawn(run(
            "test",
            Counting(passes.clone()),
            nudge.clone(),
            pacing,
            shutdown.clone(),
        ));
        while passes.load(Ordering::SeqCst) < 1 {
            tokio::task::yield_now().await;
        }
        nudge.nudge();
        while passes.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        shutdown.cancel();
        worker.await.unwrap();
        assert_eq!(
            passes.load(Ordering::SeqCst),
            2,
            "an hour-long sleep ended only by the nudge"
        );
    }
}
