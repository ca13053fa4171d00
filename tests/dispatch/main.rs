//! The outbox dispatcher against real parts: SQLite files and PostgreSQL
//! databases (fresh per test), a real aiosmtpd server on loopback, and the
//! real `escalator` binary for crashes, the quickstart and the operator
//! commands. Passes are driven with explicit times; nothing waits on a clock.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests say which set-ups they skipped and what they measured"
)]
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step is a failed test, reported with its value"
)]

#[path = "../support/binary.rs"]
mod binary;
#[path = "../support/postgres.rs"]
mod postgres;
#[macro_use]
#[path = "../store/harness.rs"]
mod harness;
#[path = "../support/smtp.rs"]
mod smtp;

mod fixtures;

mod cli;
mod delivery;
mod failures;
mod leases;
mod processes;
mod throughput;
