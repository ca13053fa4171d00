//! The keyword scan: one pass over a text finds every keyword of every
//! `contains` test at once. A case that asks about a few keywords only
//! searches for each alone (`memchr::memmem`, see `eval::Found`); one
//! that asks about more scans, and the scan is then the largest part of
//! its classification. aho-corasick builds the automaton (standard match
//! semantics, ASCII case-insensitive); at load its DFA is copied into a
//! table of our own whose match states come first, so that a byte costs one
//! class load, one transition load and one comparison. Walking the crate's
//! DFA through its `Automaton` trait costs 13 instructions per byte, its
//! overlapping search loop about 20.
//!
//! A DFA walk is a chain of dependent loads: each byte waits for the state
//! the previous one produced. Long texts are therefore cut into four lanes
//! walked side by side, so the processor overlaps four chains. Each lane
//! but the first starts as many bytes early as the longest keyword is long:
//! an Aho-Corasick state is the longest suffix of the text read that is a
//! prefix of some keyword, so by the lane's own first byte the early start
//! has reached the state a single walk would be in. Bytes read twice only
//! set the same bits twice.

use std::collections::{HashMap, HashSet};

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};

/// Lanes walked side by side over a long text.
const LANES: usize = 4;
/// Texts shorter than this many bytes per lane are walked in one lane.
const MIN_LANE: usize = 64;

/// Every keyword of the policy in one automaton (ASCII case-insensitive;
/// text that is not ASCII comes Unicode-lower-cased, see [`Keywords::scan`]).
#[derive(Debug, Clone)]
pub struct Keywords {
    /// The column of each byte; an ASCII letter shares its lower case's column.
    classes: [u16; 256],
    /// Transitions, `states × stride` cells; a state is the index of its row's first cell.
    table: Table,
    /// Columns per row.
    stride: u32,
    /// The start state.
    start: u32,
    /// States below this are match states.
    match_end: u32,
    /// The keywords (pattern ids) ending in each match state, by `state / stride`.
    matches: Vec<Vec<u32>>,
    /// Length in bytes of the longest keyword: how early a lane starts.
    longest: usize,
}

/// The transition table. Almost every policy needs fewer than 65,536 cells, and then
/// a cell is found with a `u16` index into a table of exactly that size,
/// which needs no bounds check.
#[derive(Debug, Clone)]
enum Table {
    Small(Box<[u16; 1 << 16]>),
    Large(Vec<u32>),
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
        let mut column_of_key: HashMap<u8, u16> = HashMap::new();
        for byte in patterns.iter().flat_map(|p| p.bytes()) {
            // At most 256 distinct bytes, so the count fits.
            let next = column_of_key.len() as u16;
            column_of_key
                .entry(byte.to_ascii_lowercase())
                .or_insert(next);
        }
        let other = column_of_key.len() as u16;
        let mut classes = [other; 256];
        let mut representative: Vec<Option<u8>> = vec![None; usize::from(other) + 1];
        for byte in 0..=u8::MAX {
            let column = column_of_key
                .get(&byte.to_ascii_lowercase())
                .copied()
                .unwrap_or(other);
            classes[usize::from(byte)] = column;
            representative[usize::from(column)].get_or_insert(byte);
        }
        let stride = u32::from(other) + 1;

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
        let mut cells = Vec::with_capacity(states.len() * stride as usize);
        for state in &states {
            for byte in &representative {
                let to = match byte {
                    Some(byte) => dfa.next_state(Anchored::No, *state, *byte),
                    // A column no byte maps to is never read.
                    None => start,
                };
                cells.push(cell(position[&to])?);
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
        // Every state must be addressable: the row after the last one must fit too.
        cell(states.len())?;
        Ok(Keywords {
            classes,
            table: Table::new(cells),
            stride,
            start: cell(position[&start])?,
            match_end: cell(match_count)?,
            matches,
            longest: patterns.iter().map(|p| p.len()).max().unwrap_or(0),
        })
    }

    /// Sets the bit of every keyword found anywhere in `bytes` (overlapping
    /// occurrences included). `bytes` is a text lower-cased as the keywords
    /// are ([`lowercase`]), which the evaluator has at hand for its searches;
    /// ASCII letters are folded here as well, so ASCII text may come as it is.
    pub fn scan(&self, bytes: &[u8], hits: &mut [u64]) {
        match &self.table {
            Table::Small(table) => {
                // `Table::new` keeps every cell and `match_end` below 2^16.
                let match_end = self.match_end as u16;
                let start = self.start as u16;
                self.walk(bytes, start, |state, byte| {
                    let state =
                        table[usize::from(state.wrapping_add(self.classes[usize::from(byte)]))];
                    if state < match_end {
                        self.record(u32::from(state), hits);
                    }
                    state
                });
            }
            Table::Large(table) => {
                self.walk(bytes, self.start, |state, byte| {
                    let at = state + u32::from(self.classes[usize::from(byte)]);
                    let state = table[at as usize];
                    if state < self.match_end {
                        self.record(state, hits);
                    }
                    state
                });
            }
        }
    }

    /// Walks `bytes` from `start`, in lanes when it is long; `step` moves one
    /// state over one byte and records what matches there.
    #[inline(always)]
    fn walk<S: Copy>(&self, bytes: &[u8], start: S, mut step: impl FnMut(S, u8) -> S) {
        let lane = bytes.len() / LANES;
        if lane < MIN_LANE.max(self.longest) {
            bytes.iter().fold(start, |state, byte| step(state, *byte));
            return;
        }
        // Lane k covers [k·lane, (k+1)·lane), the last one up to the end; every
        // lane but the first starts `longest` bytes early to reach the right state.
        let early = self.longest;
        let first = &bytes[..lane];
        let second = &bytes[lane - early..2 * lane];
        let third = &bytes[2 * lane - early..3 * lane];
        let fourth = &bytes[3 * lane - early..];
        let mut states = [start; LANES];
        for (((a, b), c), d) in first.iter().zip(second).zip(third).zip(fourth) {
            states[0] = step(states[0], *a);
            states[1] = step(states[1], *b);
            states[2] = step(states[2], *c);
            states[3] = step(states[3], *d);
        }
        for (state, rest) in states[1..].iter().zip([second, third, fourth]) {
            rest[lane..]
                .iter()
                .fold(*state, |state, byte| step(state, *byte));
        }
    }

    /// Sets the bits of the keywords ending in a match state. Standard match
    /// semantics copy the keywords of every suffix state into this state's
    /// list, so this reports every keyword ending here.
    #[cold]
    #[inline(never)]
    fn record(&self, state: u32, hits: &mut [u64]) {
        for pattern in &self.matches[(state / self.stride) as usize] {
            hits[*pattern as usize / 64] |= 1u64 << (pattern % 64);
        }
    }
}

/// Lower-cases `text` with Unicode rules, writing the Greek final sigma
/// `ς` as `σ`. `str::to_lowercase` alone lower-cases `Σ` by its neighbours
/// (`ς` at the end of a word), so "ΟΣΑ" would not contain "ΟΣ". With `ς`
/// read as `σ` every character is lower-cased on its own, so every
/// substring stays a substring, and `ς`, `σ` and `Σ` are one letter as a
/// reader expects. Every case-insensitive `contains` lower-cases both sides
/// with this.
pub fn lowercase(text: &str) -> String {
    let mut lower = String::with_capacity(text.len());
    lowercase_into(text, &mut lower);
    lower
}

/// [`lowercase`] into `out`, replacing what it held, without allocating
/// once `out` has grown: ASCII in place, anything else a character at a
/// time, `ς` written as `σ`.
pub fn lowercase_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        out.make_ascii_lowercase();
    } else {
        for c in text.chars() {
            if c == 'ς' {
                out.push('σ');
            } else {
                out.extend(c.to_lowercase());
            }
        }
    }
}

impl Table {
    /// The compact form when every cell index fits in a `u16`.
    fn new(cells: Vec<u32>) -> Table {
        if cells.len() >= 1 << 16 {
            return Table::Large(cells);
        }
        let mut table = Box::new([0u16; 1 << 16]);
        for (slot, cell) in table.iter_mut().zip(&cells) {
            // Every cell is a state below `cells.len()`, so it fits.
            *slot = *cell as u16;
        }
        Table::Small(table)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Keywords, Table};

    fn found(automaton: &Keywords, patterns: usize, text: &str) -> Vec<usize> {
        let mut hits = vec![0u64; patterns.div_ceil(64)];
        // ASCII as it is (the scan folds its letters), anything else lower-cased.
        let lower = super::lowercase(text);
        let haystack = if text.is_ascii() { text } else { &lower };
        automaton.scan(haystack.as_bytes(), &mut hits);
        (0..patterns)
            .filter(|k| hits[k / 64] & (1 << (k % 64)) != 0)
            .collect()
    }

    fn build(keywords: &[&str]) -> Keywords {
        match Keywords::build(keywords.iter().copied()) {
            Ok(automaton) => automaton,
            Err(error) => panic!("{error}"),
        }
    }

    /// What an overlapping search with the aho-corasick crate itself finds.
    fn expected(keywords: &[&str], text: &str) -> Vec<usize> {
        let reference = match aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(keywords)
        {
            Ok(reference) => reference,
            Err(error) => panic!("{error}"),
        };
        let lower = super::lowercase(text);
        let mut expected: Vec<usize> = reference
            .find_overlapping_iter(&lower)
            .map(|m| m.pattern().as_usize())
            .collect();
        expected.sort_unstable();
        expected.dedup();
        expected
    }

    const KEYWORDS: [&str; 14] = [
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

    #[test]
    fn the_scan_finds_the_same_keywords_as_an_overlapping_aho_corasick_search() {
        let texts = [
            "",
            "Total OUTAGE since the DOWN TIME of sso LOGIN",
            "babababab xa\ny",
            "Les DONNÉES sont perdues; Éa",
            "nothing here",
            "zzzz a",
        ];
        let automaton = build(&KEYWORDS);
        for text in texts {
            assert_eq!(
                found(&automaton, KEYWORDS.len(), text),
                expected(&KEYWORDS, text),
                "in {text:?}"
            );
        }
    }

    #[test]
    fn a_keyword_across_a_lane_boundary_is_found() {
        let automaton = build(&["down time"]);
        // 400 bytes: four lanes of 100; the keyword straddles every boundary in turn.
        for at in 90..110 {
            let mut text = "z".repeat(400);
            text.replace_range(at..at + 9, "DOWN TIME");
            assert_eq!(found(&automaton, 1, &text), vec![0], "at {at}");
            text.replace_range(at + 150..at + 159, "down time");
            assert_eq!(found(&automaton, 1, &text), vec![0], "at {at} and later");
        }
    }

    #[test]
    fn a_policy_with_more_than_65536_cells_uses_the_large_table() {
        // 2,000 distinct ten-letter keywords: about 20,000 states of 27 cells each.
        let keywords: Vec<String> = (0..2_000u32)
            .map(|n| {
                (0..10)
                    .map(|i| char::from(b'a' + ((n.wrapping_mul(7919) >> i) % 26) as u8))
                    .collect()
            })
            .collect();
        let keywords: Vec<&str> = keywords.iter().map(String::as_str).collect();
        let automaton = build(&keywords);
        assert!(matches!(automaton.table, Table::Large(_)));
        let text = format!("{} and {} ", keywords[17], keywords[1_999]).repeat(20);
        assert_eq!(
            found(&automaton, keywords.len(), &text),
            expected(&keywords, &text)
        );
    }

    proptest! {
        /// Texts long enough for four lanes, built from pieces of keywords so
        /// that matches (and near-matches) fall everywhere, lane boundaries included.
        #[test]
        fn lanes_find_what_one_walk_finds(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just("out"), Just("age"), Just("TAG"), Just("a"), Just("b"),
                    Just("down "), Just("time"), Just("sso "), Just("login"),
                    Just("x\n"), Just("y"), Just("DONNÉES"), Just("é"), Just("zzz "),
                ],
                0..200,
            )
        ) {
            let text = pieces.concat();
            let automaton = build(&KEYWORDS);
            prop_assert_eq!(found(&automaton, KEYWORDS.len(), &text), expected(&KEYWORDS, &text));
        }
    }
}
