//! The mail room from the outside: rendered messages (snapshots, escaping,
//! subjects), delivery through lettre to a real aiosmtpd server and what the
//! server received, failure classification, `.eml` files, throughput.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests say which set-ups they skipped and what they measured"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation is a failed test"
)]

#[path = "../support/smtp.rs"]
mod smtp;

mod delivery;
mod files;
mod fixtures;
mod render;
mod throughput;
