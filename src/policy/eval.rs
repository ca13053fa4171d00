//! Classifies one case against the compiled program. Built for speed: the
//! index narrows the requirements and rules to those the case's string
//! fields leave possible, each atom and let is evaluated at most once per
//! case (lazily, memoised in a per-thread scratch area reused across
//! cases), string fields are compared as interned ids, and keyword tests
//! search for their keywords (SIMD; a `contains any` list with one search
//! for all of its keywords) while a case asks about few, then scan once for
//! every keyword. Only the [`Outcome`] allocates on
//! the usual path.

use std::cell::RefCell;

use memchr::memmem::Finder;

use super::index;
use super::keywords::{lowercase, lowercase_into};
use super::program::{
    AnyOf, Atom, Haystack, IntField, Lit, Node, Program, SetField, TextField, NOT_INTERNED,
};
use super::render;
use super::schema::capability_set;
use super::template::{Segment, Template};
use super::{Gap, Gaps, MatchedRule, Name, Outcome};
use crate::case::{item_hash, Capabilities, Case};

const UNKNOWN: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
/// Slot cache marker: not looked up yet.
const SLOT_UNSET: u32 = u32::MAX - 1;
/// Slot cache marker: the field is absent.
const SLOT_ABSENT: u32 = u32::MAX - 2;
/// How much text a case searches one keyword at a time before it scans for
/// every keyword at once, in multiples of its subject and description. One
/// search reads a byte in about a tenth of the scan's instructions, and
/// most cases ask about a few keywords only; a case that asks about many
/// pays at most this much searching on top of the scan.
const SEARCHES_BEFORE_SCAN: usize = 12;
/// What a search costs besides reading the text, in bytes' worth: a short
/// subject is cheap to read but not to search.
const SEARCH_OVERHEAD: usize = 128;

/// Per-case working memory, reused across cases on one thread.
#[derive(Default)]
struct Scratch {
    atoms: Vec<u8>,
    lets: Vec<u8>,
    slots: Vec<u32>,
    /// What the case's subject, description and `text` hold of the keywords.
    subject: Found,
    description: Found,
    whole: Found,
    /// The case's texts lower-cased, for searches.
    lowered: Lowered,
    /// Whether the case still searches, or scans.
    budget: Budget,
    text: String,
    text_ready: bool,
    /// A string field's value and a needle taken from a field, lower-cased
    /// for a case-insensitive `contains` on string fields; reused, so such
    /// a test allocates nothing once the buffers have grown.
    value_lower: String,
    needle_lower: String,
    /// The gaps, added to the list of their kind as they are found, in
    /// policy order: they need no sorting.
    gaps: Gaps,
    matched_requirements: Vec<u32>,
    /// Matching rules, as bits over the index's items.
    matched_rules: Vec<u64>,
    /// The index's candidates: requirements, then rules.
    candidates: Vec<u64>,
}

impl Scratch {
    fn reset(&mut self, program: &Program) {
        reset(&mut self.atoms, program.atoms.len(), UNKNOWN);
        reset(&mut self.lets, program.lets.len(), UNKNOWN);
        reset(&mut self.slots, program.slots.len(), SLOT_UNSET);
        let words = program.patterns.len().div_ceil(64);
        self.subject.reset(words);
        self.description.reset(words);
        self.whole.reset(words);
        self.lowered.reset();
        self.budget = Budget::default();
        self.text_ready = false;
        self.gaps.clear();
        self.matched_requirements.clear();
        self.matched_rules.clear();
    }
}

/// What one text of a case (the subject, the description, or `text`: both
/// with a newline between) is known to hold of the policy's keywords, bits
/// by pattern id.
#[derive(Default)]
struct Found {
    /// Keywords found.
    hits: Vec<u64>,
    /// Which bits of `hits` a search answered. Once the case scanned, the
    /// subject's and the description's `hits` hold every keyword instead.
    known: Vec<u64>,
}

impl Found {
    fn reset(&mut self, words: usize) {
        reset(&mut self.hits, words, 0);
        reset(&mut self.known, words, 0);
    }

    /// The recorded answer, if this keyword was searched for.
    fn answer(&self, word: usize, bit: u64) -> Option<bool> {
        (self.known[word] & bit != 0).then_some(self.hits[word] & bit != 0)
    }

    fn record(&mut self, pattern: u32, found: bool) {
        let (word, bit) = bit_of(pattern);
        if found {
            self.hits[word] |= bit;
        }
        self.known[word] |= bit;
    }

    /// Searches `text`, lower-cased, for one keyword alone and records the answer.
    fn search(&mut self, text: &[u8], keyword: &Finder<'_>, pattern: u32) -> bool {
        let found = keyword.find(text).is_some();
        self.record(pattern, found);
        found
    }

    /// Searches `text`, lower-cased, for every keyword of a `contains any`
    /// list at once and records what that tells: the keyword found, or that
    /// none is there.
    fn search_any(&mut self, text: &[u8], any: &AnyOf, patterns: &[u32]) -> bool {
        match any.searcher.find(text) {
            Some(found) => {
                if let Some(pattern) = patterns.get(found.pattern().as_usize()) {
                    self.record(*pattern, true);
                }
                true
            }
            None => {
                for pattern in patterns {
                    self.record(*pattern, false);
                }
                false
            }
        }
    }
}

/// The case's subject and description lower-cased as the keywords are, in
/// one buffer laid out as `text` is (the subject, a newline, the
/// description), so that the three texts a keyword test can search are
/// slices of it and each part is lower-cased at most once per case. The
/// subject, short, is lower-cased whenever a search needs any part; the
/// description only when a search needs it.
#[derive(Default)]
struct Lowered {
    bytes: Vec<u8>,
    /// Where the lower-cased subject ends (its newline), once it is there.
    subject_end: Option<usize>,
    /// Whether the description follows the newline.
    description: bool,
}

impl Lowered {
    fn reset(&mut self) {
        self.subject_end = None;
        self.description = false;
    }

    /// `field`'s text, lower-cased.
    fn of(&mut self, case: &Case, field: TextField) -> &[u8] {
        let end = match self.subject_end {
            Some(end) => end,
            None => self.lower_subject(case.subject()),
        };
        if field != TextField::Subject && !self.description {
            self.lower_description(case.description());
        }
        match field {
            TextField::Subject => &self.bytes[..end],
            TextField::Description => &self.bytes[end + 1..],
            TextField::Text => &self.bytes,
        }
    }

    /// Lower-cases the subject into the empty buffer, then the newline.
    /// ASCII while copying, anything else again with Unicode rules.
    fn lower_subject(&mut self, subject: &str) -> usize {
        self.bytes.clear();
        if !push_ascii_lowercase(&mut self.bytes, subject.as_bytes()) {
            self.bytes.clear();
            self.bytes.extend_from_slice(lowercase(subject).as_bytes());
        }
        let end = self.bytes.len();
        self.bytes.push(b'\n');
        self.subject_end = Some(end);
        end
    }

    /// Lower-cases the description after the subject's newline. Lower-cased
    /// apart, the two parts read as `text` lower-cased whole: `lowercase`
    /// lower-cases every character on its own.
    fn lower_description(&mut self, description: &str) {
        let start = self.bytes.len();
        if !push_ascii_lowercase(&mut self.bytes, description.as_bytes()) {
            self.bytes.truncate(start);
            self.bytes
                .extend_from_slice(lowercase(description).as_bytes());
        }
        self.description = true;
    }
}

/// How much a case has searched, and whether it gave up searching for one
/// scan of every keyword.
#[derive(Default)]
struct Budget {
    /// Bytes' worth searched; see `SEARCHES_BEFORE_SCAN`.
    searched: usize,
    /// Whether both texts were scanned for every keyword.
    scanned: bool,
}

impl Budget {
    /// Whether the case may still search a text of `len` bytes rather than
    /// scan it; charges the search when it may.
    fn allows(&mut self, case: &Case, len: usize) -> bool {
        let budget = SEARCHES_BEFORE_SCAN * (case.subject().len() + case.description().len());
        if self.scanned || self.searched >= budget {
            return false;
        }
        self.searched += len + SEARCH_OVERHEAD;
        true
    }
}

/// The word and the bit of a keyword in a bitset of keywords.
fn bit_of(pattern: u32) -> (usize, u64) {
    ((pattern / 64) as usize, 1u64 << (pattern % 64))
}

/// Appends `text` ASCII-lower-cased, in one pass the compiler vectorises,
/// and says whether it was all ASCII.
fn push_ascii_lowercase(out: &mut Vec<u8>, text: &[u8]) -> bool {
    let mut seen = 0u8;
    out.extend(text.iter().map(|byte| {
        seen |= byte;
        byte.to_ascii_lowercase()
    }));
    seen.is_ascii()
}

/// What is known of `field`'s keywords, the case's search budget, the
/// case's lowered texts, and how long `field`'s text is.
fn text_of<'s>(
    s: &'s mut Scratch,
    case: &Case,
    field: TextField,
) -> (&'s mut Found, &'s mut Budget, &'s mut Lowered, usize) {
    let (subject, description) = (case.subject().len(), case.description().len());
    let (found, len) = match field {
        TextField::Subject => (&mut s.subject, subject),
        TextField::Description => (&mut s.description, description),
        TextField::Text => (&mut s.whole, subject + 1 + description),
    };
    (found, &mut s.budget, &mut s.lowered, len)
}

fn reset<T: Copy>(v: &mut Vec<T>, len: usize, value: T) {
    v.clear();
    v.resize(len, value);
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Classifies a case; with `trace`, also fills it with the requirements
/// whose `when` held, in policy order. The outcome is returned, not wrapped
/// with the trace: an outcome is some 200 bytes, and every wrapper it
/// passes through on the way out is one more copy of them.
#[inline]
pub fn classify(
    program: &Program,
    hash: Name,
    case: &Case,
    partner: &Capabilities,
    trace: Option<&mut Vec<usize>>,
) -> Outcome {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => run(program, hash, case, partner, &mut scratch, trace),
        Err(_) => run(program, hash, case, partner, &mut Scratch::default(), trace),
    })
}

fn run(
    program: &Program,
    hash: Name,
    case: &Case,
    partner: &Capabilities,
    scratch: &mut Scratch,
    trace: Option<&mut Vec<usize>>,
) -> Outcome {
    scratch.reset(program);
    let mut cx = Cx {
        p: program,
        case,
        partner,
        s: scratch,
    };

    let mut candidates = std::mem::take(&mut cx.s.candidates);
    program
        .index
        .candidates(&mut candidates, |slot| cx.slot_id(slot));
    // INVARIANT: candidate bits below `split` are requirements, the rest rules, each in policy order.
    let split = program.index.requirements();
    for index in index::items(&candidates).take_while(|i| *i < split) {
        if !cx.all(program.tests.of(index).0) {
            continue;
        }
        let requirement = &program.requirements[index];
        cx.s.matched_requirements.push(index as u32);
        for (kind, item) in &requirement.needs {
            if !item.is_in(capability_set(partner, *kind)) {
                cx.s.gaps.push(
                    *kind,
                    Gap {
                        item: item.name,
                        requirement: requirement.name,
                    },
                );
            }
        }
    }

    // Rules: a candidate with nothing left to test matches; the others are
    // tested, in policy order.
    let sets = &program.rule_sets;
    let mut matched = std::mem::take(&mut cx.s.matched_rules);
    matched.clear();
    for (w, word) in candidates.iter().enumerate() {
        let mut found = word & sets.settled[w];
        let mut rest = word & sets.tested[w];
        while rest != 0 {
            let bit = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let (test, unless) = program.tests.of(w * 64 + bit);
            if cx.all(test) && !unless.is_some_and(|u| cx.node(u)) {
                found |= 1 << bit;
            }
        }
        matched.push(found);
    }
    cx.s.candidates = candidates;

    let rule_at = |bit: usize| &program.rules[bit - split];
    let count = matched.iter().map(|w| w.count_ones() as usize).sum();
    let mut matched_rules: Vec<MatchedRule> = Vec::with_capacity(count);
    for (w, word) in matched.iter().enumerate() {
        let mut bits = *word;
        while bits != 0 {
            let rule = rule_at(w * 64 + bits.trailing_zeros() as usize);
            bits &= bits - 1;
            matched_rules.push(MatchedRule {
                rule: rule.name,
                tier: rule.tier,
            });
        }
    }
    // Cloned, each list allocated once at its exact size.
    let gaps = cx.s.gaps.clone();
    // The strongest tier with a matching rule decides.
    let decision = sets
        .tiers
        .iter()
        .find(|(_, mask)| matched.iter().zip(mask).any(|(m, t)| m & t != 0));
    let (decision, reasons, deciding, within, notify) = match decision {
        None => {
            let (tier, because) = &program.default;
            (
                *tier,
                vec![cx.render(because, &gaps)],
                Vec::new(),
                None,
                Vec::new(),
            )
        }
        Some((tier, mask)) => {
            let count = matched
                .iter()
                .zip(mask)
                .map(|(m, t)| (m & t).count_ones() as usize)
                .sum();
            let mut deciding: Vec<Name> = Vec::with_capacity(count);
            let mut reasons = Vec::with_capacity(count);
            // The shortest `within`, taken without a branch on whether each
            // rule has one (u64::MAX itself is a `within` the language allows).
            let (mut shortest, mut any_within) = (u64::MAX, false);
            let mut notify: Vec<Name> = Vec::new();
            for (w, (m, t)) in matched.iter().zip(mask).enumerate() {
                let mut bits = m & t;
                while bits != 0 {
                    let rule = rule_at(w * 64 + bits.trailing_zeros() as usize);
                    bits &= bits - 1;
                    deciding.push(rule.name);
                    shortest = shortest.min(rule.within.unwrap_or(u64::MAX));
                    any_within |= rule.within.is_some();
                    for address in &rule.notify {
                        if !notify.contains(address) {
                            notify.push(*address);
                        }
                    }
                    if let Some(because) = &rule.because {
                        reasons.push(cx.render(because, &gaps));
                    }
                }
            }
            let within = any_within.then_some(shortest);
            (*tier, reasons, deciding, within, notify)
        }
    };
    cx.s.matched_rules = matched;
    if let Some(trace) = trace {
        trace.extend(cx.s.matched_requirements.iter().map(|i| *i as usize));
    }
    Outcome {
        case: case.external_id().as_str().to_owned(),
        decision,
        reasons,
        deciding_rules: deciding,
        matched_rules,
        gaps,
        within_minutes: within,
        notify,
        policy: hash,
    }
}

struct Cx<'a> {
    p: &'a Program,
    case: &'a Case,
    partner: &'a Capabilities,
    s: &'a mut Scratch,
}

impl<'a> Cx<'a> {
    /// Whether every conjunct holds, in order, stopping at the first that does not.
    fn all(&mut self, test: &[Lit]) -> bool {
        test.iter().all(|lit| match *lit {
            Lit::Atom { atom, holds } => self.memo_atom(atom) == holds,
            Lit::Node(node) => self.node(node),
        })
    }

    /// An atom's value, evaluated the first time this case asks.
    fn memo_atom(&mut self, atom: u32) -> bool {
        match self.s.atoms[atom as usize] {
            UNKNOWN => {
                let value = self.atom(atom);
                self.s.atoms[atom as usize] = if value { TRUE } else { FALSE };
                value
            }
            state => state == TRUE,
        }
    }

    fn node(&mut self, id: u32) -> bool {
        match self.p.nodes[id as usize] {
            Node::Atom(atom) => self.memo_atom(atom),
            Node::Let(index) => match self.s.lets[index as usize] {
                UNKNOWN => {
                    let value = self.node(self.p.lets[index as usize]);
                    self.s.lets[index as usize] = if value { TRUE } else { FALSE };
                    value
                }
                state => state == TRUE,
            },
            Node::Not(inner) => !self.node(inner),
            Node::And(start, end) => (start..end).all(|i| self.node(self.p.children[i as usize])),
            Node::Or(start, end) => (start..end).any(|i| self.node(self.p.children[i as usize])),
            Node::Const(value) => value,
        }
    }

    fn atom(&mut self, id: u32) -> bool {
        let p = self.p;
        match &p.atoms[id as usize] {
            Atom::StrEq { slot, id, negate } => match self.slot_id(*slot) {
                SLOT_ABSENT => false,
                value => (value == *id) != *negate,
            },
            Atom::StrIn { slot, ids } => match self.slot_id(*slot) {
                SLOT_ABSENT => false,
                value => ids.contains(&value),
            },
            Atom::StrFields {
                left,
                right,
                negate,
            } => match (self.string(*left), self.string(*right)) {
                (Some(a), Some(b)) => (a == b) != *negate,
                _ => false,
            },
            Atom::IntCmp { field, op, value } => op.holds(self.int(*field).cmp(value)),
            Atom::IntFields { left, op, right } => op.holds(self.int(*left).cmp(&self.int(*right))),
            Atom::IntIn { field, values } => values.contains(&self.int(*field)),
            Atom::SevCmp { op, value } => op.holds(self.case.severity().cmp(value)),
            Atom::SevIn { mask } => mask & super::compile::severity_bit(self.case.severity()) != 0,
            Atom::TextEq {
                field,
                value,
                negate,
            } => (self.text(*field) == value.as_str()) != *negate,
            Atom::TextIn { field, values } => {
                let text = self.text(*field);
                values.iter().any(|v| v == text)
            }
            Atom::TextHas {
                field,
                patterns,
                all,
            } => {
                if *all {
                    patterns.iter().all(|p| self.hit(*field, *p))
                } else {
                    let at_once = p.any_of[id as usize]
                        .as_deref()
                        .and_then(|any| self.hit_any(*field, patterns, any));
                    at_once.unwrap_or_else(|| patterns.iter().any(|p| self.hit(*field, *p)))
                }
            }
            Atom::StrHas { slot, needles, all } => match self.string(*slot) {
                None => false,
                Some(value) => {
                    let lower = &mut self.s.value_lower;
                    lowercase_into(value, lower);
                    if *all {
                        needles.iter().all(|n| lower.contains(n.as_str()))
                    } else {
                        needles.iter().any(|n| lower.contains(n.as_str()))
                    }
                }
            },
            Atom::HasField { haystack, needle } => {
                let Some(needle) = self.string(*needle) else {
                    return false;
                };
                let mut lower = std::mem::take(&mut self.s.needle_lower);
                lowercase_into(needle, &mut lower);
                let found = match haystack {
                    Haystack::Text(field) => {
                        let text = self.s.lowered.of(self.case, *field);
                        memchr::memmem::find(text, lower.as_bytes()).is_some()
                    }
                    Haystack::Str(slot) => self.string(*slot).is_some_and(|value| {
                        lowercase_into(value, &mut self.s.value_lower);
                        self.s.value_lower.contains(lower.as_str())
                    }),
                };
                self.s.needle_lower = lower;
                found
            }
            Atom::SetHas { set, items, all } => {
                if *all {
                    items
                        .iter()
                        .all(|item| self.set_has(*set, &item.name, item.hash))
                } else {
                    items
                        .iter()
                        .any(|item| self.set_has(*set, &item.name, item.hash))
                }
            }
            Atom::SetHasField { set, item } => match self.string(*item) {
                Some(value) => self.set_has(*set, value, item_hash(value)),
                None => false,
            },
            Atom::Matches { haystack, regex } => {
                let regex = &p.regexes[*regex as usize];
                match haystack {
                    Haystack::Text(field) => regex.is_match(self.text(*field)),
                    Haystack::Str(slot) => self.string(*slot).is_some_and(|s| regex.is_match(s)),
                }
            }
            Atom::Exists { slot } => self.string(*slot).is_some(),
            Atom::GapsAny => self.s.gaps.any(),
        }
    }

    /// A string field's value; it lives as long as the case, not the
    /// borrow of `self`, so the scratch area stays free to use beside it.
    fn string(&self, slot: u32) -> Option<&'a str> {
        self.p.slots[slot as usize].string_value(self.case, self.partner)
    }

    fn slot_id(&mut self, slot: u32) -> u32 {
        let cached = self.s.slots[slot as usize];
        if cached != SLOT_UNSET {
            return cached;
        }
        let id = match self.p.slots[slot as usize].string_value(self.case, self.partner) {
            None => SLOT_ABSENT,
            Some(value) => self.p.interner.get(value).copied().unwrap_or(NOT_INTERNED),
        };
        self.s.slots[slot as usize] = id;
        id
    }

    fn int(&self, field: IntField) -> u64 {
        match field {
            IntField::AffectedUsers => self.case.affected_users(),
            IntField::Reopened => u64::from(self.case.reopened()),
            IntField::GapsCount => self.s.gaps.count() as u64,
        }
    }

    fn text(&mut self, field: TextField) -> &str {
        match field {
            TextField::Subject => self.case.subject(),
            TextField::Description => self.case.description(),
            TextField::Text => {
                if !self.s.text_ready {
                    self.s.text.clear();
                    render::push_text(self.case, &mut self.s.text);
                    self.s.text_ready = true;
                }
                &self.s.text
            }
        }
    }

    /// Whether `set` holds `item`, whose [`item_hash`] is `hash`.
    fn set_has(&self, set: SetField, item: &str, hash: u64) -> bool {
        match set {
            SetField::Attempted => self.case.attempted().contains_hashed(item, hash),
            SetField::Partner(kind) => {
                capability_set(self.partner, kind).contains_hashed(item, hash)
            }
            SetField::Gaps(kind) => self.s.gaps.of(kind).iter().any(|gap| gap.item == item),
        }
    }

    /// Scans the subject and the description for every keyword at once.
    fn scan(&mut self) {
        if self.s.budget.scanned {
            return;
        }
        self.s.budget.scanned = true;
        let Some(keywords) = &self.p.keywords else {
            return;
        };
        let s = &mut *self.s;
        let subject = s.lowered.of(self.case, TextField::Subject);
        keywords.scan(subject, &mut s.subject.hits);
        let description = s.lowered.of(self.case, TextField::Description);
        keywords.scan(description, &mut s.description.hits);
    }

    /// Whether keyword `pattern` occurs in `field`. While the case has
    /// searched less than `SEARCHES_BEFORE_SCAN` times its text, a keyword
    /// not known yet is searched for alone; after that the scan finds every
    /// keyword at once.
    fn hit(&mut self, field: TextField, pattern: u32) -> bool {
        let (word, bit) = bit_of(pattern);
        let (found, budget, lowered, len) = text_of(self.s, self.case, field);
        if let Some(answer) = found.answer(word, bit) {
            return answer;
        }
        if budget.allows(self.case, len) {
            let text = lowered.of(self.case, field);
            return found.search(text, &self.p.patterns[pattern as usize].finder, pattern);
        }
        self.scan();
        let s = &mut *self.s;
        let in_subject = s.subject.hits[word] & bit != 0;
        let in_description = s.description.hits[word] & bit != 0;
        match field {
            TextField::Subject => in_subject,
            TextField::Description => in_description,
            TextField::Text => {
                let keyword = &self.p.patterns[pattern as usize];
                // A keyword with a newline may straddle the subject and the
                // description, where the scan of each alone cannot see it.
                in_subject
                    || in_description
                    || (keyword.spans_newline
                        && s.whole
                            .search(s.lowered.of(self.case, field), &keyword.finder, pattern))
            }
        }
    }

    /// Whether any keyword of a `contains any` list occurs in `field`, by
    /// one search for them all; `None` once the case scans instead (see
    /// `hit`).
    fn hit_any(&mut self, field: TextField, patterns: &[u32], any: &AnyOf) -> Option<bool> {
        let (found, budget, lowered, len) = text_of(self.s, self.case, field);
        budget
            .allows(self.case, len)
            .then(|| found.search_any(lowered.of(self.case, field), any, patterns))
    }

    /// Renders a reason straight into a string reserved at the template's
    /// size hint: written once, not rendered into a buffer and copied out.
    fn render(&mut self, template: &Template, gaps: &Gaps) -> String {
        if let [Segment::Lit(text)] = template.segments.as_slice() {
            return text.clone();
        }
        let facts = render::Facts {
            case: self.case,
            partner: self.partner,
            gaps,
        };
        let mut reason = String::with_capacity(template.size_hint);
        render::render(template, &facts, &mut reason);
        reason
    }
}
