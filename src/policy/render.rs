//! Renders reason templates against one classified case. Every piece is
//! appended to the reason's own string, reserved at the template's
//! [`Template::size_hint`], so a usual reason costs one allocation and is
//! written once, with no temporary strings, lists or sets.

use super::schema::Field;
use super::template::{Segment, Template};
use super::{Gap, Gaps};
use crate::case::{Capabilities, Case};

/// What a template can read.
pub struct Facts<'a> {
    /// The case.
    pub case: &'a Case,
    /// The partner's capabilities.
    pub partner: &'a Capabilities,
    /// The case's gaps.
    pub gaps: &'a Gaps,
}

/// Appends the rendered template to `out`.
pub fn render(template: &Template, facts: &Facts<'_>, out: &mut String) {
    for segment in &template.segments {
        match segment {
            Segment::Lit(text) => out.push_str(text),
            Segment::Gaps => push_gaps(facts.gaps, out),
            Segment::Field(field) => push_field(field, facts, out),
        }
    }
}

fn push_field(field: &Field, facts: &Facts<'_>, out: &mut String) {
    let (case, gaps) = (facts.case, facts.gaps);
    match field {
        Field::Severity => out.push_str(case.severity().as_str()),
        Field::AffectedUsers => push_number(case.affected_users(), out),
        Field::Reopened => push_number(u64::from(case.reopened()), out),
        Field::GapsCount => push_number(gaps.count() as u64, out),
        Field::GapsAny => out.push_str(if gaps.any() { "true" } else { "false" }),
        Field::Text => push_text(case, out),
        Field::GapSet(kind) => push_sorted_items(gaps.of(*kind), out),
        Field::Attempted | Field::PartnerSet(_) => {
            if let Some(set) = field.set_value(case, facts.partner) {
                push_joined(set.iter(), out);
            }
        }
        other => out.push_str(other.string_value(case, facts.partner).unwrap_or_default()),
    }
}

/// `itoa` rather than `write!`, which goes through `core::fmt`'s general
/// machinery: 0.6 % fewer instructions per classification on the bench.
fn push_number(n: u64, out: &mut String) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `text`: the subject, a newline, the description.
pub fn push_text(case: &Case, out: &mut String) {
    out.push_str(case.subject());
    out.push('\n');
    out.push_str(case.description());
}

/// `{gaps.KIND}`: the distinct items, sorted, joined with `, `.
fn push_sorted_items(list: &[Gap], out: &mut String) {
    let mut previous: Option<&str> = None;
    // Selection of the next larger item each time: lists hold a few entries.
    loop {
        let next = list
            .iter()
            .map(|g| g.item.as_str())
            .filter(|item| previous.is_none_or(|p| *item > p))
            .min();
        let Some(item) = next else {
            break;
        };
        if previous.is_some() {
            out.push_str(", ");
        }
        out.push_str(item);
        previous = Some(item);
    }
}

fn push_joined<'a>(items: impl Iterator<Item = &'a str>, out: &mut String) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(item);
    }
}

/// `training: a, b; tooling: c`: kinds in outcome order, items in policy
/// order without repeats.
pub fn render_gaps(gaps: &Gaps) -> String {
    let mut out = String::new();
    push_gaps(gaps, &mut out);
    out
}

/// Appends `training: a, b; tooling: c`: kinds in outcome order, items in
/// policy order without repeats.
pub fn push_gaps(gaps: &Gaps, out: &mut String) {
    let mut first_kind = true;
    for (kind, list) in gaps.kinds() {
        for (at, gap) in list.iter().enumerate() {
            if list[..at].iter().any(|g| g.item == gap.item) {
                continue;
            }
            if at == 0 {
                if !first_kind {
                    out.push_str("; ");
                }
                out.push_str(kind);
                out.push_str(": ");
                first_kind = false;
            } else {
                out.push_str(", ");
            }
            out.push_str(&gap.item);
        }
    }
}
