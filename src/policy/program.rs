//! The compiled policy: a flat arena of condition nodes over deduplicated
//! atoms, interned strings, one Aho-Corasick automaton for every keyword
//! and regexes compiled once, and the index of rules and requirements by
//! their guards on string fields. Built by `check`, read by `eval`; nothing in
//! it refers back to the syntax tree, so evaluating never walks text.

use std::collections::BTreeMap;

use regex::Regex;

use super::ast::{CompareOp, NeedKind};
use super::index::{self, Index};
use super::keywords::Keywords;
use super::schema::Field;
use super::template::Template;
use super::Name;
use crate::case::{item_hash, ItemSet, Severity as CaseSeverity, Tier};

/// The hash map of the compiled policy: FxHash reads a short key a word at
/// a time, and the interner is looked up once per guarded field per case.
pub type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// Id of an interned string that no literal holds.
pub const NOT_INTERNED: u32 = u32::MAX;

/// A text field: searched through the keyword automaton.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextField {
    /// `subject`
    Subject,
    /// `description`
    Description,
    /// `text`
    Text,
}

/// An integer field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntField {
    /// `affected_users`
    AffectedUsers,
    /// `reopened`
    Reopened,
    /// `gaps.count`
    GapsCount,
}

/// A set field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetField {
    /// `attempted`
    Attempted,
    /// `partner.KIND`
    Partner(NeedKind),
    /// `gaps.KIND`
    Gaps(NeedKind),
}

/// What a `contains` or `matches` searches: text, or a string field's slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Haystack {
    /// A text field.
    Text(TextField),
    /// A string field (by slot).
    Str(u32),
}

/// One distinct test; evaluated at most once per case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Atom {
    /// A string field equals (or, with `negate`, differs from) an interned literal; false when absent.
    StrEq { slot: u32, id: u32, negate: bool },
    /// A string field is one of the interned literals.
    StrIn { slot: u32, ids: Box<[u32]> },
    /// Two string fields are equal (or differ); false when either is absent.
    StrFields { left: u32, right: u32, negate: bool },
    /// An integer field against a literal.
    IntCmp {
        field: IntField,
        op: CompareOp,
        value: u64,
    },
    /// Two integer fields.
    IntFields {
        left: IntField,
        op: CompareOp,
        right: IntField,
    },
    /// An integer field is one of the literals.
    IntIn { field: IntField, values: Box<[u64]> },
    /// The severity against a severity.
    SevCmp { op: CompareOp, value: CaseSeverity },
    /// The severity is in a set (bit per severity).
    SevIn { mask: u8 },
    /// A text field equals (or differs from) a literal, exactly.
    TextEq {
        field: TextField,
        value: String,
        negate: bool,
    },
    /// A text field is exactly one of the literals.
    TextIn {
        field: TextField,
        values: Box<[String]>,
    },
    /// A text field contains keywords (automaton pattern ids): any, or all.
    TextHas {
        field: TextField,
        patterns: Box<[u32]>,
        all: bool,
    },
    /// A string field contains lower-cased needles: any, or all.
    StrHas {
        slot: u32,
        needles: Box<[String]>,
        all: bool,
    },
    /// A text or string contains a string field's value, ignoring case.
    HasField { haystack: Haystack, needle: u32 },
    /// A set holds items: any, or all.
    SetHas {
        set: SetField,
        items: Box<[Item]>,
        all: bool,
    },
    /// A set holds a string field's value.
    SetHasField { set: SetField, item: u32 },
    /// A regex finds a match, ignoring case.
    Matches { haystack: Haystack, regex: u32 },
    /// An optional string field is present.
    Exists { slot: u32 },
    /// At least one gap.
    GapsAny,
}

/// A node of the condition arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// An atom.
    Atom(u32),
    /// A let (memoised per case).
    Let(u32),
    /// Negation of a node.
    Not(u32),
    /// All children (`children[start..end]`).
    And(u32, u32),
    /// Any child.
    Or(u32, u32),
    /// A constant (empty lists, and placeholders after an error).
    Const(bool),
}

/// One conjunct of a flattened condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lit {
    /// The atom must have this value.
    Atom { atom: u32, holds: bool },
    /// The node must hold.
    Node(u32),
}

/// What is left to test of each requirement and rule once the index
/// admitted it (its `when`'s conjuncts less the guards, see
/// [`conjunction`], and a rule's `unless`), by index item: requirements,
/// then rules, in policy order.
///
/// All in two arrays rather than a list per item: a candidate's test is
/// then read from lines that neighbouring candidates share, not through a
/// pointer of its own, which counts when the cases streaming through the
/// caches have pushed the policy out of them. A rule's `unless` is copied
/// here from [`CRule::unless`] for the same reason: read from the rule, it
/// cost 3–6 % with the cases in cache (docs/performance.md, "Prefetches,
/// not loads").
#[derive(Debug, Clone, Default)]
pub struct Tests {
    /// Every item's literals, one item after another.
    lits: Vec<Lit>,
    /// Where each item's literals are in `lits`, and its `unless` node.
    items: Vec<TestAt>,
}

#[derive(Debug, Clone, Copy)]
struct TestAt {
    start: u32,
    end: u32,
    unless: Option<u32>,
}

impl Tests {
    /// Adds the next item's test.
    pub fn push(&mut self, lits: &[Lit], unless: Option<u32>) {
        let start = self.lits.len() as u32;
        self.lits.extend_from_slice(lits);
        self.items.push(TestAt {
            start,
            end: self.lits.len() as u32,
            unless,
        });
    }

    /// The literals item `item` must meet, and the `unless` that must not
    /// hold. `item` is one of the index's items: every one has a test.
    #[inline]
    pub fn of(&self, item: usize) -> (&[Lit], Option<u32>) {
        let test = self.items[item];
        (
            &self.lits[test.start as usize..test.end as usize],
            test.unless,
        )
    }
}

/// A condition as the list of its top-level conjuncts that must all hold,
/// leaving out those `skip` says are known to hold. Without the guards the
/// index checked, a candidate's condition is usually one or two atoms, and a
/// loop over them saves the recursive walk's dispatch on every node.
/// Atoms and negated atoms become [`Lit::Atom`]; anything else stays a node.
pub fn conjunction(
    nodes: &[Node],
    children: &[u32],
    when: u32,
    skip: impl Fn(u32) -> bool,
) -> Box<[Lit]> {
    let lit = |node: u32| match nodes.get(node as usize) {
        Some(Node::Atom(atom)) => Lit::Atom {
            atom: *atom,
            holds: true,
        },
        Some(Node::Not(inner)) => match nodes.get(*inner as usize) {
            Some(Node::Atom(atom)) => Lit::Atom {
                atom: *atom,
                holds: false,
            },
            _ => Lit::Node(node),
        },
        _ => Lit::Node(node),
    };
    let conjuncts = match nodes.get(when as usize) {
        Some(Node::And(start, end)) => children.get(*start as usize..*end as usize).unwrap_or(&[]),
        _ => std::slice::from_ref(&when),
    };
    conjuncts
        .iter()
        .filter(|node| !skip(**node))
        .map(|node| lit(*node))
        .collect()
}

/// What evaluating an atom costs, as a class: 0 compares numbers or
/// interned ids, 1 looks a string up or compares it, 2 searches a text, 3
/// runs a regex. Evaluation is pure, so the conjuncts of an `and` and the
/// operands of an `or` may be tested in any order; testing the cheap ones
/// first spares the dear ones whenever a cheap one settles the answer.
pub fn atom_cost(atom: &Atom) -> u8 {
    match atom {
        Atom::StrEq { .. }
        | Atom::StrIn { .. }
        | Atom::StrFields { .. }
        | Atom::IntCmp { .. }
        | Atom::IntFields { .. }
        | Atom::IntIn { .. }
        | Atom::SevCmp { .. }
        | Atom::SevIn { .. }
        | Atom::Exists { .. }
        | Atom::GapsAny => 0,
        Atom::TextEq { .. }
        | Atom::TextIn { .. }
        | Atom::SetHas { .. }
        | Atom::SetHasField { .. } => 1,
        Atom::TextHas { .. } | Atom::StrHas { .. } | Atom::HasField { .. } => 2,
        Atom::Matches { .. } => 3,
    }
}

/// The cost class of every node: that of the dearest atom its evaluation
/// may reach, through lets. Nodes are built children first, so one pass
/// suffices; a node that refers forward is ranked dearest, which only
/// leaves it where it is.
pub fn node_costs(nodes: &[Node], children: &[u32], lets: &[u32], atoms: &[Atom]) -> Vec<u8> {
    const DEAREST: u8 = u8::MAX;
    let mut costs: Vec<u8> = Vec::with_capacity(nodes.len());
    for node in nodes {
        // `costs` holds the nodes before this one, so a forward reference
        // finds nothing.
        let cost_of = |node: u32| costs.get(node as usize).copied().unwrap_or(DEAREST);
        let cost = match *node {
            Node::Atom(atom) => atoms.get(atom as usize).map_or(DEAREST, atom_cost),
            Node::Let(index) => lets.get(index as usize).map_or(DEAREST, |n| cost_of(*n)),
            Node::Not(inner) => cost_of(inner),
            Node::And(start, end) | Node::Or(start, end) => children
                .get(start as usize..end as usize)
                .unwrap_or(&[])
                .iter()
                .map(|child| cost_of(*child))
                .max()
                .unwrap_or(0),
            Node::Const(_) => 0,
        };
        costs.push(cost);
    }
    costs
}

/// Puts the operands of every `and` and `or` cheapest first (see
/// [`atom_cost`]), keeping the author's order among equals.
pub fn order_children(nodes: &[Node], children: &mut [u32], costs: &[u8]) {
    for node in nodes {
        if let Node::And(start, end) | Node::Or(start, end) = *node {
            if let Some(operands) = children.get_mut(start as usize..end as usize) {
                operands
                    .sort_by_key(|child| costs.get(*child as usize).copied().unwrap_or(u8::MAX));
            }
        }
    }
}

/// A compiled requirement.
#[derive(Debug, Clone)]
pub struct CRequirement {
    /// Its name.
    pub name: Name,
    /// Its condition node.
    pub when: u32,
    /// Its needs, without repeats.
    pub needs: Vec<(NeedKind, Item)>,
}

/// A name the policy looks up in a case's or a partner's sets, hashed once
/// at load rather than at every lookup (see [`item_hash`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Item {
    /// The name.
    pub name: Name,
    /// Its [`item_hash`].
    pub hash: u64,
}

impl Item {
    /// `name`, hashed.
    pub fn new(name: &str) -> Item {
        Item {
            name: Name::from(name),
            hash: item_hash(name),
        }
    }

    /// Whether `set` holds this item.
    pub fn is_in(&self, set: &ItemSet) -> bool {
        set.contains_hashed(&self.name, self.hash)
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct CRule {
    /// Its name.
    pub name: Name,
    /// The tier it asks for.
    pub tier: Tier,
    /// Condition node.
    pub when: u32,
    /// Exception node.
    pub unless: Option<u32>,
    /// The reason.
    pub because: Option<Template>,
    /// The deadline in minutes.
    pub within: Option<u64>,
    /// Extra recipients.
    pub notify: Vec<Name>,
}

/// A keyword of the automaton.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Lower-cased.
    pub text: String,
    /// Holds a newline, so may straddle subject and description in `text`.
    pub spans_newline: bool,
    /// Searches a lower-cased text for this keyword alone (SIMD where the
    /// processor has it), for the first few keywords a case asks about.
    pub finder: memchr::memmem::Finder<'static>,
}

/// Searches a lower-cased text for several keywords at once.
#[derive(Debug, Clone)]
pub struct AnyOf {
    /// The searcher; its pattern `i` is the atom's `patterns[i]`.
    pub searcher: aho_corasick::packed::Searcher,
}

impl AnyOf {
    /// The searcher of a `contains any` atom, when it has two keywords or
    /// more and the packed searcher accepts them.
    pub fn build(atom: &Atom, patterns: &[Pattern]) -> Option<Box<AnyOf>> {
        let Atom::TextHas {
            patterns: ids,
            all: false,
            ..
        } = atom
        else {
            return None;
        };
        if ids.len() < 2 {
            return None;
        }
        let mut builder = aho_corasick::packed::Config::new().builder();
        for id in ids.iter() {
            builder.add(patterns.get(*id as usize)?.text.as_bytes());
        }
        builder.build().map(|searcher| Box::new(AnyOf { searcher }))
    }
}

/// Bitsets over the index's items (requirements, then rules; see
/// [`Index`]) that settle most rules of a case without a step per rule: a
/// case usually matches most of its candidate rules, and most of those have
/// nothing left to test once the index admitted them.
#[derive(Debug, Clone, Default)]
pub struct RuleSets {
    /// Rules with nothing left to test and no `unless`: such a candidate matches.
    pub settled: Vec<u64>,
    /// The other rules: a candidate among them is tested.
    pub tested: Vec<u64>,
    /// The rules of each tier, strongest tier first.
    pub tiers: Vec<(Tier, Vec<u64>)>,
}

impl RuleSets {
    /// The sets for `rules`, whose bits start at `first` in bitsets of `words` words.
    pub fn build(rules: &[CRule], tests: &Tests, first: usize, words: usize) -> RuleSets {
        let mut sets = RuleSets {
            settled: vec![0; words],
            tested: vec![0; words],
            tiers: Tier::ALL
                .iter()
                .rev()
                .map(|tier| (*tier, vec![0; words]))
                .collect(),
        };
        for (index, rule) in rules.iter().enumerate() {
            let item = first + index;
            if let Some((_, tier)) = sets.tiers.iter_mut().find(|(tier, _)| *tier == rule.tier) {
                index::set(tier, item);
            }
            let (lits, unless) = tests.of(item);
            if lits.is_empty() && unless.is_none() {
                index::set(&mut sets.settled, item);
            } else {
                index::set(&mut sets.tested, item);
            }
        }
        sets
    }
}

/// The whole compiled policy.
#[derive(Debug, Clone)]
pub struct Program {
    /// Distinct atoms.
    pub atoms: Vec<Atom>,
    /// The condition arena.
    pub nodes: Vec<Node>,
    /// Children of `And`/`Or` nodes.
    pub children: Vec<u32>,
    /// Each let's node, in definition order.
    pub lets: Vec<u32>,
    /// Requirements in policy order.
    pub requirements: Vec<CRequirement>,
    /// Rules in policy order.
    pub rules: Vec<CRule>,
    /// What is left to test of each candidate, by index item.
    pub tests: Tests,
    /// The default's tier and reason.
    pub default: (Tier, Template),
    /// Interned literals compared with string fields.
    pub interner: FastMap<String, u32>,
    /// The string fields that tests read, by slot.
    pub slots: Vec<Field>,
    /// Keywords, by pattern id.
    pub patterns: Vec<Pattern>,
    /// The automaton over `patterns`.
    pub keywords: Option<Keywords>,
    /// By atom id: for a `contains any` list of two keywords or more, one
    /// searcher for all of them (SIMD, where the processor has it), so a
    /// case that searches asks once instead of once per keyword.
    pub any_of: Vec<Option<Box<AnyOf>>>,
    /// Compiled regexes.
    pub regexes: Vec<Regex>,
    /// Declared `values`, by field.
    pub declared: BTreeMap<Field, Vec<String>>,
    /// The requirements and rules a case's string fields leave possible.
    pub index: Index,
    /// The rules by what is left to test and by tier, as bitsets over the index's items.
    pub rule_sets: RuleSets,
}

#[cfg(test)]
mod tests {
    use super::{atom_cost, Atom, Lit, Node, Program};
    use crate::policy::{Policy, SourceFile};

    fn program(text: &str) -> Program {
        let source = SourceFile {
            name: "p.rules".to_owned(),
            text: format!("{text}\ndefault partner because \"default\"\n"),
        };
        match Policy::from_sources(vec![source]) {
            Ok(loaded) => loaded.policy.program,
            Err(diagnostics) => panic!("policy should load:\n{diagnostics}"),
        }
    }

    fn lit_atom<'a>(program: &'a Program, lit: &Lit) -> &'a Atom {
        match lit {
            Lit::Atom { atom, .. } => &program.atoms[*atom as usize],
            Lit::Node(node) => panic!("expected an atom, found node {node}"),
        }
    }

    #[test]
    fn a_candidate_tests_cheap_conjuncts_before_it_searches_text() {
        let p = program(
            "rule \"r\" {\n  when text matches \"out(age)?\" and text contains any [\"outage\"] \
             and not partner.training contains \"x\" and affected_users > 10 and product == \"azure\"\n  \
             then escalate\n}\n",
        );
        let (test, _) = p.tests.of(p.requirements.len());
        // The guard `product == "azure"` is the index's; the rest, cheapest first.
        let atoms: Vec<&Atom> = test.iter().map(|lit| lit_atom(&p, lit)).collect();
        assert!(matches!(atoms[0], Atom::IntCmp { .. }), "{atoms:?}");
        assert!(matches!(atoms[1], Atom::SetHas { .. }), "{atoms:?}");
        assert!(matches!(atoms[2], Atom::TextHas { .. }), "{atoms:?}");
        assert!(matches!(atoms[3], Atom::Matches { .. }), "{atoms:?}");
        assert_eq!(test.len(), 4);
        assert!(matches!(test[1], Lit::Atom { holds: false, .. }));
    }

    #[test]
    fn an_or_tests_its_cheap_operands_first_and_keeps_the_order_of_equals() {
        let p = program(
            "let k = text contains any [\"outage\"] or severity == \"critical\" or affected_users > 100\n\
             rule \"r\" {\n  when k\n  then escalate\n}\n",
        );
        let Some(Node::Or(start, end)) = p.lets.first().map(|n| p.nodes[*n as usize]) else {
            panic!("the let should be an `or`: {:?}", p.nodes);
        };
        let operands: Vec<&Atom> = p.children[start as usize..end as usize]
            .iter()
            .map(|child| match p.nodes[*child as usize] {
                Node::Atom(atom) => &p.atoms[atom as usize],
                other => panic!("expected an atom, found {other:?}"),
            })
            .collect();
        assert!(
            matches!(operands[0], Atom::SevCmp { .. } | Atom::SevIn { .. }),
            "{operands:?}"
        );
        assert!(matches!(operands[1], Atom::IntCmp { .. }), "{operands:?}");
        assert!(matches!(operands[2], Atom::TextHas { .. }), "{operands:?}");
        let costs: Vec<u8> = operands.iter().map(|a| atom_cost(a)).collect();
        assert_eq!(costs, [0, 0, 2]);
    }
}
