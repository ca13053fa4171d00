//! The count behind the `escalator_cases_overdue{stage}` gauge, set by
//! `/metrics` at scrape time so every instance reports the same truth.

use chrono::{DateTime, Utc};

use super::db::args;
use super::error::{Context, StoreError};
use super::records::to_ms;
use super::Store;
use crate::workflow::Stage;

impl Store {
    /// Cases whose running deadline has passed at `now`, per stage (stages
    /// without any are left out). A paused deadline is never overdue.
    pub async fn overdue_by_stage(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Stage, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = self
            .pool
            .fetch_all(
                "select c.stage, count(*) from deadlines d join cases c on c.id = d.case_id \
                 where d.due_at is not null and d.due_at <= $1 group by c.stage order by c.stage",
                args![to_ms(now)],
            )
            .await
            .context("cannot count overdue cases")?;
        rows.into_iter()
            .map(|(stage, count)| {
                let stage = stage.parse().map_err(|message| StoreError::Corrupt {
                    what: "stage",
                    case_id: String::new(),
                    message,
                })?;
                Ok((stage, count))
            })
            .collect()
    }
}
