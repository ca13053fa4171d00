//! Turns an [`EmailPayload`] into one `multipart/alternative` message (plain
//! text and escaped HTML) with the thread's headers.
//!
//! Rendering is a pure function of the payload and the sender: the `Date` is
//! the event's time and the MIME boundary is derived from the `Message-ID`,
//! so every retry of an outbox row sends byte-for-byte the same message.
//! Wording lives in `templates/mail/`, compiled into the binary. User text
//! reaches the headers only through the subject, which is encoded (RFC 2047,
//! whole when it holds `=?`) after control characters are removed here;
//! addresses go through lettre's parser.

use std::sync::LazyLock;
use std::time::SystemTime;

use chrono::{DateTime, TimeDelta, Utc};
use lettre::message::header::{
    ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{EmailEvent, EmailPayload, PartnerContact};
use crate::case::Severity;
use crate::policy::Name;

const TEXT_TEMPLATE: &str = "body.txt";
const HTML_TEMPLATE: &str = "body.html";

/// Why a payload could not become a message. Retrying cannot help: the
/// outbox row holds a payload that will never render.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The payload's `case` snapshot lacks a field or holds a wrong value.
    #[error("payload field `case`: {message}")]
    Case {
        /// What was wrong, naming the case field.
        message: String,
    },
    /// An address in the payload (or the sender) does not parse.
    #[error("payload field `{field}`: `{value}` is not an email address ({message})")]
    Address {
        /// `to[0]`, `cc[1]`, `from`…
        field: String,
        /// The text that was given.
        value: String,
        /// What the address parser said.
        message: String,
    },
    /// A `Message-ID` in the payload is not of the form `<local@domain>`.
    #[error("payload field `{field}`: `{value}` is not a message id (expected `<local@domain>` without spaces)")]
    MessageId {
        /// `message_id` or `thread_root`.
        field: &'static str,
        /// The text that was given.
        value: String,
    },
    /// The message has no recipient.
    #[error("payload field `to`: no recipient")]
    NoRecipient,
    /// A template failed to render.
    #[error("template `templates/mail/{template}`: {message}")]
    Template {
        /// The template's file name.
        template: &'static str,
        /// What minijinja said, with the line.
        message: String,
    },
    /// lettre refused to assemble the message.
    #[error("cannot assemble the message: {0}")]
    Build(String),
}

/// `Auto-Submitted: auto-generated` (RFC 3834): tells responders not to auto-reply.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// `X-Escalator-Event`: which event the message announces, for filters.
#[derive(Debug, Clone)]
struct EventHeader(&'static str);

impl Header for EventHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Escalator-Event")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        ALL_EVENTS
            .iter()
            .find(|event| event.as_str() == text.trim())
            .map(|event| EventHeader(event.as_str()))
            .ok_or_else(|| format!("unknown event `{text}`").into())
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_owned())
    }
}

const ALL_EVENTS: [EmailEvent; 8] = [
    EmailEvent::Escalated,
    EmailEvent::Acknowledged,
    EmailEvent::InfoRequested,
    EmailEvent::InfoSupplied,
    EmailEvent::Returned,
    EmailEvent::Resolved,
    EmailEvent::DeadlineWarning,
    EmailEvent::DeadlineOverdue,
];

/// The part of the case snapshot that emails show. Unknown fields are
/// ignored so older and newer snapshots both render.
#[derive(Debug, Deserialize)]
struct CaseView {
    customer: CustomerView,
    #[serde(default)]
    contact: Option<ContactView>,
    product: String,
    category: String,
    severity: String,
    subject: String,
    description: String,
    #[serde(default)]
    affected_users: u64,
    #[serde(default)]
    attempted: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
struct CustomerView {
    tenant: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
struct ContactView {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

/// What the templates see.
#[derive(Debug, Serialize)]
struct Context<'a> {
    event: &'static str,
    headline: String,
    case_id: &'a str,
    external_id: &'a str,
    partner: &'a PartnerContact,
    customer: &'a CustomerView,
    contact: Option<&'a ContactView>,
    product: &'a str,
    category: &'a str,
    severity: &'static str,
    severity_letter: char,
    subject: &'a str,
    description: &'a str,
    affected_users: u64,
    attempted: &'a [String],
    stage: &'a str,
    decision: &'static str,
    reasons: &'a [String],
    deciding_rules: &'a [Name],
    gaps: Vec<GapLine<'a>>,
    reason: Option<&'a str>,
    vianet_case_id: Option<&'a str>,
    deadline: Option<DeadlineView<'a>>,
    occurred_at: String,
}

#[derive(Debug, Serialize)]
struct GapLine<'a> {
    kind: &'static str,
    item: &'a str,
    requirement: &'a str,
}

#[derive(Debug, Serialize)]
struct DeadlineView<'a> {
    kind: &'a str,
    utc: String,
    beijing: String,
}

static TEMPLATES: LazyLock<Result<Environment<'static>, (&'static str, String)>> =
    LazyLock::new(|| {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // The file extension selects auto-escaping: `.html` is HTML-escaped, `.txt` is not.
        env.add_template(TEXT_TEMPLATE, include_str!("../../templates/mail/body.txt"))
            .map_err(|error| (TEXT_TEMPLATE, format!("{error:#}")))?;
        env.add_template(
            HTML_TEMPLATE,
            include_str!("../../templates/mail/body.html"),
        )
        .map_err(|error| (HTML_TEMPLATE, format!("{error:#}")))?;
        Ok(env)
    });

/// Renders one email: `multipart/alternative` with a plain-text and an HTML
/// part, `Message-ID` from the payload, `In-Reply-To`/`References` pointing
/// at the thread's first message, `Auto-Submitted` and `X-Escalator-Event`.
///
/// `from` is the sender address (`ESCALATOR_MAIL_FROM`), optionally with a
/// display name (`Escalator <escalator@example.com>`).
pub fn render(payload: &EmailPayload, from: &str) -> Result<Message, RenderError> {
    let case: CaseView =
        serde_json::from_value(payload.case.clone()).map_err(|error| RenderError::Case {
            message: error.to_string(),
        })?;
    let severity: Severity =
        case.severity
            .parse()
            .map_err(|message: String| RenderError::Case {
                message: format!("field `severity`: {message}"),
            })?;

    let context = Context {
        event: payload.event.as_str(),
        headline: headline(payload),
        case_id: &payload.case_id,
        external_id: &payload.external_id,
        partner: &payload.partner,
        customer: &case.customer,
        contact: case.contact.as_ref(),
        product: &case.product,
        category: &case.category,
        severity: severity.as_str(),
        severity_letter: severity.letter(),
        subject: &case.subject,
        description: &case.description,
        affected_users: case.affected_users,
        attempted: &case.attempted,
        stage: &payload.stage,
        decision: payload.outcome.decision.as_str(),
        reasons: &payload.outcome.reasons,
        deciding_rules: &payload.outcome.deciding_rules,
        gaps: gap_lines(payload),
        reason: payload.reason.as_deref(),
        vianet_case_id: payload.vianet_case_id.as_deref(),
        deadline: payload.deadline.as_ref().map(|deadline| DeadlineView {
            kind: &deadline.kind,
            utc: format_utc(deadline.at),
            beijing: format_beijing(deadline.at),
        }),
        occurred_at: format_utc(payload.occurred_at),
    };
    let text = render_template(TEXT_TEMPLATE, &context)?;
    let html = render_template(HTML_TEMPLATE, &context)?;

    let message_id = checked_message_id("message_id", &payload.message_id)?;
    let mut builder = Message::builder()
        .from(mailbox("from", from)?)
        .raw_header(subject_header(subject_line(
            payload.event,
            &payload.case_id,
            severity,
            &case.product,
            &case.subject,
        ))?)
        .message_id(Some(message_id.clone()))
        .date(SystemTime::from(payload.occurred_at))
        .header(AutoSubmitted)
        .header(EventHeader(payload.event.as_str()));
    if let Some(root) = &payload.thread_root {
        let root = checked_message_id("thread_root", root)?;
        builder = builder.in_reply_to(root.clone()).references(root);
    }
    if payload.to.is_empty() {
        return Err(RenderError::NoRecipient);
    }
    for (index, address) in payload.to.iter().enumerate() {
        builder = builder.to(mailbox(&format!("to[{index}]"), address)?);
    }
    for (index, address) in payload.cc.iter().enumerate() {
        builder = builder.cc(mailbox(&format!("cc[{index}]"), address)?);
    }

    let body = MultiPart::alternative()
        .boundary(boundary(&message_id))
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(encoded(text)),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(encoded(html)),
        );
    builder
        .multipart(body)
        .map_err(|error| RenderError::Build(error.to_string()))
}

/// The subject line: `[ESC-{case}] …`, see `docs/email.md` for each event.
fn subject_line(
    event: EmailEvent,
    case_id: &str,
    severity: Severity,
    product: &str,
    subject: &str,
) -> String {
    let tag = format!("[ESC-{}]", one_line(case_id));
    let product = one_line(product);
    let subject = one_line(subject);
    match event {
        EmailEvent::Escalated => format!("{tag} {severity} {product}: {subject}"),
        EmailEvent::DeadlineWarning => {
            format!("{tag} Deadline warning: {severity} {product}: {subject}")
        }
        EmailEvent::DeadlineOverdue => format!("{tag} Overdue: {severity} {product}: {subject}"),
        EmailEvent::Acknowledged => format!("{tag} Acknowledged: {subject}"),
        EmailEvent::InfoRequested => format!("{tag} Information requested: {subject}"),
        EmailEvent::InfoSupplied => format!("{tag} Information supplied: {subject}"),
        EmailEvent::Returned => format!("{tag} Returned to partner: {subject}"),
        EmailEvent::Resolved => format!("{tag} Resolved: {subject}"),
    }
}

/// The `Subject` header for `line`, encoded as lettre would, except that a
/// line holding `=?` is encoded whole (RFC 2047). lettre writes ASCII words
/// as they are, and a partner's subject such as `error =?utf-8?q?x?=` would
/// then be read by mail clients as an encoded word and shown changed.
fn subject_header(line: String) -> Result<HeaderValue, RenderError> {
    let name = HeaderName::new_from_ascii_str("Subject");
    if !line.contains("=?") {
        return Ok(HeaderValue::new(name, line));
    }
    let mut encoded = String::new();
    {
        let mut writer = email_encoding::headers::writer::EmailWriter::new(
            &mut encoded,
            "Subject: ".len(),
            0,
            false,
        );
        email_encoding::headers::rfc2047::encode(&line, &mut writer)
            .map_err(|error| RenderError::Build(format!("cannot encode the subject: {error}")))?;
    }
    Ok(HeaderValue::dangerous_new_pre_encoded(name, line, encoded))
}

/// The first sentence of the body: what happened.
fn headline(payload: &EmailPayload) -> String {
    let id = &payload.case_id;
    let kind = payload
        .deadline
        .as_ref()
        .map_or("next", |deadline| deadline.kind.as_str());
    match payload.event {
        EmailEvent::Escalated => format!("Case {id} was escalated to 21Vianet."),
        EmailEvent::Acknowledged => format!("21Vianet acknowledged case {id}."),
        EmailEvent::InfoRequested => format!("21Vianet needs more information on case {id}."),
        EmailEvent::InfoSupplied => {
            format!("The partner supplied the requested information on case {id}.")
        }
        EmailEvent::Returned => format!("21Vianet returned case {id} to the partner."),
        EmailEvent::Resolved => format!("21Vianet resolved case {id}."),
        EmailEvent::DeadlineWarning => format!("The {kind} deadline of case {id} passes soon."),
        EmailEvent::DeadlineOverdue => format!("The {kind} deadline of case {id} has passed."),
    }
}

/// Collapses every run of whitespace and control characters (CR, LF, tab…)
/// to one space, so user text cannot start a new header line.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn gap_lines(payload: &EmailPayload) -> Vec<GapLine<'_>> {
    payload
        .outcome
        .gaps
        .kinds()
        .flat_map(|(kind, list)| {
            list.iter().map(move |gap| GapLine {
                kind,
                item: &gap.item,
                requirement: &gap.requirement,
            })
        })
        .collect()
}

fn format_utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Beijing has no daylight saving time: UTC+8 all year.
fn format_beijing(at: DateTime<Utc>) -> String {
    (at.naive_utc() + TimeDelta::hours(8))
        .format("%Y-%m-%d %H:%M Beijing time (UTC+8)")
        .to_string()
}

fn render_template(name: &'static str, context: &Context<'_>) -> Result<String, RenderError> {
    let env = TEMPLATES
        .as_ref()
        .map_err(|(template, message)| RenderError::Template {
            template,
            message: message.clone(),
        })?;
    env.get_template(name)
        .and_then(|template| template.render(context))
        .map_err(|error| RenderError::Template {
            template: name,
            message: format!("{error:#}"),
        })
}

fn mailbox(field: &str, value: &str) -> Result<Mailbox, RenderError> {
    value.trim().parse().map_err(
        |error: lettre::address::AddressError| RenderError::Address {
            field: field.to_owned(),
            value: value.to_owned(),
            message: error.to_string(),
        },
    )
}

/// Accepts `<local@domain>` or `local@domain` and returns the bracketed form.
fn checked_message_id(field: &'static str, value: &str) -> Result<String, RenderError> {
    let trimmed = value.trim();
    let inner = trimmed
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or(trimmed);
    let valid = inner.contains('@')
        && !inner.starts_with('@')
        && !inner.ends_with('@')
        && inner
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>');
    if valid {
        Ok(format!("<{inner}>"))
    } else {
        Err(RenderError::MessageId {
            field,
            value: value.to_owned(),
        })
    }
}

/// A part's body, always quoted-printable or base64. lettre would send a
/// short all-ASCII text as `7bit`, verbatim; then a line of user text equal
/// to the boundary (which anyone who knows the `Message-ID` can compute)
/// would end the part and could add parts of its own. Both encodings turn
/// `=` into `=3D` or base64, so the boundary never occurs in a body.
fn encoded(text: String) -> Body {
    let chosen = Body::new(text.clone());
    match chosen.encoding() {
        ContentTransferEncoding::QuotedPrintable | ContentTransferEncoding::Base64 => chosen,
        _ => Body::new_with_encoding(text, ContentTransferEncoding::QuotedPrintable)
            .unwrap_or(chosen),
    }
}

/// A MIME boundary derived from the `Message-ID`: stable across retries.
/// `=_` cannot occur in quoted-printable or base64 output.
fn boundary(message_id: &str) -> String {
    let digest = Sha256::digest(message_id.as_bytes());
    format!("=_escalator_{}", &hex::encode(digest)[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_removes_line_breaks_and_control_characters() {
        assert_eq!(one_line("a\r\nBcc: x@y\tz\u{7}"), "a Bcc: x@y z");
    }

    #[test]
    fn message_ids_are_bracketed_and_checked() {
        assert_eq!(
            checked_message_id("message_id", "a.b@c").unwrap(),
            "<a.b@c>"
        );
        assert_eq!(
            checked_message_id("message_id", "<a.b@c>").unwrap(),
            "<a.b@c>"
        );
        assert!(checked_message_id("message_id", "<a b@c>").is_err());
        assert!(checked_message_id("message_id", "a\r\nX: y@c").is_err());
        assert!(checked_message_id("message_id", "nodomain").is_err());
    }

    #[test]
    fn beijing_time_is_eight_hours_ahead_across_midnight() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T18:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_beijing(at), "2026-03-02 02:30 Beijing time (UTC+8)");
    }
}
