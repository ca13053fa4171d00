//! The keyword scan: one pass over a text finds every keyword of every
//! `contains` test at once. It walks aho-corasick's dense DFA directly, one
//! transition-table load and one comparison per byte, because the generic
//! overlapping search loop costs about four times as many instructions per
//! byte and the scan is the largest part of a classification.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};

/// Every keyword of the policy in one automaton (ASCII case-insensitive;
/// text that is not ASCII is Unicode-lower-cased before the scan).
#[derive(Debug, Clone)]
pub struct Keywords {
    dfa: DFA,
    start: StateID,
}

impl Keywords {
    /// Builds the automaton over lower-cased keywords; pattern ids are their positions.
    pub fn build<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<Keywords, String> {
        let dfa = DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .ascii_case_insensitive(true)
            .prefilter(false)
            .build(patterns)
            .map_err(|error| error.to_string())?;
        let start = dfa
            .start_state(Anchored::No)
            .map_err(|error| error.to_string())?;
        Ok(Keywords { dfa, start })
    }

    /// Sets the bit of every keyword found anywhere in `text` (overlapping occurrences included).
    pub fn scan(&self, text: &str, hits: &mut [u64], lower: &mut String) {
        let haystack: &str = if text.is_ascii() {
            text
        } else {
            *lower = text.to_lowercase();
            lower
        };
        let dfa = &self.dfa;
        let mut state = self.start;
        for &byte in haystack.as_bytes() {
            state = dfa.next_state(Anchored::No, state, byte);
            // Match states sort first among the special ones: one comparison for the common case.
            if dfa.is_special(state) && dfa.is_match(state) {
                // Standard match semantics copy the keywords of every suffix state into
                // this state's list, so this reports every keyword ending here.
                for index in 0..dfa.match_len(state) {
                    let pattern = dfa.match_pattern(state, index).as_usize();
                    hits[pattern / 64] |= 1u64 << (pattern % 64);
                }
            }
        }
    }
}
