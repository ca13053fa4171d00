//! The outcome of classifying one case: the decision, why, the gaps, the
//! deadline and who else to tell. Its JSON shape is a contract (see
//! `docs/rule-language.md`); the store keeps it verbatim with the case.

use serde::{Deserialize, Serialize};

use super::ast::NeedKind;
use crate::case::Tier;

/// A name the policy declares (a rule, a requirement, a capability item, a
/// `notify` address, the policy hash): interned once in a process-wide
/// table, so it is a `Copy` pointer that derefs to `str` and serialises as a
/// plain string. An outcome names many of them, and copying a pointer instead
/// of allocating a string per name is most of what keeps a classification
/// cheap. Interned strings are never freed; they are bounded by the distinct
/// names of the policies this process loaded (and of the outcomes it read back).
pub type Name = ustr::Ustr;

/// What the policy decided for one case, and everything that explains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The case's `external_id`.
    pub case: String,
    /// The strongest tier among the matching rules, or the default's.
    pub decision: Tier,
    /// The deciding rules' reasons (or the default's), rendered.
    pub reasons: Vec<String>,
    /// The matching rules of the decision's tier, in policy order.
    pub deciding_rules: Vec<Name>,
    /// Every matching rule, in policy order.
    pub matched_rules: Vec<MatchedRule>,
    /// What the case needs that the partner lacks.
    pub gaps: Gaps,
    /// The shortest `within` among the deciding rules, in minutes.
    pub within_minutes: Option<u64>,
    /// Extra recipients: the union of the deciding rules' `notify` lists.
    pub notify: Vec<Name>,
    /// `sha256:…` over the policy's file names and contents.
    pub policy: Name,
}

/// A rule whose `when` held and whose `unless` did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedRule {
    /// The rule's name.
    pub rule: Name,
    /// The tier it asks for.
    pub tier: Tier,
}

/// The gaps of a case, by kind, in policy order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Gaps {
    /// Training the case needs and the partner lacks.
    pub training: Vec<Gap>,
    /// Documentation the case needs and the partner lacks.
    pub documentation: Vec<Gap>,
    /// Support tools the case needs and the partner lacks.
    pub tooling: Vec<Gap>,
}

impl Gaps {
    /// Whether there is at least one gap.
    pub fn any(&self) -> bool {
        self.count() > 0
    }

    /// Number of gap entries (one per kind, item and requirement).
    pub fn count(&self) -> usize {
        self.training.len() + self.documentation.len() + self.tooling.len()
    }

    /// The gaps of one kind.
    pub fn of(&self, kind: NeedKind) -> &[Gap] {
        match kind {
            NeedKind::Training => &self.training,
            NeedKind::Documentation => &self.documentation,
            NeedKind::Tooling => &self.tooling,
        }
    }

    /// Each kind's keyword and its gaps, in outcome order.
    pub fn kinds(&self) -> impl Iterator<Item = (&'static str, &[Gap])> {
        NeedKind::ALL
            .into_iter()
            .map(|kind| (kind.as_str(), self.of(kind)))
    }

    /// Adds a gap of `kind`; the evaluator adds them in policy order, so
    /// each list is in order as it is built.
    pub(crate) fn push(&mut self, kind: NeedKind, gap: Gap) {
        match kind {
            NeedKind::Training => self.training.push(gap),
            NeedKind::Documentation => self.documentation.push(gap),
            NeedKind::Tooling => self.tooling.push(gap),
        }
    }

    /// Empties every list, keeping their memory (the evaluator reuses one
    /// `Gaps` across cases).
    pub(crate) fn clear(&mut self) {
        self.training.clear();
        self.documentation.clear();
        self.tooling.clear();
    }
}

/// One missing capability and the requirement that raised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// The missing item, e.g. `exchange-transport`.
    pub item: Name,
    /// The requirement whose `needs` named it.
    pub requirement: Name,
}
