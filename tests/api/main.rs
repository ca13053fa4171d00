//! The HTTP API over real HTTP: the server started in-process on port 0
//! with a fresh SQLite file (and, for the journey, a fresh PostgreSQL
//! database) per test.
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
mod fixtures;
mod harness;
#[path = "../support/postgres.rs"]
mod postgres;

mod concurrency;
mod errors;
mod intake;
mod isolation;
mod journey;
mod logs;
mod observability;
mod policy;
