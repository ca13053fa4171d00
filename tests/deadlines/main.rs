//! The deadline worker against real databases: passes driven with explicit
//! times on a fresh SQLite file and a fresh PostgreSQL database per test,
//! and two real `escalator serve` processes sharing one PostgreSQL database.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests say which set-ups they skipped and what they measured"
)]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failed step is a failed test, reported with its value"
)]

#[path = "../support/postgres.rs"]
mod postgres;
#[macro_use]
#[path = "../store/harness.rs"]
mod harness;
#[path = "../store/fixtures.rs"]
#[allow(dead_code, reason = "shared with the store tests, which use all of it")]
mod fixtures;

mod helpers;
mod instances;
mod lifecycle;
mod reminders;
mod serve;
mod takeover;
