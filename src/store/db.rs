//! The two backends behind one small surface: a pool, a transaction, bind
//! values and rows decoded with `FromRow`. Every query is written once, in
//! SQL both SQLite and PostgreSQL accept (`$1` placeholders, bigint times),
//! and dispatched here by backend. Unique and foreign-key violations are
//! recognised in one place ([`violated_constraint`]).

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{
    Connection, FromRow, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool,
    Transaction,
};

/// How long an SQLite writer waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection pool of either backend.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction of either backend; rolled back when dropped uncommitted.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(Some(value.to_owned()))
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(Some(value))
    }
}

impl From<&String> for Arg {
    fn from(value: &String) -> Self {
        Arg::Text(Some(value.clone()))
    }
}

impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Self {
        Arg::Text(value)
    }
}

impl From<Option<&str>> for Arg {
    fn from(value: Option<&str>) -> Self {
        Arg::Text(value.map(str::to_owned))
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Int(Some(value))
    }
}

impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Self {
        Arg::Int(value)
    }
}

impl From<bool> for Arg {
    fn from(value: bool) -> Self {
        Arg::Bool(value)
    }
}

/// Builds a `Vec<Arg>` from values of mixed types.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::store::db::Arg::from($value)),*]
    };
}
pub(crate) use args;

/// A row type both backends can decode.
pub(crate) trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(value) => query.bind(value),
                Arg::Int(value) => query.bind(value),
                Arg::Bool(value) => query.bind(value),
            };
        }
        query
    }};
}

impl Pool {
    /// Opens a pool for `url`: `sqlite://FILE` (created if missing) or `postgres://…`.
    pub(crate) async fn connect(url: &str) -> Result<Pool, sqlx::Error> {
        if is_postgres_url(url) {
            let options = PgConnectOptions::from_str(url)?;
            // One connection first: the pool retries a failed connect until
            // its acquire timeout (30 s) and then reports only that it timed
            // out, hiding the reason (refused, no such database, bad role).
            PgConnection::connect_with(&options).await?.close().await?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(options)
                .await?;
            return Ok(Pool::Postgres(pool));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true);
        switch_to_wal(&options).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Pool::Sqlite(pool))
    }

    /// Starts a writing transaction. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`): a deferred transaction that reads first and
    /// writes later fails with "database is locked" under concurrent writers,
    /// whatever the busy timeout.
    pub(crate) async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Pool::Sqlite(pool) => Ok(Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?)),
            Pool::Postgres(pool) => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }

    pub(crate) async fn fetch_optional<T: Record>(
        &self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> Result<Option<T>, sqlx::Error> {
        match self {
            Pool::Sqlite(pool) => {
                bind_all!(sqlx::query_as::<Sqlite, T>(sql), args)
                    .fetch_optional(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                bind_all!(sqlx::query_as::<Postgres, T>(sql), args)
                    .fetch_optional(pool)
                    .await
            }
        }
    }

    pub(crate) async fn fetch_all<T: Record>(
        &self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Pool::Sqlite(pool) => {
                bind_all!(sqlx::query_as::<Sqlite, T>(sql), args)
                    .fetch_all(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                bind_all!(sqlx::query_as::<Postgres, T>(sql), args)
                    .fetch_all(pool)
                    .await
            }
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// Opens one connection to put the file in WAL mode, retrying while another
/// process holds the lock, for up to the busy timeout.
///
/// Switching a new file to WAL needs an exclusive lock that SQLite does not
/// wait for (the busy timeout does not apply to it), so processes opening a
/// new file at once (`serve` and `partners add`) could fail with "database
/// is locked". WAL mode is stored in the file: once it is set, opening a
/// connection takes no such lock.
async fn switch_to_wal(options: &SqliteConnectOptions) -> Result<(), sqlx::Error> {
    let give_up = std::time::Instant::now() + SQLITE_BUSY_TIMEOUT;
    loop {
        match SqliteConnection::connect_with(options).await {
            Ok(connection) => return connection.close().await,
            Err(error) if is_busy(&error) && std::time::Instant::now() < give_up => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Whether SQLite answered `SQLITE_BUSY` ("database is locked"), whose
/// extended codes all have 5 in their low byte.
fn is_busy(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|database| database.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

impl Tx {
    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> Result<u64, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => Ok(bind_all!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected()),
            Tx::Postgres(tx) => Ok(bind_all!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected()),
        }
    }

    pub(crate) async fn fetch_optional<T: Record>(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> Result<Option<T>, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => {
                bind_all!(sqlx::query_as::<Sqlite, T>(sql), args)
                    .fetch_optional(&mut **tx)
                    .await
            }
            Tx::Postgres(tx) => {
                bind_all!(sqlx::query_as::<Postgres, T>(sql), args)
                    .fetch_optional(&mut **tx)
                    .await
            }
        }
    }

    pub(crate) async fn fetch_all<T: Record>(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => {
                bind_all!(sqlx::query_as::<Sqlite, T>(sql), args)
                    .fetch_all(&mut **tx)
                    .await
            }
            Tx::Postgres(tx) => {
                bind_all!(sqlx::query_as::<Postgres, T>(sql), args)
                    .fetch_all(&mut **tx)
                    .await
            }
        }
    }

    pub(crate) async fn fetch_one<T: Record>(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> Result<T, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => {
                bind_all!(sqlx::query_as::<Sqlite, T>(sql), args)
                    .fetch_one(&mut **tx)
                    .await
            }
            Tx::Postgres(tx) => {
                bind_all!(sqlx::query_as::<Postgres, T>(sql), args)
                    .fetch_one(&mut **tx)
                    .await
            }
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}

/// The named constraints the store maps to errors of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Constraint {
    /// `cases_partner_external_id_key`: one case per (partner, external_id).
    CaseExternalId,
    /// `partners_pkey`: partner ids are unique.
    PartnerId,
    /// Some foreign key (a partner or case that does not exist).
    ForeignKey,
}

/// The constraint a database error violated, if it is one we name.
///
/// PostgreSQL reports the constraint's name; SQLite reports only the columns
/// (`UNIQUE constraint failed: cases.partner_id, cases.external_id`), so both
/// are matched here and nowhere else.
pub(crate) fn violated_constraint(error: &sqlx::Error) -> Option<Constraint> {
    let database = error.as_database_error()?;
    if let Some(name) = database.constraint() {
        return match name {
            "cases_partner_external_id_key" => Some(Constraint::CaseExternalId),
            "partners_pkey" => Some(Constraint::PartnerId),
            name if name.ends_with("_fkey") => Some(Constraint::ForeignKey),
            _ => None,
        };
    }
    let message = database.message();
    if message.starts_with("UNIQUE constraint failed: cases.partner_id, cases.external_id") {
        Some(Constraint::CaseExternalId)
    } else if message.starts_with("UNIQUE constraint failed: partners.id") {
        Some(Constraint::PartnerId)
    } else if message.starts_with("FOREIGN KEY constraint failed") {
        Some(Constraint::ForeignKey)
    } else {
        None
    }
}

/// Whether `url` names a PostgreSQL database (else it is SQLite's).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The database URL as messages show it: a PostgreSQL password is replaced
/// by `***`; an SQLite URL is shown as given.
pub fn display_url(url: &str) -> String {
    if !is_postgres_url(url) {
        return url.to_owned();
    }
    crate::redact::url(url)
}
