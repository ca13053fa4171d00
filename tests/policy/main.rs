//! The rule language from the outside: diagnostics of every load-time check,
//! the evaluator's semantics, the formatter over sample files, and property
//! tests over generated policies. Grammar-rule tests live next to the
//! grammar in `src/policy/syntax.rs` (the grammar's rule type stays private).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests say which set-ups they skipped and what they measured"
)]
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "helpers fail the test when a fixture is broken"
)]

mod diagnostics;
mod evaluation;
mod formatting;
mod generate;
mod helpers;
mod properties;
