//! A small set of names held by a case or a partner: the steps a customer
//! attempted, a partner's training, documentation and tooling.

use std::cmp::Ordering;
use std::hash::Hasher;

use rustc_hash::FxHasher;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of short names, kept sorted, written one after another in one
/// string, with each item's end and hash in one array beside it.
///
/// The policy asks these sets "do you hold this item?" several times per
/// case, and a case's sets are rarely in the processor's cache when it does.
/// A `BTreeSet<String>` answers by following tree nodes to one allocation
/// per item; here a lookup reads two allocations whatever the set's size:
/// the array of hashes, and the text of the item whose hash matches. Both
/// are reachable from the set itself, so they can be fetched together
/// (see `Case::prefetch`). It iterates and serialises in sorted order, like
/// the `BTreeSet` it replaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemSet {
    /// The items, sorted, without repeats, one after another.
    text: String,
    /// Where each item ends in `text`, and its [`item_hash`], in order.
    entries: Vec<Entry>,
}

/// Sets larger than this (only a partner stored outside the intake limits
/// has one) are searched by bisection over the sorted items.
const LINEAR_SEARCH_UP_TO: usize = crate::case::MAX_LIST_ITEMS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    end: usize,
    hash: u64,
}

/// The hash an [`ItemSet`] keeps for an item. A caller that looks the same
/// item up in many sets (the policy's names, in every case's sets) hashes
/// it once with this and looks it up with [`ItemSet::contains_hashed`].
pub fn item_hash(item: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(item.as_bytes());
    hasher.finish()
}

impl ItemSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the set holds `item`.
    pub fn contains(&self, item: &str) -> bool {
        self.contains_hashed(item, item_hash(item))
    }

    /// Whether the set holds `item`, whose [`item_hash`] is `hash`.
    pub fn contains_hashed(&self, item: &str, hash: u64) -> bool {
        if self.entries.len() > LINEAR_SEARCH_UP_TO {
            self.bisect(item)
        } else {
            self.scan(item, hash)
        }
    }

    /// Compares hashes in order, and the text only where a hash matches.
    fn scan(&self, item: &str, hash: u64) -> bool {
        self.entries
            .iter()
            .enumerate()
            .any(|(at, entry)| entry.hash == hash && self.item(at) == item)
    }

    /// Bisects the sorted items.
    fn bisect(&self, item: &str) -> bool {
        let (mut low, mut high) = (0, self.entries.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.item(middle).cmp(item) {
                Ordering::Less => low = middle + 1,
                Ordering::Greater => high = middle,
                Ordering::Equal => return true,
            }
        }
        false
    }

    /// The item at position `at` in sorted order ("" past the end).
    fn item(&self, at: usize) -> &str {
        let start = at
            .checked_sub(1)
            .and_then(|before| self.entries.get(before))
            .map_or(0, |e| e.end);
        let end = self.entries.get(at).map_or(start, |e| e.end);
        self.text.get(start..end).unwrap_or_default()
    }

    /// The items, in sorted order.
    pub fn iter(&self) -> Items<'_> {
        Items { set: self, next: 0 }
    }

    /// How many items the set holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Asks the processor for the set's two allocations, so that a cold
    /// set's are fetched together; see `Case::prefetch`.
    pub(crate) fn prefetch(&self) {
        crate::prefetch::start(self.text.as_bytes());
        crate::prefetch::start(&self.entries);
    }
}

/// The items of an [`ItemSet`], in sorted order.
pub struct Items<'a> {
    set: &'a ItemSet,
    next: usize,
}

impl<'a> Iterator for Items<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.next >= self.set.len() {
            return None;
        }
        self.next += 1;
        Some(self.set.item(self.next - 1))
    }
}

impl FromIterator<String> for ItemSet {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        let mut items: Vec<String> = iter.into_iter().collect();
        items.sort_unstable();
        items.dedup();
        let mut set = ItemSet {
            text: String::with_capacity(items.iter().map(String::len).sum()),
            entries: Vec::with_capacity(items.len()),
        };
        for item in &items {
            set.text.push_str(item);
            set.entries.push(Entry {
                end: set.text.len(),
                hash: item_hash(item),
            });
        }
        set
    }
}

impl<'a> FromIterator<&'a str> for ItemSet {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        iter.into_iter().map(str::to_owned).collect()
    }
}

impl<'a> IntoIterator for &'a ItemSet {
    type Item = &'a str;
    type IntoIter = Items<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Serialize for ItemSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ItemSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<String>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn items_are_kept_sorted_and_once() {
        let set: ItemSet = ["tooling-b", "tooling-a", "tooling-b"]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 2);
        assert_eq!(set.iter().collect::<Vec<_>>(), ["tooling-a", "tooling-b"]);
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"["tooling-a","tooling-b"]"#
        );
    }

    #[test]
    fn deserialising_sorts_and_drops_repeats() {
        let set: ItemSet = serde_json::from_str(r#"["b","a","b"]"#).unwrap();
        assert_eq!(set, ["a", "b"].into_iter().collect());
    }

    #[test]
    fn a_set_past_the_intake_limit_is_searched_by_bisection_and_finds_the_same() {
        let items: Vec<String> = (0..250).map(|n| format!("item-{n:03}")).collect();
        let set: ItemSet = items.iter().rev().cloned().collect();
        assert!(set.len() > LINEAR_SEARCH_UP_TO);
        assert!(items.iter().all(|item| set.contains(item)));
        assert!(!set.contains("item-") && !set.contains("item-250") && !set.contains(""));
    }

    proptest! {
        /// Membership, order and length agree with a `BTreeSet`, for sets
        /// small enough to be scanned and large enough to be bisected.
        #[test]
        fn behaves_like_a_btree_set(
            items in proptest::collection::vec("[a-d]{0,4}", 0..300),
            probes in proptest::collection::vec("[a-d]{0,4}", 0..20),
        ) {
            let set: ItemSet = items.iter().cloned().collect();
            let tree: BTreeSet<String> = items.iter().cloned().collect();
            prop_assert_eq!(set.len(), tree.len());
            prop_assert!(set.iter().eq(tree.iter().map(String::as_str)));
            for probe in probes.iter().chain(&items) {
                prop_assert_eq!(set.contains(probe), tree.contains(probe));
                prop_assert_eq!(
                    set.contains_hashed(probe, item_hash(probe)),
                    tree.contains(probe)
                );
            }
        }
    }
}
