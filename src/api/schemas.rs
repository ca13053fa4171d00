//! The JSON shapes of the API as OpenAPI schemas. The handlers build their
//! JSON from the domain types (`Case`, `CaseRecord::view`, `Outcome`,
//! `EventRecord`); these types only describe it for `/openapi.json`. A test
//! compares each description with the JSON the server really sends, so
//! the two cannot drift apart silently.

#![expect(
    dead_code,
    reason = "these types describe JSON for the OpenAPI document and are never built"
)]

use serde_json::Value;
use utoipa::ToSchema;

/// The customer whose case it is.
#[derive(ToSchema)]
pub struct Customer {
    /// The customer's tenant, e.g. `contoso.partner.onmschina.cn`.
    pub tenant: String,
    /// The customer's name.
    pub name: Option<String>,
}

/// The customer-side contact.
#[derive(ToSchema)]
pub struct Contact {
    /// Name.
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

/// A linked service-health incident.
#[derive(ToSchema)]
pub struct ServiceHealth {
    /// The incident's id, e.g. `EX123456`.
    pub incident: Option<String>,
    /// Its status, e.g. `service_restored`.
    pub status: Option<String>,
}

/// A case as a partner submits it (unknown fields are refused).
#[derive(ToSchema)]
pub struct CaseSubmission {
    /// The partner's own reference, 1–128 characters, unique per partner.
    pub external_id: String,
    /// The customer.
    pub customer: Customer,
    /// The customer-side contact.
    pub contact: Option<Contact>,
    /// The product, e.g. `m365`; the policy may declare the allowed values.
    pub product: String,
    /// The category, e.g. `mail_flow`; the policy may declare the allowed values.
    pub category: String,
    /// `critical`, `moderate` or `minimal` (or `A`, `B`, `C`).
    pub severity: String,
    /// At most 200 characters.
    pub subject: String,
    /// At most 20,000 characters.
    pub description: String,
    /// Defaults to 0.
    pub affected_users: Option<u64>,
    /// Steps already tried.
    pub attempted: Option<Vec<String>>,
    /// A linked service-health incident.
    pub service_health: Option<ServiceHealth>,
    /// Free-form string attributes.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Value>,
}

/// A partner's capabilities (offline classification by 21Vianet or an administrator).
#[derive(ToSchema)]
pub struct PartnerCapabilities {
    /// The partner's id (`partner.id` in rules).
    pub id: Option<String>,
    /// Training the partner's staff has.
    pub training: Option<Vec<String>>,
    /// Documentation the partner has.
    pub documentation: Option<Vec<String>>,
    /// Tools the partner can use.
    pub tooling: Option<Vec<String>>,
}

/// A dry-run classification request: a case as at intake; with a 21Vianet
/// or administrator token it may also carry `partner`.
#[derive(ToSchema)]
pub struct ClassifyRequest {
    /// The partner's own reference.
    pub external_id: String,
    /// The customer.
    pub customer: Customer,
    /// The customer-side contact.
    pub contact: Option<Contact>,
    /// The product.
    pub product: String,
    /// The category.
    pub category: String,
    /// The severity.
    pub severity: String,
    /// The subject.
    pub subject: String,
    /// The description.
    pub description: String,
    /// Defaults to 0.
    pub affected_users: Option<u64>,
    /// Steps already tried.
    pub attempted: Option<Vec<String>>,
    /// A linked service-health incident.
    pub service_health: Option<ServiceHealth>,
    /// Free-form string attributes.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Value>,
    /// The partner's capabilities (not with a partner token: the token supplies them).
    pub partner: Option<PartnerCapabilities>,
}

/// A rule that matched.
#[derive(ToSchema)]
pub struct MatchedRule {
    /// The rule's name.
    pub rule: String,
    /// The tier it asks for.
    pub tier: String,
}

/// A missing capability and the requirement that raised it.
#[derive(ToSchema)]
pub struct Gap {
    /// The missing item.
    pub item: String,
    /// The requirement that named it.
    pub requirement: String,
}

/// The gaps of a case, by kind.
#[derive(ToSchema)]
pub struct Gaps {
    /// Missing training.
    pub training: Vec<Gap>,
    /// Missing documentation.
    pub documentation: Vec<Gap>,
    /// Missing tools.
    pub tooling: Vec<Gap>,
}

/// What the policy decided for a case, and why.
#[derive(ToSchema)]
pub struct Outcome {
    /// The case's `external_id`.
    pub case: String,
    /// `self_service`, `partner` or `escalate`.
    pub decision: String,
    /// The deciding rules' reasons.
    pub reasons: Vec<String>,
    /// The rules that decided.
    pub deciding_rules: Vec<String>,
    /// Every rule that matched.
    pub matched_rules: Vec<MatchedRule>,
    /// What the case needs that the partner lacks.
    pub gaps: Gaps,
    /// The shortest `within` of the deciding rules, in minutes.
    #[schema(required = true)]
    pub within_minutes: Option<u64>,
    /// Extra recipients of the escalation email.
    pub notify: Vec<String>,
    /// `sha256:…` of the policy that decided.
    pub policy: String,
}

/// The running deadline of a case's stage.
#[derive(ToSchema)]
pub struct Deadline {
    /// `acknowledge`, `resolution` or `close`.
    pub kind: String,
    /// Present and `true` while the clock is stopped (awaiting_info).
    pub paused: Option<bool>,
    /// When it passes (RFC 3339 UTC); `null` while paused.
    #[schema(required = true)]
    pub at: Option<String>,
    /// Seconds left; negative when overdue.
    pub remaining_seconds: i64,
}

/// A case, as every route returns it.
#[derive(ToSchema)]
pub struct CaseBody {
    /// `c_` + 16 characters; not guessable.
    pub id: String,
    /// The partner's reference.
    pub external_id: String,
    /// The partner that submitted it.
    pub partner_id: String,
    /// `self_service`, `partner_working`, `escalated`, `acknowledged`,
    /// `awaiting_info`, `resolved` or `closed`.
    pub stage: String,
    /// The latest decision.
    pub decision: String,
    /// The latest classification.
    pub outcome: Outcome,
    /// The deadline of the stage, or `null`.
    #[schema(required = true)]
    pub deadline: Option<Deadline>,
    /// Send it with the next transition.
    pub version: i64,
    /// 21Vianet's own case id, once recorded.
    #[schema(required = true)]
    pub vianet_case_id: Option<String>,
    /// Times reopened.
    pub reopened: u32,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
    /// The submitted case, normalised.
    #[schema(value_type = Object)]
    pub case: Value,
}

/// One page of cases, newest first.
#[derive(ToSchema)]
pub struct CaseList {
    /// The cases.
    pub items: Vec<CaseBody>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A transition request.
#[derive(ToSchema)]
pub struct TransitionRequest {
    /// The stage asked for, or `reopened`.
    pub to: String,
    /// The case's current version.
    pub version: i64,
    /// Why; required by some moves.
    pub reason: Option<String>,
    /// 21Vianet's own case id (21Vianet only).
    pub vianet_case_id: Option<String>,
}

/// Who made a change.
#[derive(ToSchema)]
pub struct EventActor {
    /// `partner`, `vianet`, `admin` or `system`.
    pub role: String,
    /// The partner's id, the token's name, or `system`.
    pub id: String,
}

/// One entry of a case's history; extra fields depend on `kind`
/// (`outcome` and `policy` for classifications, `vianet_case_id`,
/// `deadline_kind`, `notice`, email details).
#[derive(ToSchema)]
pub struct Event {
    /// 1, 2, 3… per case.
    pub seq: i64,
    /// RFC 3339 UTC.
    pub at: String,
    /// Who.
    pub actor: EventActor,
    /// `intake`, `move`, `reopen`, `deadline`, `email_sent`, `email_failed`.
    pub kind: String,
    /// The stage before, for moves.
    #[schema(required = true)]
    pub from: Option<String>,
    /// The stage after, for moves.
    #[schema(required = true)]
    pub to: Option<String>,
    /// The reason given.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The named move (`take`, `escalate`, `acknowledge`, …), for moves.
    pub action: Option<String>,
}

/// A case's history, oldest first.
#[derive(ToSchema)]
pub struct EventList {
    /// The events.
    pub items: Vec<Event>,
}

/// One policy diagnostic.
#[derive(ToSchema)]
pub struct PolicyDiagnostic {
    /// The policy file.
    #[schema(required = true)]
    pub file: Option<String>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// `error` or `warning`.
    pub severity: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[schema(required = true)]
    pub help: Option<String>,
    /// Other places that explain it (the first of two duplicates, the
    /// stronger rule); often empty.
    pub notes: Vec<PolicyNote>,
}

/// A place a policy diagnostic points at.
#[derive(ToSchema)]
pub struct PolicyNote {
    /// The policy file.
    #[schema(required = true)]
    pub file: Option<String>,
    /// 1-based line (0 without a location).
    pub line: u32,
    /// 1-based column (0 without a location).
    pub column: u32,
    /// What the place has to do with the finding.
    pub message: String,
}

/// A successful policy reload.
#[derive(ToSchema)]
pub struct PolicyReloaded {
    /// The hash of the policy now running.
    pub policy: String,
    /// The hash of the policy it replaced.
    pub previous: String,
    /// Warnings of the new policy.
    pub warnings: Vec<PolicyDiagnostic>,
}

/// What went wrong.
#[derive(ToSchema)]
pub struct ErrorDetail {
    /// `bad_json`, `invalid_field`, `unknown_field`, `bad_parameter`,
    /// `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`,
    /// `conflict`, `version_conflict`, `move_refused`, `payload_too_large`,
    /// `policy_invalid`, `unavailable` or `internal`.
    pub code: String,
    /// For people: names the field or parameter and what was wrong.
    pub message: String,
    /// The dotted path of the field (or the query parameter) at fault.
    pub field: Option<String>,
    /// With `version_conflict`: the case's current version.
    pub current_version: Option<i64>,
    /// With `policy_invalid`: every diagnostic.
    pub diagnostics: Option<Vec<PolicyDiagnostic>>,
}

/// Every error body.
#[derive(ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}
