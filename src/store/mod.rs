//! The store: partners, tokens, cases, their events, outbox rows and
//! deadlines, on SQLite (the embedded default) or PostgreSQL, behind one API.
//!
//! Queries are written once as runtime SQL both backends accept and decoded
//! with `FromRow` (see `docs/storage.md`); one contract test suite runs on
//! both. Every write is one transaction, and [`Store::change_stage`] is the
//! only code that changes a case's stage.

mod apply;
mod batch;
mod cases;
mod db;
mod deadline_claims;
mod delivery;
mod error;
mod ids;
mod intake;
mod outbox;
mod overdue;
mod partners;
mod records;
mod stats;
mod write;

use sqlx::migrate::Migrator;

pub use cases::{CasePage, CaseQuery, MAX_PAGE};
pub use db::{display_url as display_database_url, is_postgres_url};
pub use deadline_claims::ClaimedDeadline;
pub use delivery::{
    ClaimedEmail, DeliveryOutcome, DeliveryResult, OutboxEntry, RefusedRecipient, OUTBOX_STATUSES,
};
pub use error::StoreError;
pub use ids::{is_case_id, token_hash};
pub use intake::Intake;
pub use outbox::QueuedEmail;
pub use partners::{check_partner_id, IssuedToken, NewPartner, Partner, Principal};
pub use records::{after_span, rfc3339, CaseRecord, CaseView, DeadlineView, EventRecord};
pub use stats::Stats;
pub use write::{DeadlineNotice, NewEvent};

use crate::workflow::Actor;
use batch::IntakeQueue;
use db::Pool;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Whose cases a caller may see and move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every case (operators, the deadline worker).
    All,
    /// Only this partner's cases.
    Partner(String),
    /// Cases that are or were escalated (21Vianet).
    Vianet,
}

impl Scope {
    /// The scope of an actor: a partner sees its own cases, 21Vianet the
    /// escalated ones, administrators and escalator itself every case.
    pub fn of(actor: &Actor) -> Scope {
        match actor {
            Actor::Partner { id } => Scope::Partner(id.clone()),
            Actor::Vianet { .. } => Scope::Vianet,
            Actor::Admin { .. } | Actor::System => Scope::All,
        }
    }

    /// Whether a case is visible in this scope.
    pub fn sees(&self, case: &CaseRecord) -> bool {
        match self {
            Scope::All => true,
            Scope::Partner(id) => &case.partner_id == id,
            Scope::Vianet => case.ever_escalated,
        }
    }
}

/// What `connect` says when the migrations of `database` fail: a database
/// migrated by a newer escalator is named as such.
fn migrate_context(database: &str, source: &sqlx::migrate::MigrateError) -> String {
    match source {
        sqlx::migrate::MigrateError::VersionMissing(version) => format!(
            "cannot apply database migrations to `{database}`: it was migrated by a newer \
             escalator (migration {version} is unknown to this one); use that version or a newer one"
        ),
        _ => format!("cannot apply database migrations to `{database}`"),
    }
}

/// Applies the SQLite migrations while holding the write lock.
///
/// sqlx takes no lock around SQLite migrations: two processes opening a
/// fresh file at once (`serve` starting while `partners add` runs) both find
/// migration 1 pending, and the later one fails with "table partners already
/// exists". Inside `BEGIN IMMEDIATE` the second waits for the first (busy
/// timeout) and then finds it applied; sqlx runs each migration in a
/// savepoint of this transaction.
async fn migrate_sqlite(pool: &sqlx::SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    SQLITE_MIGRATIONS.run_direct(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// A handle on the database; cheap to clone, shared by the API and the workers.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// Set by [`Store::with_group_commit`]: intakes go through the batch writer.
    intake_queue: Option<IntakeQueue>,
}

impl Store {
    /// Connects to `url` (`sqlite://FILE`, created if missing and relative to
    /// the working directory, or `postgres://…`) and applies pending migrations.
    #[tracing::instrument(skip_all, err)]
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let database = db::display_url(url);
        let pool = Pool::connect(url)
            .await
            .map_err(|source| StoreError::Open {
                database: database.clone(),
                source,
            })?;
        let store = Store {
            pool,
            intake_queue: None,
        };
        if let Err(error) = store.migrate(&database).await {
            store.close().await;
            return Err(error);
        }
        Ok(store)
    }

    /// Applies pending migrations; safe to run any number of times.
    /// `database` is the URL as messages show it.
    async fn migrate(&self, database: &str) -> Result<(), StoreError> {
        let result = match &self.pool {
            Pool::Sqlite(pool) => migrate_sqlite(pool).await,
            // sqlx holds an advisory lock around PostgreSQL migrations.
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|source| StoreError::Migrate {
            context: migrate_context(database, &source),
            source,
        })
    }

    /// The same store with group commit for intake (see `batch.rs`):
    /// concurrent [`Store::intake`] calls share one transaction of up to
    /// `max_batch` intakes. SQLite only, where every commit costs an fsync
    /// and writers are serialised anyway; on PostgreSQL the store is returned
    /// unchanged (concurrent commits already proceed in parallel there and
    /// the server groups their WAL flushes). Must be called inside a Tokio
    /// runtime: it starts the writer task.
    pub fn with_group_commit(self, max_batch: usize) -> Store {
        match &self.pool {
            Pool::Sqlite(_) => Store {
                intake_queue: Some(IntakeQueue::start(self.pool.clone(), max_batch)),
                pool: self.pool,
            },
            Pool::Postgres(_) => self,
        }
    }

    /// Whether intakes go through the group-commit writer.
    pub fn groups_commits(&self) -> bool {
        self.intake_queue.is_some()
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> bool {
        self.pool
            // `bigint`: PostgreSQL's plain `1` is an `integer`, which does
            // not decode as `i64`, and the ping would always fail there.
            .fetch_optional::<(i64,)>("select cast(1 as bigint)", Vec::new())
            .await
            .is_ok()
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
