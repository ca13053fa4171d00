//! The compiled policy: a flat arena of condition nodes over deduplicated
//! atoms, interned strings, one Aho-Corasick automaton for every keyword
//! and regexes compiled once, and the index of rules and requirements by
//! their guards on string fields. Built by `check`, read by `eval`; nothing in
//! it refers back to the syntax tree, so evaluating never walks text.

use std::collections::BTreeMap;

use regex::Regex;

use super::ast::{CompareOp, NeedKind};
use super::index::Index;
use super::keywords::Keywords;
use super::schema::Field;
use super::template::Template;
use super::Name;
use crate::case::{Severity as CaseSeverity, Tier};

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
        items: Box<[String]>,
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

/// A compiled requirement.
#[derive(Debug, Clone)]
pub struct CRequirement {
    /// Its name.
    pub name: Name,
    /// Its condition node.
    pub when: u32,
    /// What is left to test of `when` once the index admitted the item:
    /// its conjuncts less the guards (see [`conjunction`]).
    pub test: Box<[Lit]>,
    /// Its needs, without repeats.
    pub needs: Vec<(NeedKind, Name)>,
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
    /// What is left to test of `when` once the index admitted the rule:
    /// its conjuncts less the guards (see [`conjunction`]).
    pub test: Box<[Lit]>,
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
    /// Compiled regexes.
    pub regexes: Vec<Regex>,
    /// Declared `values`, by field.
    pub declared: BTreeMap<Field, Vec<String>>,
    /// The requirements and rules a case's string fields leave possible.
    pub index: Index,
}
