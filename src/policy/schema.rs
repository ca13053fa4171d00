//! What a rule can read: every field path, its type, whether it may be
//! absent, and how to read it from a case. One table, used by the checker
//! (names, types, suggestions), the evaluator and templates alike.

use super::ast::NeedKind;
use crate::case::{Capabilities, Case, ItemSet};

/// The type of a field or literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    /// A condition.
    Bool,
    /// A non-negative integer.
    Int,
    /// A short string compared exactly.
    Str,
    /// Free text (subject, description).
    Text,
    /// `minimal < moderate < critical`.
    Severity,
    /// A set of strings.
    Set,
    /// A duration literal (only `within` takes one).
    Duration,
}

impl Type {
    /// The name used in messages, with an article.
    pub fn describe(self) -> &'static str {
        match self {
            Type::Bool => "a condition",
            Type::Int => "an integer",
            Type::Str => "a string",
            Type::Text => "text",
            Type::Severity => "a severity",
            Type::Set => "a set of strings",
            Type::Duration => "a duration",
        }
    }
}

/// A readable field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `product`
    Product,
    /// `category`
    Category,
    /// `severity`
    Severity,
    /// `affected_users`
    AffectedUsers,
    /// `subject`
    Subject,
    /// `description`
    Description,
    /// `text`: subject, a newline, description.
    Text,
    /// `customer.tenant`
    CustomerTenant,
    /// `customer.name` (optional)
    CustomerName,
    /// `attempted`
    Attempted,
    /// `attributes.NAME` (optional)
    Attribute(String),
    /// `partner.id`
    PartnerId,
    /// `partner.training` and the others.
    PartnerSet(NeedKind),
    /// `gaps.training` and the others.
    GapSet(NeedKind),
    /// `gaps.any`
    GapsAny,
    /// `gaps.count`
    GapsCount,
    /// `service_health.incident` (optional)
    HealthIncident,
    /// `service_health.status` (optional)
    HealthStatus,
    /// `reopened`
    Reopened,
}

/// Every fixed path, for suggestions and the reference table.
pub const PATHS: &[&str] = &[
    "product",
    "category",
    "severity",
    "affected_users",
    "subject",
    "description",
    "text",
    "customer.tenant",
    "customer.name",
    "attempted",
    "attributes.NAME",
    "partner.id",
    "partner.training",
    "partner.documentation",
    "partner.tooling",
    "gaps.training",
    "gaps.documentation",
    "gaps.tooling",
    "gaps.any",
    "gaps.count",
    "service_health.incident",
    "service_health.status",
    "reopened",
];

/// Top-level names a `let` may not take.
pub const TOP_LEVEL: &[&str] = &[
    "product",
    "category",
    "severity",
    "affected_users",
    "subject",
    "description",
    "text",
    "customer",
    "attempted",
    "attributes",
    "partner",
    "gaps",
    "service_health",
    "reopened",
];

impl Field {
    /// The field a path names, if any.
    pub fn resolve(path: &str) -> Option<Field> {
        Some(match path {
            "product" => Field::Product,
            "category" => Field::Category,
            "severity" => Field::Severity,
            "affected_users" => Field::AffectedUsers,
            "subject" => Field::Subject,
            "description" => Field::Description,
            "text" => Field::Text,
            "customer.tenant" => Field::CustomerTenant,
            "customer.name" => Field::CustomerName,
            "attempted" => Field::Attempted,
            "partner.id" => Field::PartnerId,
            "partner.training" => Field::PartnerSet(NeedKind::Training),
            "partner.documentation" => Field::PartnerSet(NeedKind::Documentation),
            "partner.tooling" => Field::PartnerSet(NeedKind::Tooling),
            "gaps.training" => Field::GapSet(NeedKind::Training),
            "gaps.documentation" => Field::GapSet(NeedKind::Documentation),
            "gaps.tooling" => Field::GapSet(NeedKind::Tooling),
            "gaps.any" => Field::GapsAny,
            "gaps.count" => Field::GapsCount,
            "service_health.incident" => Field::HealthIncident,
            "service_health.status" => Field::HealthStatus,
            "reopened" => Field::Reopened,
            _ => {
                let name = path.strip_prefix("attributes.")?;
                // A case's attribute names are never empty (a template's `{attributes.}`).
                if name.is_empty() || name.contains('.') {
                    return None;
                }
                Field::Attribute(name.to_owned())
            }
        })
    }

    /// The field's type.
    pub fn ty(&self) -> Type {
        match self {
            Field::Product
            | Field::Category
            | Field::CustomerTenant
            | Field::CustomerName
            | Field::Attribute(_)
            | Field::PartnerId
            | Field::HealthIncident
            | Field::HealthStatus => Type::Str,
            Field::Severity => Type::Severity,
            Field::AffectedUsers | Field::GapsCount | Field::Reopened => Type::Int,
            Field::Subject | Field::Description | Field::Text => Type::Text,
            Field::Attempted | Field::PartnerSet(_) | Field::GapSet(_) => Type::Set,
            Field::GapsAny => Type::Bool,
        }
    }

    /// Whether the field may be absent from a case.
    pub fn optional(&self) -> bool {
        matches!(
            self,
            Field::CustomerName | Field::Attribute(_) | Field::HealthIncident | Field::HealthStatus
        )
    }

    /// Whether the field is computed from the requirements.
    pub fn reads_gaps(&self) -> bool {
        matches!(self, Field::GapSet(_) | Field::GapsAny | Field::GapsCount)
    }

    /// The string value of a string-typed field, `None` when absent.
    pub fn string_value<'a>(&self, case: &'a Case, partner: &'a Capabilities) -> Option<&'a str> {
        match self {
            Field::Product => Some(case.product()),
            Field::Category => Some(case.category()),
            Field::CustomerTenant => Some(case.customer().tenant()),
            Field::CustomerName => case.customer().name(),
            Field::Attribute(name) => case.attributes().get(name).map(String::as_str),
            Field::PartnerId => Some(&partner.id),
            Field::HealthIncident => case.service_health().and_then(|h| h.incident()),
            Field::HealthStatus => case.service_health().and_then(|h| h.status()),
            Field::Subject => Some(case.subject()),
            Field::Description => Some(case.description()),
            _ => None,
        }
    }

    /// The set value of a case- or partner-held set field.
    pub fn set_value<'a>(&self, case: &'a Case, partner: &'a Capabilities) -> Option<&'a ItemSet> {
        match self {
            Field::Attempted => Some(case.attempted()),
            Field::PartnerSet(kind) => Some(capability_set(partner, *kind)),
            _ => None,
        }
    }
}

/// The partner's capability set of one kind.
pub fn capability_set(partner: &Capabilities, kind: NeedKind) -> &ItemSet {
    match kind {
        NeedKind::Training => &partner.training,
        NeedKind::Documentation => &partner.documentation,
        NeedKind::Tooling => &partner.tooling,
    }
}
