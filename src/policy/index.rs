//! Which requirements and rules can hold for a case, decided from its string
//! fields before any condition is walked. Real policies start almost every
//! `when` with `product == "…"`, `category in […]` and the like; such a
//! test is a *guard*: when it is false, the whole condition is false. At
//! load, every string field that guards something gets a table from each
//! interned literal to the bitset of items its value leaves possible; per
//! case, the evaluator ANDs one row per guarded field and walks only the
//! items left, in policy order.

use super::program::{Atom, Node};
use rustc_hash::FxHashSet;

/// Candidate items of a case: requirements first, then rules, one bit each.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Number of requirements (bits `0..requirements`); rules follow.
    requirements: usize,
    /// `u64` words per bitset.
    words: usize,
    /// Every item: the candidates when no field guards anything.
    all: Vec<u64>,
    /// One table per guarded string field.
    dims: Vec<Dim>,
}

/// The table of one guarded string field.
#[derive(Debug, Clone)]
struct Dim {
    /// The field's slot.
    slot: u32,
    /// Row of each interned id; ids this field's guards never name share `other`.
    rows: Vec<u32>,
    /// The row of values no guard names, and of an absent field.
    other: u32,
    /// `rows × words` bits: the items each row leaves possible.
    masks: Vec<u64>,
}

/// What the index needs from the compiled conditions.
pub struct Conditions<'a> {
    /// The condition arena.
    pub nodes: &'a [Node],
    /// Children of `And`/`Or` nodes.
    pub children: &'a [u32],
    /// Each let's node.
    pub lets: &'a [u32],
    /// The atoms.
    pub atoms: &'a [Atom],
    /// Number of interned strings (ids are `0..interned`).
    pub interned: usize,
}

impl Index {
    /// Builds the index over the requirements' and the rules' `when` nodes.
    pub fn build(c: &Conditions<'_>, requirements: &[u32], rules: &[u32]) -> Index {
        let items: Vec<u32> = requirements.iter().chain(rules).copied().collect();
        let words = items.len().div_ceil(64);
        let mut all = vec![0u64; words];
        for item in 0..items.len() {
            set(&mut all, item);
        }
        // Per item, its guards: (slot, the ids it allows).
        let guards: Vec<Vec<(u32, Vec<u32>)>> = items
            .iter()
            .map(|when| {
                let mut found = Vec::new();
                guards_of(c, *when, &mut found, &mut FxHashSet::default(), 0);
                found
            })
            .collect();
        let mut slots: Vec<u32> = guards.iter().flatten().map(|(slot, _)| *slot).collect();
        slots.sort_unstable();
        slots.dedup();
        let dims = slots
            .into_iter()
            .map(|slot| Dim::build(slot, &guards, words, c.interned))
            .collect();
        Index {
            requirements: requirements.len(),
            words,
            all,
            dims,
        }
    }

    /// Fills `out` with the candidates of a case; `id_of(slot)` gives the
    /// case's interned id for a slot, or an id no literal has when absent.
    pub fn candidates(&self, out: &mut Vec<u64>, mut id_of: impl FnMut(u32) -> u32) {
        out.clear();
        out.extend_from_slice(&self.all);
        for dim in &self.dims {
            let id = id_of(dim.slot);
            let row = dim.rows.get(id as usize).copied().unwrap_or(dim.other);
            let start = row as usize * self.words;
            // INVARIANT: `masks` holds `words` words for every row, the other row included.
            for (word, mask) in out.iter_mut().zip(&dim.masks[start..start + self.words]) {
                *word &= mask;
            }
        }
    }

    /// Number of requirements: candidate bits below it are requirements, the rest rules.
    pub fn requirements(&self) -> usize {
        self.requirements
    }

    /// `u64` words per bitset of items.
    pub fn words(&self) -> usize {
        self.words
    }
}

impl Dim {
    fn build(slot: u32, guards: &[Vec<(u32, Vec<u32>)>], words: usize, interned: usize) -> Dim {
        // Rows: one per id some guard on this slot names, then the other row.
        let mut rows = vec![u32::MAX; interned];
        let mut named: Vec<u32> = Vec::new();
        for (guard_slot, ids) in guards.iter().flatten() {
            if *guard_slot != slot {
                continue;
            }
            for id in ids {
                if let Some(row) = rows.get_mut(*id as usize) {
                    if *row == u32::MAX {
                        *row = named.len() as u32;
                        named.push(*id);
                    }
                }
            }
        }
        let other = named.len() as u32;
        for row in &mut rows {
            if *row == u32::MAX {
                *row = other;
            }
        }
        let mut masks = vec![0u64; (named.len() + 1) * words];
        for (item, item_guards) in guards.iter().enumerate() {
            let on_slot: Vec<&Vec<u32>> = item_guards
                .iter()
                .filter(|(s, _)| *s == slot)
                .map(|(_, ids)| ids)
                .collect();
            // An item is possible for a value when every guard on this slot allows it.
            for (row, id) in named.iter().enumerate() {
                if on_slot.iter().all(|ids| ids.contains(id)) {
                    set(&mut masks[row * words..(row + 1) * words], item);
                }
            }
            // A value no guard names, or an absent field, fails every guard.
            if on_slot.is_empty() {
                let row = other as usize;
                set(&mut masks[row * words..(row + 1) * words], item);
            }
        }
        Dim {
            slot,
            rows,
            other,
            masks,
        }
    }
}

/// How deep [`guards_of`] looks through `and`s and lets: guards deeper in a
/// condition are still tested, only not indexed.
const MAX_GUARD_DEPTH: usize = 64;

/// Collects the guards among the top-level conjuncts of a condition, through lets.
/// Each let is looked through once (`seen`): a let may use an earlier one
/// more than once (`let b = a and a`), and a chain of such lets would
/// otherwise be walked once per path, twice as often with every link.
fn guards_of(
    c: &Conditions<'_>,
    node: u32,
    out: &mut Vec<(u32, Vec<u32>)>,
    seen: &mut FxHashSet<u32>,
    depth: usize,
) {
    // Lets nest only backwards, but stay bounded anyway.
    if depth > MAX_GUARD_DEPTH {
        return;
    }
    match c.nodes.get(node as usize) {
        Some(Node::And(start, end)) => {
            for child in c
                .children
                .get(*start as usize..*end as usize)
                .unwrap_or(&[])
            {
                guards_of(c, *child, out, seen, depth + 1);
            }
        }
        Some(Node::Let(index)) => {
            // Past the depth bound the let is not looked into, so not marked:
            // a shallower use of it may still find its guards.
            if depth >= MAX_GUARD_DEPTH || !seen.insert(*index) {
                return;
            }
            if let Some(inner) = c.lets.get(*index as usize) {
                guards_of(c, *inner, out, seen, depth + 1);
            }
        }
        Some(Node::Atom(atom)) => {
            if let Some((slot, ids)) = c.atoms.get(*atom as usize).and_then(guard) {
                out.push((slot, ids.to_vec()));
            }
        }
        _ => {}
    }
}

/// The slot and the allowed interned ids of a guard atom: `FIELD == "…"` or
/// `FIELD in […]` on a string field; `None` for any other atom.
fn guard(atom: &Atom) -> Option<(u32, &[u32])> {
    match atom {
        Atom::StrEq {
            slot,
            id,
            negate: false,
        } => Some((*slot, std::slice::from_ref(id))),
        Atom::StrIn { slot, ids } => Some((*slot, ids)),
        _ => None,
    }
}

/// Whether a node is a guard atom (see [`guard`]). As a top-level conjunct
/// of a `when`, such an atom is one of the guards the index checks, so a
/// candidate need not test it again.
pub fn is_guard(nodes: &[Node], atoms: &[Atom], node: u32) -> bool {
    match nodes.get(node as usize) {
        Some(Node::Atom(atom)) => atoms.get(*atom as usize).and_then(guard).is_some(),
        _ => false,
    }
}

/// Adds `item` to a bitset of items.
pub fn set(bits: &mut [u64], item: usize) {
    bits[item / 64] |= 1u64 << (item % 64);
}

/// The items of a bitset, in increasing order.
pub fn items(bits: &[u64]) -> impl Iterator<Item = usize> + '_ {
    bits.iter().enumerate().flat_map(|(w, word)| {
        let mut rest = *word;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let bit = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            Some(w * 64 + bit)
        })
    })
}
