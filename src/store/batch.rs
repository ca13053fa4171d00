//! Group commit for intake on SQLite. A durable SQLite commit costs one
//! fsync (about 2 ms here), which caps serial intakes at a few hundred per
//! second. Concurrent intakes therefore go to a queue served by one writer
//! task: it takes every waiting request (up to `max_batch`), writes them in
//! ONE `BEGIN IMMEDIATE` transaction with a savepoint per request — so a
//! refused or failed request is rolled back alone — commits once, and only
//! then answers each request through its oneshot channel.
//!
//! Each request runs exactly the single-intake code ([`insert_intake`]);
//! the batch adds nothing but the shared transaction. Idempotency holds
//! inside a batch too: a second identical body finds the first one's row
//! (same connection, same transaction) through the unique constraint and is
//! answered with the same case.
//!
//! The writer never waits to fill a batch: batches form by themselves while
//! the previous commit is on disk, so a lone request is written at once.

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::db::{Pool, Tx};
use super::error::{Context, StoreError};
use super::intake::{existing_in_tx, insert_intake, Inserted, Intake};
use crate::case::Case;
use crate::config::Settings;
use crate::policy::Outcome;

/// Requests waiting for the writer, at most; senders wait beyond that.
const QUEUE_CAPACITY: usize = 4096;

/// One intake waiting for its batch.
struct Job {
    partner_id: String,
    case: Case,
    outcome: Outcome,
    settings: Settings,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<Intake, StoreError>>,
}

/// The sending side of the intake queue; cheap to clone. The writer task
/// stops when every clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct IntakeQueue {
    jobs: mpsc::Sender<Job>,
}

impl IntakeQueue {
    /// Starts the writer task on `pool`; it writes up to `max_batch` intakes per transaction.
    pub(crate) fn start(pool: Pool, max_batch: usize) -> IntakeQueue {
        let (jobs, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_batches(pool, receiver, max_batch.max(1)));
        IntakeQueue { jobs }
    }

    /// Queues one intake and waits until its batch is committed.
    pub(crate) async fn submit(
        &self,
        partner_id: &str,
        case: &Case,
        outcome: &Outcome,
        settings: &Settings,
        now: DateTime<Utc>,
    ) -> Result<Intake, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            partner_id: partner_id.to_owned(),
            case: case.clone(),
            outcome: outcome.clone(),
            settings: settings.clone(),
            now,
            reply,
        };
        if self.jobs.send(job).await.is_err() {
            return Err(writer_gone());
        }
        answer.await.unwrap_or_else(|_| Err(writer_gone()))
    }
}

fn writer_gone() -> StoreError {
    StoreError::Database {
        context: "the intake writer has stopped",
        source: sqlx::Error::PoolClosed,
    }
}

async fn write_batches(pool: Pool, mut receiver: mpsc::Receiver<Job>, max_batch: usize) {
    let mut jobs = Vec::with_capacity(max_batch);
    while receiver.recv_many(&mut jobs, max_batch).await > 0 {
        let batch = std::mem::take(&mut jobs);
        tracing::trace!(size = batch.len(), "writing an intake batch");
        write_batch(&pool, batch).await;
    }
}

/// Writes one batch and answers every request in it.
async fn write_batch(pool: &Pool, jobs: Vec<Job>) {
    let mut tx = match pool.begin().await.context("cannot begin the intake batch") {
        Ok(tx) => tx,
        Err(error) => {
            let message = error.to_string();
            for job in jobs {
                let _ = job.reply.send(Err(batch_failed(&message)));
            }
            return;
        }
    };
    let mut answers = Vec::with_capacity(jobs.len());
    let mut fatal = None;
    for job in jobs {
        if fatal.is_none() {
            match write_one(&mut tx, &job).await {
                Ok(result) => answers.push((job.reply, result)),
                Err(error) => {
                    fatal = Some(error.to_string());
                    answers.push((job.reply, Err(error)));
                }
            }
        } else {
            answers.push((
                job.reply,
                Err(batch_failed("an earlier intake broke the batch")),
            ));
        }
    }
    // INVARIANT: no answer leaves before the commit: a client told "stored"
    // must find its case after a crash. A batch whose savepoints failed is
    // rolled back whole (dropping `tx`), since a half-undone intake must not
    // be committed.
    let committed = match fatal {
        Some(message) => Err(message),
        None => tx
            .commit()
            .await
            .map_err(|error| format!("cannot commit the intake batch: {error}")),
    };
    if let Err(message) = committed {
        for (reply, _) in answers {
            let _ = reply.send(Err(batch_failed(&message)));
        }
        return;
    }
    for (reply, result) in answers {
        // A client that went away no longer waits for its answer.
        let _ = reply.send(result);
    }
}

/// One intake inside the batch's transaction, fenced by a savepoint. The
/// inner result is the request's answer; an outer error means the
/// savepoints themselves failed and the whole batch must be rolled back.
async fn write_one(tx: &mut Tx, job: &Job) -> Result<Result<Intake, StoreError>, StoreError> {
    tx.execute("savepoint intake", Vec::new())
        .await
        .context("cannot open the intake's savepoint")?;
    let inserted = insert_intake(
        tx,
        &job.partner_id,
        &job.case,
        &job.outcome,
        &job.settings,
        job.now,
    )
    .await;
    match inserted {
        Ok(Inserted::New(record)) => {
            release(tx).await?;
            Ok(Ok(Intake {
                case: *record,
                created: true,
            }))
        }
        Ok(Inserted::Taken(error)) => {
            undo(tx).await?;
            Ok(existing_in_tx(tx, &job.partner_id, &job.case)
                .await
                .and_then(|found| {
                    found.ok_or(StoreError::Database {
                        context: "the conflicting case vanished during intake",
                        source: error,
                    })
                }))
        }
        Err(error) => {
            undo(tx).await?;
            Ok(Err(error))
        }
    }
}

async fn release(tx: &mut Tx) -> Result<(), StoreError> {
    tx.execute("release savepoint intake", Vec::new())
        .await
        .context("cannot release the intake's savepoint")?;
    Ok(())
}

async fn undo(tx: &mut Tx) -> Result<(), StoreError> {
    tx.execute("rollback to savepoint intake", Vec::new())
        .await
        .context("cannot roll back the intake's savepoint")?;
    release(tx).await
}

/// The error each request of a failed batch receives (`sqlx::Error` cannot
/// be cloned, so each gets the failure's text).
fn batch_failed(message: &str) -> StoreError {
    StoreError::Database {
        context: "the intake batch failed",
        source: sqlx::Error::Protocol(message.to_owned()),
    }
}
