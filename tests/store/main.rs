//! The store's contract, run on a fresh SQLite file and on a fresh
//! PostgreSQL database per test, plus the database commands of the CLI.

#[macro_use]
mod harness;
mod fixtures;

mod cli;
mod concurrency;
mod effects;
mod intake;
mod lifecycle;
mod partners;
mod refusals;
mod scoping;
