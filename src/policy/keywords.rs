//! The keyword scan: one pass over a text finds every keyword of every
//! `contains` test at once, and the scan is the largest part of a
//! classification. aho-corasick builds the automaton (standard match
//! semantics, ASCII case-insensitive); at load its DFA is copied into a
//! table of our own whose match states come first, so that a byte costs one
//! class load, one transition load and one comparison. Walking the crate's
//! DFA through its `Automaton` trait costs 13 instructions per byte, its
//! overlapping search loop about 20.

use std::collections::{HashMap, HashSet};

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};

/// Every keyword of the policy in one automaton (ASCII case-insensitive;
/// text that is not ASCII is Unicode-lower-cased before the scan).
#[derive(Debug, Clone)]
pub struct Keywords {
    /// The column of each byte; an ASCII letter shares its lower case's column.
    classes: [u32; 256],
    /// Transitions, `states × stride`; a state is the index of its row's first cell.
    table: Vec<u32>,
    /// Columns per row.
    stride: u32,
    /// The start state.
    start: u32,
    /// States below this are match states.
    match_end: u32,
    /// The keywords (pattern ids) ending in each match state, by `state / stride`.
    matches: Vec<Vec<u32>>,
}

impl Keywords {
    /// Builds the automaton over lower-cased keywords; pattern ids are their positions.
    pub fn build<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<Keywords, String> {
        let patterns: Vec<&str> = patterns.into_iter().collect();
        let dfa = DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .ascii_case_insensitive(true)
            .prefilter(false)
            .build(&patterns)
            .map_err(|error| error.to_string())?;
        let start = dfa
            .start_state(Anchored::No)
            .map_err(|error| error.to_string())?;

        // A byte no keyword holds (in either ASCII case) moves every state alike,
        // so all such bytes share one column: only the keywords' bytes get their own.
        let mut column_of_key: HashMap<u8, u32> = HashMap::new();
        for byte in patterns.iter().flat_map(|p| p.bytes()) {
            let next = column_of_key.len() as u32;
            column_of_key
                .entry(byte.to_ascii_lowercase())
                .or_insert(next);
        }
        let other = column_of_key.len() as u32;
        let mut classes = [other; 256];
        let mut representative: Vec<Option<u8>> = vec![None; other as usize + 1];
        for byte in 0..=u8::MAX {
            let column = column_of_key
                .get(&byte.to_ascii_lowercase())
                .copied()
                .unwrap_or(other);
            classes[usize::from(byte)] = column;
            representative[column as usize].get_or_insert(byte);
        }
        let stride = other + 1;

        // Every state reachable from the start, then match states first.
        let mut seen: HashSet<StateID> = HashSet::from([start]);
        let mut states = vec![start];
        let mut next = 0;
        while let Some(&state) = states.get(next) {
            next += 1;
            for byte in representative.iter().flatten() {
                let to = dfa.next_state(Anchored::No, state, *byte);
                if seen.insert(to) {
                    states.push(to);
                }
            }
        }
        states.sort_by_key(|state| !dfa.is_match(*state));
        let match_count = states.iter().filter(|s| dfa.is_match(**s)).count();
        let too_large = || "the keyword lists are too large to search".to_owned();
        let cell = |position: usize| -> Result<u32, String> {
            u32::try_from(position)
                .ok()
                .and_then(|p| p.checked_mul(stride))
                .ok_or_else(too_large)
        };
        let position: HashMap<StateID, usize> =
            states.iter().enumerate().map(|(i, s)| (*s, i)).collect();
        let mut table = Vec::with_capacity(states.len() * stride as usize);
        for state in &states {
            for byte in &representative {
                let to = match byte {
                    Some(byte) => dfa.next_state(Anchored::No, *state, *byte),
                    // A column no byte maps to is never read.
                    None => start,
                };
                table.push(cell(position[&to])?);
            }
        }
        let matches = states[..match_count]
            .iter()
            .map(|state| {
                (0..dfa.match_len(*state))
                    .map(|i| dfa.match_pattern(*state, i).as_u32())
                    .collect()
            })
            .collect();
        cell(states.len())?;
        Ok(Keywords {
            classes,
            table,
            stride,
            start: cell(position[&start])?,
            match_end: cell(match_count)?,
            matches,
        })
    }

    /// Sets the bit of every keyword found anywhere in `text` (overlapping occurrences included).
    pub fn scan(&self, text: &str, hits: &mut [u64], lower: &mut String) {
        let haystack: &str = if text.is_ascii() {
            text
        } else {
            *lower = text.to_lowercase();
            lower
        };
        let bytes = haystack.as_bytes();
        // Eight bytes per iteration: the loop's own counting would otherwise cost
        // as much as the transition.
        let mut chunks = bytes.chunks_exact(8);
        let mut state = self.start;
        for chunk in &mut chunks {
            for &byte in chunk {
                state = self.step(state, byte, hits);
            }
        }
        for &byte in chunks.remainder() {
            state = self.step(state, byte, hits);
        }
    }

    /// Moves over one byte and records the keywords ending there.
    #[inline(always)]
    fn step(&self, state: u32, byte: u8, hits: &mut [u64]) -> u32 {
        let state = self.table[(state + self.classes[usize::from(byte)]) as usize];
        if state < self.match_end {
            // Standard match semantics copy the keywords of every suffix state into
            // this state's list, so this reports every keyword ending here.
            for pattern in &self.matches[(state / self.stride) as usize] {
                hits[*pattern as usize / 64] |= 1u64 << (pattern % 64);
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::Keywords;

    fn found(keywords: &[&str], text: &str) -> Vec<usize> {
        let automaton = match Keywords::build(keywords.iter().copied()) {
            Ok(automaton) => automaton,
            Err(error) => panic!("{error}"),
        };
        let mut hits = vec![0u64; keywords.len().div_ceil(64)];
        automaton.scan(text, &mut hits, &mut String::new());
        (0..keywords.len())
            .filter(|k| hits[k / 64] & (1 << (k % 64)) != 0)
            .collect()
    }

    #[test]
    fn the_scan_finds_the_same_keywords_as_an_overlapping_aho_corasick_search() {
        let keywords = [
            "outage",
            "out",
            "tag",
            "age",
            "a",
            "down time",
            "sso",
            "sso login",
            "x\ny",
            "données",
            "éa",
            "ab",
            "bab",
            "abab",
        ];
        let texts = [
            "",
            "Total OUTAGE since the DOWN TIME of sso LOGIN",
            "babababab xa\ny",
            "Les DONNÉES sont perdues; Éa",
            "nothing here",
            "zzzz a",
        ];
        let reference = match aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(keywords)
        {
            Ok(reference) => reference,
            Err(error) => panic!("{error}"),
        };
        for text in texts {
            let lower = text.to_lowercase();
            let mut expected: Vec<usize> = reference
                .find_overlapping_iter(&lower)
                .map(|m| m.pattern().as_usize())
                .collect();
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(found(&keywords, text), expected, "in {text:?}");
        }
    }
}
