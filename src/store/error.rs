//! The store's one error type, named for what the caller can do: not found,
//! stale version, refused move, conflicting resubmission, bad cursor, bad
//! input — or an infrastructure failure that carries its context.

use crate::workflow::MoveError;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such thing, or one the caller may not see (answered alike).
    #[error("no {what} `{id}`")]
    NotFound {
        /// What was looked for (`case`, `partner`).
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The case changed since the caller read it; reload and retry.
    #[error("the case is at version {current}, not the version given; reload it and try again")]
    VersionConflict {
        /// The case's current version.
        current: i64,
    },
    /// The workflow refused the move (or its reason or fields); nothing changed.
    #[error(transparent)]
    MoveRefused(#[from] MoveError),
    /// The same `external_id` was already submitted with a different case.
    #[error("`external_id`: `{external_id}` was already submitted with a different case")]
    Conflict {
        /// The partner's reference.
        external_id: String,
        /// The id of the stored case.
        case_id: String,
    },
    /// A partner with this id already exists.
    #[error("a partner with id `{id}` already exists")]
    PartnerExists {
        /// The partner's id.
        id: String,
    },
    /// A list cursor this store did not issue.
    #[error("`cursor`: not a cursor this server issued")]
    BadCursor,
    /// An input the store refuses (ids, names, roles).
    #[error("`{field}`: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The database failed; `context` says what the store was doing.
    #[error("{context}: {source}")]
    Database {
        /// What the store was doing.
        context: &'static str,
        /// What the database said.
        #[source]
        source: sqlx::Error,
    },
    /// The database could not be opened; `database` is its URL without a password.
    #[error("cannot open the database `{database}`: {source}")]
    Open {
        /// The database URL, its password replaced by `***`.
        database: String,
        /// What the database said.
        #[source]
        source: sqlx::Error,
    },
    /// Migrations could not be applied.
    #[error("{context}: {source}")]
    Migrate {
        /// What the store was doing.
        context: String,
        /// What the migrator said.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A stored value does not decode (a bug or a hand-edited database).
    #[error("stored {what} of case `{case_id}` does not decode: {message}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// The case it belongs to.
        case_id: String,
        /// What was wrong.
        message: String,
    },
}

/// Attaches what the store was doing to a database error.
pub(crate) trait Context<T> {
    fn context(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn context(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Database { context, source })
    }
}
