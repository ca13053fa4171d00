//! The case as the rest of the engine sees it: validated domain types built
//! only by parsing the intake JSON (parse, don't validate).
//!
//! Parsing walks a `serde_json::Value` by hand rather than deriving
//! `Deserialize`, so that every refusal names the dotted path of the field
//! (`customer.tenant`) and says what was wrong with it in words a partner desk
//! understands. Unknown fields are refused: a typo must not pass silently.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Longest accepted `external_id`, in characters.
pub const MAX_EXTERNAL_ID_CHARS: usize = 128;
/// Longest accepted `subject`, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest accepted `description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// Longest accepted short string (tenant, product, category, names, list items).
pub const MAX_SHORT_CHARS: usize = 256;
/// Longest accepted attribute value, in characters.
pub const MAX_ATTRIBUTE_CHARS: usize = 1_000;
/// Why a text holding U+0000 is refused: PostgreSQL cannot store it, and no
/// case needs it.
pub const NUL_REFUSED: &str = "must not contain the NUL character (U+0000)";
/// The field a refusal names when the whole value is wrong (not a JSON
/// object at all), rather than one of its fields.
pub const WHOLE_BODY: &str = "(body)";
/// Most entries accepted in one list (`attempted`, capability lists) or in `attributes`.
pub const MAX_LIST_ITEMS: usize = 100;

/// Why a case (or a partner object) was refused: the dotted path of the
/// field and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct CaseError {
    /// Dotted path of the offending field, e.g. `customer.tenant` or `attempted[2]`.
    pub field: String,
    /// What was wrong, lowercase, without the field name.
    pub message: String,
    /// Whether the field is one the contract does not know.
    pub kind: CaseErrorKind,
    /// For an unknown field, the known one its name is closest to.
    pub closest: Option<String>,
}

/// The two classes of refusal the API distinguishes (`invalid_field`, `unknown_field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseErrorKind {
    /// Missing, of the wrong type, out of range, or outside the declared values.
    Invalid,
    /// A field the contract does not know.
    Unknown,
}

impl CaseError {
    /// A missing, mistyped or out-of-range field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            kind: CaseErrorKind::Invalid,
            closest: None,
        }
    }

    /// A field the contract does not know, with the known field its name
    /// is closest to, when one is close (`severty`: `severity`).
    pub fn unknown(field: impl Into<String>, closest: Option<String>) -> Self {
        Self {
            field: field.into(),
            message: format!(
                "unknown field{}",
                crate::suggest::did_you_mean(closest.as_deref())
            ),
            kind: CaseErrorKind::Unknown,
            closest,
        }
    }
}

/// How badly the customer is affected; 21Vianet's A, B and C.
///
/// Ordered `Minimal < Moderate < Critical` so rules can write
/// `severity >= "moderate"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// C: little business impact.
    Minimal,
    /// B: significant impact.
    Moderate,
    /// A: critical business impact.
    Critical,
}

impl Severity {
    /// Every severity, weakest first.
    pub const ALL: [Severity; 3] = [Severity::Minimal, Severity::Moderate, Severity::Critical];

    /// The canonical lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minimal => "minimal",
            Severity::Moderate => "moderate",
            Severity::Critical => "critical",
        }
    }

    /// 21Vianet's letter for the severity.
    pub fn letter(self) -> char {
        match self {
            Severity::Critical => 'A',
            Severity::Moderate => 'B',
            Severity::Minimal => 'C',
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    /// Accepts the names and the letters `A`/`B`/`C`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "critical" | "a" => Ok(Severity::Critical),
            "moderate" | "b" => Ok(Severity::Moderate),
            "minimal" | "c" => Ok(Severity::Minimal),
            _ => Err(format!(
                "unknown severity `{s}`; expected one of `critical`, `moderate`, `minimal` (or `A`, `B`, `C`)"
            )),
        }
    }
}

/// Who owns a case, as the policy decides it. Ordered by strength:
/// `SelfService < Partner < Escalate` (the strongest matching tier wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The customer can do it in the admin center.
    SelfService,
    /// The partner resolves it.
    Partner,
    /// 21Vianet's escalation support.
    Escalate,
}

impl Tier {
    /// Every tier, weakest first.
    pub const ALL: [Tier; 3] = [Tier::SelfService, Tier::Partner, Tier::Escalate];

    /// The name used in rules and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::SelfService => "self_service",
            Tier::Partner => "partner",
            Tier::Escalate => "escalate",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "self_service" => Ok(Tier::SelfService),
            "partner" => Ok(Tier::Partner),
            "escalate" => Ok(Tier::Escalate),
            _ => Err(format!(
                "unknown tier `{s}`; expected one of `self_service`, `partner`, `escalate`"
            )),
        }
    }
}

/// The partner's own reference for a case: 1–128 characters, unique per partner.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ExternalId(String);

impl ExternalId {
    /// Validates an external id; `field` names it in the error. An id of
    /// spaces only is refused: it could not be told apart from a missing one
    /// in a list or a URL.
    pub fn parse(value: &str, field: &str) -> Result<Self, CaseError> {
        let id = not_blank(bounded(value, field, 1, MAX_EXTERNAL_ID_CHARS)?, field)?;
        let trimmed = id.trim();
        // `CASE-1 ` would be another case than `CASE-1` to idempotent
        // intake, a near-duplicate nobody meant: refused, not trimmed, so
        // the partner's system learns of its stray space.
        if trimmed.len() != id.len() {
            return Err(CaseError::invalid(
                field,
                format!("must not start or end with whitespace: write `{trimmed}`"),
            ));
        }
        Ok(Self(id))
    }

    /// The id as written by the partner.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A syntactically valid email address (as lettre accepts it for sending).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates an address; `field` names it in the error.
    pub fn parse(value: &str, field: &str) -> Result<Self, CaseError> {
        let trimmed = value.trim();
        match lettre::Address::from_str(trimmed) {
            Ok(_) => Ok(Self(trimmed.to_owned())),
            Err(_) => Err(CaseError::invalid(
                field,
                format!("`{value}` is not a valid email address"),
            )),
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The customer whose problem it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    tenant: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

impl Customer {
    /// The customer's tenant, e.g. `contoso.partner.onmschina.cn`.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The customer's display name, when given.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// Who to call back at the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<EmailAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
}

impl Contact {
    /// The contact's name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The contact's email address.
    pub fn email(&self) -> Option<&EmailAddress> {
        self.email.as_ref()
    }

    /// The contact's phone number.
    pub fn phone(&self) -> Option<&str> {
        self.phone.as_deref()
    }

    /// Whether no part of the contact was given: `"contact": {}` says no
    /// more than leaving the contact out, and is kept the same way.
    fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.phone.is_none()
    }
}

/// The service-health incident the partner linked to the case, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ServiceHealth {
    #[serde(skip_serializing_if = "Option::is_none")]
    incident: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
}

impl ServiceHealth {
    /// The incident id, e.g. `EX123456`.
    pub fn incident(&self) -> Option<&str> {
        self.incident.as_deref()
    }

    /// The incident's status, e.g. `service_restored`.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    fn is_empty(&self) -> bool {
        self.incident.is_none() && self.status.is_none()
    }
}

/// What a partner desk knows how to handle: the capabilities that the
/// policy's requirements are compared with to find gaps.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// The partner's id (`partner.id` in rules).
    #[serde(default)]
    pub id: String,
    /// Training the partner's staff has.
    #[serde(default)]
    pub training: ItemSet,
    /// Documentation the partner has access to.
    #[serde(default)]
    pub documentation: ItemSet,
    /// Support tools the partner can use.
    #[serde(default)]
    pub tooling: ItemSet,
}

impl Capabilities {
    /// Asks the processor for the partner's sets, for the reason given at
    /// [`Case::prefetch`].
    pub(crate) fn prefetch(&self) {
        crate::prefetch::start(self.id.as_bytes());
        self.training.prefetch();
        self.documentation.prefetch();
        self.tooling.prefetch();
    }

    /// Parses a `partner` object (`{"id", "training", "documentation",
    /// "tooling"}`); `path` is its dotted path for errors (`partner`, or empty
    /// for a stand-alone partner file).
    pub fn from_json(value: &Value, path: &str) -> Result<Self, CaseError> {
        let mut fields = Fields::new(value, path, &["id", "training", "documentation", "tooling"])?;
        let id = fields
            .optional_string("id", 0, MAX_SHORT_CHARS)?
            .unwrap_or_default();
        let training = fields.string_set("training")?;
        let documentation = fields.string_set("documentation")?;
        let tooling = fields.string_set("tooling")?;
        Ok(Self {
            id,
            training,
            documentation,
            tooling,
        })
    }
}

/// A customer's support case as submitted by a partner desk, validated.
///
/// Built only by [`Case::from_json`]; every field is private so an invalid
/// case cannot exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    external_id: ExternalId,
    customer: Customer,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<Contact>,
    product: String,
    category: String,
    severity: Severity,
    subject: String,
    description: String,
    affected_users: u64,
    attempted: ItemSet,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_health: Option<ServiceHealth>,
    attributes: BTreeMap<String, String>,
    /// Times the case was reopened: not part of the intake JSON, set by the store.
    #[serde(skip)]
    reopened: u32,
}

/// A parsed intake body: the case, and the partner object that offline
/// classification may carry along with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseInput {
    /// The validated case.
    pub case: Case,
    /// The `partner` object, when the body had one.
    pub partner: Option<Capabilities>,
}

impl Case {
    /// Parses and validates one intake object. A `partner` object is refused
    /// here; use [`Case::from_json_with_partner`] where one is allowed.
    pub fn from_json(value: &Value) -> Result<Case, CaseError> {
        let input = parse_case(value, false)?;
        Ok(input.case)
    }

    /// Parses one case that may carry the partner's capabilities (offline
    /// classification, rule tests, the dry-run route).
    pub fn from_json_with_partner(value: &Value) -> Result<CaseInput, CaseError> {
        parse_case(value, true)
    }

    /// The partner's own reference.
    pub fn external_id(&self) -> &ExternalId {
        &self.external_id
    }

    /// The customer.
    pub fn customer(&self) -> &Customer {
        &self.customer
    }

    /// The customer-side contact, when given.
    pub fn contact(&self) -> Option<&Contact> {
        self.contact.as_ref()
    }

    /// The product, e.g. `m365`.
    pub fn product(&self) -> &str {
        &self.product
    }

    /// The category, e.g. `mail_flow`.
    pub fn category(&self) -> &str {
        &self.category
    }

    /// The severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The one-line subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The free-text description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Number of affected users (0 when not given).
    pub fn affected_users(&self) -> u64 {
        self.affected_users
    }

    /// Steps the partner already tried.
    pub fn attempted(&self) -> &ItemSet {
        &self.attempted
    }

    /// The linked service-health incident, when given and not empty.
    pub fn service_health(&self) -> Option<&ServiceHealth> {
        self.service_health.as_ref()
    }

    /// Free-form extra fields.
    pub fn attributes(&self) -> &BTreeMap<String, String> {
        &self.attributes
    }

    /// Times the case was reopened (0 at intake).
    pub fn reopened(&self) -> u32 {
        self.reopened
    }

    /// Asks the processor for every allocation that classification may
    /// read (all but `attributes` and `contact`, which a policy seldom
    /// reads), all at once, and for every cache line of the description.
    ///
    /// A case classified long after it was parsed has left the processor's
    /// caches. Classification reads its fields one after another, and each
    /// read that misses the cache would wait its turn; asked for together
    /// up front, the fetches overlap. On a case just parsed it is some
    /// twenty prefetches of lines already there. See [`crate::prefetch`].
    pub(crate) fn prefetch(&self) {
        crate::prefetch::start(self.external_id.as_str().as_bytes());
        crate::prefetch::start(self.customer.tenant.as_bytes());
        crate::prefetch::start(self.customer.name.as_deref().unwrap_or_default().as_bytes());
        crate::prefetch::start(self.product.as_bytes());
        crate::prefetch::start(self.category.as_bytes());
        crate::prefetch::start(self.subject.as_bytes());
        self.attempted.prefetch();
        if let Some(health) = &self.service_health {
            crate::prefetch::start(health.status().unwrap_or_default().as_bytes());
            crate::prefetch::start(health.incident().unwrap_or_default().as_bytes());
        }
        crate::prefetch::all(self.description.as_bytes());
    }

    /// The same case with its reopen counter set (the store's business).
    pub fn with_reopened(mut self, reopened: u32) -> Case {
        self.reopened = reopened;
        self
    }

    /// The value of a string-typed field that the policy may declare `values`
    /// for (`product`, `category`, `customer.tenant`, `customer.name`,
    /// `service_health.incident`, `service_health.status`, `attributes.NAME`).
    /// `None` when the field is absent or not a string field.
    pub fn string_field(&self, path: &str) -> Option<&str> {
        match path {
            "product" => Some(&self.product),
            "category" => Some(&self.category),
            "customer.tenant" => Some(&self.customer.tenant),
            "customer.name" => self.customer.name.as_deref(),
            "service_health.incident" => self.service_health.as_ref()?.incident(),
            "service_health.status" => self.service_health.as_ref()?.status(),
            _ => {
                let name = path.strip_prefix("attributes.")?;
                self.attributes.get(name).map(String::as_str)
            }
        }
    }

    /// The normalised case as JSON (canonical severity names, sets sorted).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// A stable fingerprint of the normalised case: two bodies that parse to
    /// the same case (key order, `"B"` vs `"moderate"`) share it. Idempotent
    /// intake compares fingerprints.
    pub fn fingerprint(&self) -> String {
        let canonical = self.to_json().to_string();
        let digest = Sha256::digest(canonical.as_bytes());
        format!("sha256:{}", hex::encode(digest))
    }
}

/// The fields of a case; the last, `partner`, only where a case may carry
/// the partner's capabilities (`classify`, rule tests), never at intake.
const CASE_FIELDS: [&str; 13] = [
    "external_id",
    "customer",
    "contact",
    "product",
    "category",
    "severity",
    "subject",
    "description",
    "affected_users",
    "attempted",
    "service_health",
    "attributes",
    "partner",
];

fn parse_case(value: &Value, allow_partner: bool) -> Result<CaseInput, CaseError> {
    let known = if allow_partner {
        &CASE_FIELDS[..]
    } else {
        &CASE_FIELDS[..CASE_FIELDS.len() - 1]
    };
    let mut fields = Fields::new(value, "", known)?;
    let external_id = ExternalId::parse(
        &fields.required_string("external_id", 1, MAX_EXTERNAL_ID_CHARS)?,
        "external_id",
    )?;
    let customer = {
        let (raw, path) = fields.required_object("customer")?;
        let mut inner = Fields::new(&raw, &path, &["tenant", "name"])?;
        // The tenant is who the case is for: the desk cannot act on none.
        let tenant = inner.required_text("tenant", MAX_SHORT_CHARS)?;
        let name = inner.optional_string("name", 0, MAX_SHORT_CHARS)?;
        Customer { tenant, name }
    };
    let contact = match fields.optional_object("contact")? {
        None => None,
        Some((raw, path)) => {
            let mut inner = Fields::new(&raw, &path, &["name", "email", "phone"])?;
            let name = inner.optional_string("name", 0, MAX_SHORT_CHARS)?;
            let email = match inner.optional_string("email", 0, MAX_SHORT_CHARS)? {
                None => None,
                Some(text) => Some(EmailAddress::parse(&text, &inner.path_of("email"))?),
            };
            let phone = inner.optional_string("phone", 0, MAX_SHORT_CHARS)?;
            let contact = Contact { name, email, phone };
            (!contact.is_empty()).then_some(contact)
        }
    };
    let product = fields.required_string("product", 1, MAX_SHORT_CHARS)?;
    let category = fields.required_string("category", 1, MAX_SHORT_CHARS)?;
    let severity = {
        let text = fields.required_string("severity", 1, MAX_SHORT_CHARS)?;
        Severity::from_str(&text).map_err(|message| CaseError::invalid("severity", message))?
    };
    let subject = fields.required_text("subject", MAX_SUBJECT_CHARS)?;
    let description = fields.required_string("description", 0, MAX_DESCRIPTION_CHARS)?;
    let affected_users = fields.optional_count("affected_users")?.unwrap_or(0);
    let attempted = fields.string_set("attempted")?;
    let service_health = match fields.optional_object("service_health")? {
        None => None,
        Some((raw, path)) => {
            let mut inner = Fields::new(&raw, &path, &["incident", "status"])?;
            let incident = inner.optional_string("incident", 0, MAX_SHORT_CHARS)?;
            let status = inner.optional_string("status", 0, MAX_SHORT_CHARS)?;
            let health = ServiceHealth { incident, status };
            (!health.is_empty()).then_some(health)
        }
    };
    let attributes = match fields.optional_object("attributes")? {
        None => BTreeMap::new(),
        Some((raw, path)) => parse_attributes(&raw, &path)?,
    };
    let partner = if allow_partner {
        match fields.optional_object("partner")? {
            None => None,
            Some((raw, path)) => Some(Capabilities::from_json(&raw, &path)?),
        }
    } else {
        None
    };
    Ok(CaseInput {
        case: Case {
            external_id,
            customer,
            contact,
            product,
            category,
            severity,
            subject,
            description,
            affected_users,
            attempted,
            service_health,
            attributes,
            reopened: 0,
        },
        partner,
    })
}

fn parse_attributes(raw: &Value, path: &str) -> Result<BTreeMap<String, String>, CaseError> {
    let Some(object) = raw.as_object() else {
        return Err(CaseError::invalid(path, "must be an object"));
    };
    if object.len() > MAX_LIST_ITEMS {
        return Err(CaseError::invalid(
            path,
            format!(
                "has {} entries; at most {MAX_LIST_ITEMS} are allowed",
                object.len()
            ),
        ));
    }
    let mut attributes = BTreeMap::new();
    for (name, value) in object {
        let field = format!("{path}.{name}");
        if name.is_empty() || name.chars().count() > 64 {
            return Err(CaseError::invalid(
                field,
                "attribute names must be 1 to 64 characters",
            ));
        }
        if name.contains('\0') {
            return Err(CaseError::invalid(field, NUL_REFUSED));
        }
        let Some(text) = value.as_str() else {
            return Err(CaseError::invalid(
                field,
                format!("must be a string, found {}", type_name(value)),
            ));
        };
        attributes.insert(name.clone(), bounded(text, &field, 0, MAX_ATTRIBUTE_CHARS)?);
    }
    Ok(attributes)
}

/// Walks one JSON object, taking the known fields out so that what remains
/// at the end is unknown.
struct Fields {
    path: String,
    remaining: Map<String, Value>,
}

impl Fields {
    /// The fields of the object `value` at `path`. A key not in `known` is
    /// refused here, before any field is read: a misspelt required field
    /// (`severty`) is named as the typo it is, not reported as a missing
    /// `severity`.
    fn new(value: &Value, path: &str, known: &[&str]) -> Result<Self, CaseError> {
        let fields = match value {
            Value::Object(map) => Self {
                path: path.to_owned(),
                remaining: map.clone(),
            },
            other => {
                return Err(CaseError::invalid(
                    if path.is_empty() { WHOLE_BODY } else { path },
                    format!("must be an object, found {}", type_name(other)),
                ))
            }
        };
        match fields
            .remaining
            .keys()
            .find(|key| !known.contains(&key.as_str()))
        {
            None => Ok(fields),
            Some(key) => Err(CaseError::unknown(
                fields.path_of(key),
                crate::suggest::suggest(key, known.iter().copied()),
            )),
        }
    }

    fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Takes a field out; JSON `null` counts as absent.
    fn take(&mut self, key: &str) -> Option<Value> {
        self.remaining.remove(key).filter(|value| !value.is_null())
    }

    fn required_string(&mut self, key: &str, min: usize, max: usize) -> Result<String, CaseError> {
        self.optional_string(key, min, max)?
            .ok_or_else(|| CaseError::invalid(self.path_of(key), "is required"))
    }

    /// A required string that says something: spaces only are refused
    /// like an empty string.
    fn required_text(&mut self, key: &str, max: usize) -> Result<String, CaseError> {
        let text = self.required_string(key, 1, max)?;
        not_blank(text, &self.path_of(key))
    }

    fn optional_string(
        &mut self,
        key: &str,
        min: usize,
        max: usize,
    ) -> Result<Option<String>, CaseError> {
        let field = self.path_of(key);
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(text)) => bounded(&text, &field, min, max).map(Some),
            Some(other) => Err(CaseError::invalid(
                field,
                format!("must be a string, found {}", type_name(&other)),
            )),
        }
    }

    fn optional_count(&mut self, key: &str) -> Result<Option<u64>, CaseError> {
        let field = self.path_of(key);
        match self.take(key) {
            None => Ok(None),
            Some(Value::Number(number)) => number.as_u64().map(Some).ok_or_else(|| {
                CaseError::invalid(
                    field,
                    format!("must be a whole number of at least 0, found {number}"),
                )
            }),
            Some(other) => Err(CaseError::invalid(
                field,
                format!("must be a whole number, found {}", type_name(&other)),
            )),
        }
    }

    fn required_object(&mut self, key: &str) -> Result<(Value, String), CaseError> {
        self.optional_object(key)?
            .ok_or_else(|| CaseError::invalid(self.path_of(key), "is required"))
    }

    fn optional_object(&mut self, key: &str) -> Result<Option<(Value, String)>, CaseError> {
        let field = self.path_of(key);
        match self.take(key) {
            None => Ok(None),
            Some(value @ Value::Object(_)) => Ok(Some((value, field))),
            Some(other) => Err(CaseError::invalid(
                field,
                format!("must be an object, found {}", type_name(&other)),
            )),
        }
    }

    fn string_set(&mut self, key: &str) -> Result<ItemSet, CaseError> {
        let field = self.path_of(key);
        let items = match self.take(key) {
            None => return Ok(ItemSet::new()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(CaseError::invalid(
                    field,
                    format!("must be a list of strings, found {}", type_name(&other)),
                ))
            }
        };
        if items.len() > MAX_LIST_ITEMS {
            return Err(CaseError::invalid(
                field,
                format!(
                    "has {} items; at most {MAX_LIST_ITEMS} are allowed",
                    items.len()
                ),
            ));
        }
        let mut set = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let item_field = format!("{field}[{index}]");
            let Some(text) = item.as_str() else {
                return Err(CaseError::invalid(
                    item_field,
                    format!("must be a string, found {}", type_name(item)),
                ));
            };
            set.push(bounded(text, &item_field, 1, MAX_SHORT_CHARS)?);
        }
        Ok(set.into_iter().collect())
    }
}

/// `text`, unless it is whitespace only ("must not be blank").
fn not_blank(text: String, field: &str) -> Result<String, CaseError> {
    if text.trim().is_empty() {
        return Err(CaseError::invalid(field, "must not be blank"));
    }
    Ok(text)
}

fn bounded(text: &str, field: &str, min: usize, max: usize) -> Result<String, CaseError> {
    if text.contains('\0') {
        return Err(CaseError::invalid(field, NUL_REFUSED));
    }
    let length = text.chars().count();
    if length < min {
        return Err(CaseError::invalid(
            field,
            if min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must have at least {min} characters")
            },
        ));
    }
    if length > max {
        return Err(CaseError::invalid(
            field,
            format!("has {length} characters; at most {max} are allowed"),
        ));
    }
    Ok(text.to_owned())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

mod item_set;

pub use item_set::{item_hash, ItemSet, Items};

#[cfg(test)]
mod tests;
