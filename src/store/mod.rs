//! The store: partners, tokens, cases, their events, outbox rows and
//! deadlines, on SQLite (the embedded default) or PostgreSQL, behind one API.
//!
//! Queries are written once as runtime SQL both backends accept and decoded
//! with `FromRow` (see `docs/storage.md`); one contract test suite runs on
//! both. Every write is one transaction, and [`Store::change_stage`] is the
//! only code that changes a case's stage.

mod apply;
mod cases;
mod db;
mod delivery;
mod error;
mod ids;
mod outbox;
mod partners;
mod records;
mod write;

use sqlx::migrate::Migrator;

pub use cases::{CasePage, CaseQuery, MAX_PAGE};
pub use delivery::{ClaimedEmail, DeliveryOutcome, DeliveryResult, OutboxEntry, OUTBOX_STATUSES};
pub use error::StoreError;
pub use ids::token_hash;
pub use outbox::QueuedEmail;
pub use partners::{check_partner_id, IssuedToken, NewPartner, Partner, Principal};
pub use records::{rfc3339, CaseRecord, CaseView, DeadlineView, EventRecord};
pub use write::{DeadlineNotice, Intake, NewEvent};

use crate::workflow::Actor;
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

/// A handle on the database; cheap to clone, shared by the API and the workers.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Connects to `url` (`sqlite://FILE`, created if missing and relative to
    /// the working directory, or `postgres://…`) and applies pending migrations.
    #[tracing::instrument(skip_all, err)]
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let pool = Pool::connect(url)
            .await
            .map_err(|source| StoreError::Database {
                context: "cannot open the database",
                source,
            })?;
        let store = Store { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations; safe to run any number of times.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|source| StoreError::Migrate {
            context: "cannot apply database migrations".to_owned(),
            source,
        })
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
            .fetch_optional::<(i64,)>("select 1", Vec::new())
            .await
            .is_ok()
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
