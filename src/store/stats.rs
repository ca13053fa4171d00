//! Counts that describe the database, for the `/metrics` gauges: cases by
//! stage, overdue cases by stage, and the outbox depth. Read at scrape time,
//! so every instance sharing a database reports the same numbers.

use chrono::{DateTime, Utc};

use super::db::args;
use super::error::{Context, StoreError};
use super::records::to_ms;
use super::Store;

/// The database's state at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Cases per stage (stages without cases are absent).
    pub cases_by_stage: Vec<(String, i64)>,
    /// Cases whose running deadline has passed, per stage.
    pub overdue_by_stage: Vec<(String, i64)>,
    /// Outbox rows waiting to be sent.
    pub outbox_pending: i64,
    /// Outbox rows parked as failed.
    pub outbox_failed: i64,
}

impl Store {
    /// Counts cases, overdue cases and the outbox at `now`.
    pub async fn stats(&self, now: DateTime<Utc>) -> Result<Stats, StoreError> {
        let cases_by_stage: Vec<(String, i64)> = self
            .pool
            .fetch_all(
                "select stage, count(*) from cases group by stage order by stage",
                Vec::new(),
            )
            .await
            .context("cannot count cases by stage")?;
        // A paused deadline has no due time and is never overdue.
        let overdue_by_stage: Vec<(String, i64)> = self
            .pool
            .fetch_all(
                "select c.stage, count(*) from deadlines d join cases c on c.id = d.case_id \
                 where d.due_at is not null and d.due_at < $1 group by c.stage order by c.stage",
                args![to_ms(now)],
            )
            .await
            .context("cannot count overdue cases")?;
        let outbox: Vec<(String, i64)> = self
            .pool
            .fetch_all(
                "select status, count(*) from outbox where status in ('pending', 'failed') group by status",
                Vec::new(),
            )
            .await
            .context("cannot count the outbox")?;
        let count = |status: &str| {
            outbox
                .iter()
                .find(|(name, _)| name == status)
                .map_or(0, |(_, count)| *count)
        };
        Ok(Stats {
            outbox_pending: count("pending"),
            outbox_failed: count("failed"),
            cases_by_stage,
            overdue_by_stage,
        })
    }
}
