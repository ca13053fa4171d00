//! The store's contract, run on a fresh SQLite file and on a fresh
//! PostgreSQL database per test, plus the database commands of the CLI.
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

#[path = "../support/binary.rs"]
mod binary;
#[path = "../support/postgres.rs"]
mod postgres;
#[macro_use]
mod harness;
mod fixtures;

mod cli;
mod concurrency;
mod connect;
mod effects;
mod intake;
mod lifecycle;
mod partners;
mod refusals;
mod scoping;
