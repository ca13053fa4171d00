//! escalator decides who should own a customer's support case — the
//! customer (`self_service`), the partner, or 21Vianet's escalation support —
//! and carries the case to the end.
//!
//! How the modules fit:
//! - [`case`] turns intake JSON into validated domain types.
//! - [`policy`] is the rule language: it loads and checks the policy files and
//!   classifies a case into an [`policy::Outcome`]. Pure, no I/O.
//! - `workflow` decides whether a stage change is allowed. Pure, no I/O.
//! - `store` applies stage changes with their events, emails (outbox rows) and
//!   deadlines in one transaction, on SQLite or PostgreSQL.
//! - `mail` renders and delivers the outbox; `deadlines` acts on passed
//!   deadlines; `api` is the HTTP face; [`cli`] the command line.
//! - [`config`] resolves settings; `telemetry` sets up logging and metrics.

pub mod api;
pub mod case;
pub mod cli;
pub mod config;
pub mod deadlines;
pub mod mail;
pub mod policy;
mod prefetch;
mod redact;
pub mod server;
pub mod store;
mod suggest;
pub mod telemetry;
pub mod worker;
pub mod workflow;
