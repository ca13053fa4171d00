//! The rule language: text → syntax tree with spans → checked, compiled
//! policy → outcomes. pest stays inside `syntax`; everything after it works
//! on our own types.

mod outcome;

pub use outcome::{Gap, Gaps, MatchedRule, Outcome};
