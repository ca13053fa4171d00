//! What a rendered message says and which headers it carries.

use escalator::mail::{render, EmailEvent, RenderError};

use crate::fixtures::{escalated, follow_up, FROM};

fn formatted(payload: &escalator::mail::EmailPayload) -> String {
    String::from_utf8(render(payload, FROM).unwrap().formatted()).unwrap()
}

/// A rendered message taken apart: the header block and the decoded parts,
/// line ends as `\n`.
struct Rendered {
    headers: String,
    text: String,
    html: String,
}

fn rendered(payload: &escalator::mail::EmailPayload) -> Rendered {
    let message = formatted(payload).replace("\r\n", "\n");
    let (headers, body) = message.split_once("\n\n").unwrap();
    let boundary = headers
        .split("boundary=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut text = None;
    let mut html = None;
    for part in body.split(&format!("--{boundary}")).skip(1) {
        let Some((part_headers, content)) = part.trim_start_matches('\n').split_once("\n\n") else {
            continue;
        };
        let decoded = if part_headers.contains("quoted-printable") {
            decode_quoted_printable(content)
        } else {
            content.to_owned()
        };
        if part_headers.contains("text/plain") {
            text = Some(decoded);
        } else if part_headers.contains("text/html") {
            html = Some(decoded);
        }
    }
    Rendered {
        headers: headers.to_owned(),
        text: text.expect("a text/plain part"),
        html: html.expect("a text/html part"),
    }
}

fn decode_quoted_printable(content: &str) -> String {
    let joined = content.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'=' && index + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn snapshot_text(rendered: &Rendered) -> String {
    format!(
        "{}\n\n----- text/plain -----\n{}\n----- text/html -----\n{}",
        rendered.headers, rendered.text, rendered.html
    )
}

fn subject(payload: &escalator::mail::EmailPayload) -> String {
    let message = render(payload, FROM).unwrap();
    message.headers().get_raw("Subject").unwrap().to_owned()
}

#[test]
fn an_escalation_with_gaps_and_a_deadline_renders_as_in_the_snapshot() {
    // The Date is the event's time and the boundary comes from the
    // Message-ID, so the whole message is stable without normalising.
    insta::assert_snapshot!(snapshot_text(&rendered(&escalated())));
}

#[test]
fn a_follow_up_in_the_thread_renders_as_in_the_snapshot() {
    let mut payload = follow_up(EmailEvent::Returned);
    payload.reason =
        Some("Customer confirmed mail flows again; please verify the connector.".to_owned());
    payload.deadline = None;
    payload.stage = "partner_working".to_owned();
    payload.to = vec!["desk@csp.test".to_owned()];
    payload.cc = vec![];
    insta::assert_snapshot!(snapshot_text(&rendered(&payload)));
}

#[test]
fn rendering_the_same_payload_twice_gives_the_same_bytes() {
    assert_eq!(formatted(&escalated()), formatted(&escalated()));
}

#[test]
fn user_text_is_escaped_in_the_html_part_and_verbatim_in_the_text_part() {
    let mut payload = escalated();
    payload.case["subject"] = "<script>alert(1)</script>".into();
    payload.case["description"] = "Tom & Jerry <b>bold</b>".into();
    payload.reason = Some("<img src=x onerror=alert(2)>".to_owned());
    let Rendered { text, html, .. } = rendered(&payload);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("Tom &amp; Jerry &lt;b&gt;bold&lt;&#x2f;b&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("<img") && !html.contains("<b>"),
        "{html}"
    );
    assert!(
        text.contains("<script>alert(1)</script>") && text.contains("Tom & Jerry <b>bold</b>"),
        "{text}"
    );
}

#[test]
fn line_breaks_in_the_subject_cannot_add_headers_or_recipients() {
    let mut payload = escalated();
    payload.case["subject"] = "Help\r\nBcc: thief@evil.test\r\n\r\nbody".into();
    let message = render(&payload, FROM).unwrap();
    let headers = rendered(&payload).headers;
    assert!(
        !headers
            .lines()
            .any(|line| line.to_ascii_lowercase().starts_with("bcc:")),
        "{headers}"
    );
    assert!(message
        .envelope()
        .to()
        .iter()
        .all(|address| address.to_string() != "thief@evil.test"));
    assert_eq!(
        message.headers().get_raw("Subject").unwrap(),
        "[ESC-c_8f3k2m9x] critical m365: Help Bcc: thief@evil.test body"
    );
}

#[test]
fn a_boundary_line_in_user_text_cannot_end_a_part_or_add_one() {
    // The boundary is derived from the Message-ID, which a partner can
    // predict for its next move; a short all-ASCII text part would be sent
    // as 7bit, where a line `--BOUNDARY` in the reason would end the part.
    let mut payload = follow_up(EmailEvent::InfoSupplied);
    payload.outcome.reasons = vec!["short".to_owned()];
    payload.outcome.gaps = Default::default();
    payload.case["description"] = "x".into();
    payload.case["attempted"] = serde_json::json!([]);
    let boundary = {
        let message = formatted(&payload);
        let start = message.find("boundary=\"").unwrap() + "boundary=\"".len();
        message[start..].split('"').next().unwrap().to_owned()
    };
    payload.reason = Some(format!(
        "logs below\n--{boundary}\nContent-Type: text/html\n\n<a href=x>fake</a>\n--{boundary}--"
    ));
    let message = formatted(&payload);
    let delimiters = message
        .split("\r\n")
        .filter(|line| line.starts_with(&format!("--{boundary}")))
        .count();
    assert_eq!(
        delimiters, 3,
        "two parts and the closing delimiter, no more:\n{message}"
    );
    assert!(
        rendered(&payload)
            .text
            .contains(&format!("--{boundary}\nContent-Type: text/html")),
        "the reason arrives verbatim in the text part"
    );
}

#[test]
fn the_deadline_is_shown_in_utc_and_beijing_time() {
    let Rendered { text, html, .. } = rendered(&escalated());
    for part in [text, html] {
        assert!(
            part.contains("acknowledge at 2026-03-01 18:30 UTC"),
            "{part}"
        );
        assert!(
            part.contains("2026-03-02 02:30 Beijing time (UTC+8)"),
            "{part}"
        );
    }
}

#[test]
fn each_event_has_its_own_subject_after_the_tag() {
    let expected = [
        (
            EmailEvent::Escalated,
            "[ESC-c_8f3k2m9x] critical m365: Outbound mail stuck in queue",
        ),
        (
            EmailEvent::Acknowledged,
            "[ESC-c_8f3k2m9x] Acknowledged: Outbound mail stuck in queue",
        ),
        (
            EmailEvent::InfoRequested,
            "[ESC-c_8f3k2m9x] Information requested: Outbound mail stuck in queue",
        ),
        (
            EmailEvent::InfoSupplied,
            "[ESC-c_8f3k2m9x] Information supplied: Outbound mail stuck in queue",
        ),
        (
            EmailEvent::Returned,
            "[ESC-c_8f3k2m9x] Returned to partner: Outbound mail stuck in queue",
        ),
        (
            EmailEvent::Resolved,
            "[ESC-c_8f3k2m9x] Resolved: Outbound mail stuck in queue",
        ),
        (
            EmailEvent::DeadlineWarning,
            "[ESC-c_8f3k2m9x] Deadline warning: critical m365: Outbound mail stuck in queue",
        ),
        (
            EmailEvent::DeadlineOverdue,
            "[ESC-c_8f3k2m9x] Overdue: critical m365: Outbound mail stuck in queue",
        ),
    ];
    for (event, want) in expected {
        assert_eq!(subject(&follow_up(event)), want, "{event:?}");
    }
}

#[test]
fn thread_headers_point_at_the_first_message_and_name_the_event() {
    let message = render(&follow_up(EmailEvent::Acknowledged), FROM).unwrap();
    let headers = message.headers();
    assert_eq!(
        headers.get_raw("Message-ID"),
        Some("<c_8f3k2m9x.2.acknowledged@escalator.test>")
    );
    assert_eq!(
        headers.get_raw("In-Reply-To"),
        Some("<c_8f3k2m9x.1.escalated@escalator.test>")
    );
    assert_eq!(
        headers.get_raw("References"),
        Some("<c_8f3k2m9x.1.escalated@escalator.test>")
    );
    assert_eq!(headers.get_raw("Auto-Submitted"), Some("auto-generated"));
    assert_eq!(headers.get_raw("X-Escalator-Event"), Some("acknowledged"));

    let first = render(&escalated(), FROM).unwrap();
    assert_eq!(first.headers().get_raw("In-Reply-To"), None);
    assert_eq!(first.headers().get_raw("References"), None);
}

#[test]
fn the_body_carries_the_moves_reason_and_vianets_case_id() {
    let mut payload = follow_up(EmailEvent::InfoRequested);
    payload.reason = Some("Please attach the message trace for 09:00-10:00.".to_owned());
    let text = rendered(&payload).text;
    assert!(
        text.contains("Please attach the message trace for 09:00-10:00."),
        "{text}"
    );
    assert!(text.contains("21Vianet case: 21V-778899"), "{text}");
    assert!(
        text.contains("21Vianet needs more information on case c_8f3k2m9x."),
        "{text}"
    );
}

#[test]
fn a_bad_address_is_refused_naming_the_field() {
    let mut payload = escalated();
    payload.cc = vec!["desk@csp.test".to_owned(), "not an address".to_owned()];
    let error = render(&payload, FROM).unwrap_err();
    assert!(
        matches!(&error, RenderError::Address { field, .. } if field == "cc[1]"),
        "{error}"
    );
    assert!(error.to_string().contains("`not an address`"), "{error}");
}

#[test]
fn a_case_snapshot_without_a_severity_is_refused_naming_the_field() {
    let mut payload = escalated();
    payload.case.as_object_mut().unwrap().remove("severity");
    let error = render(&payload, FROM).unwrap_err();
    assert!(error.to_string().contains("severity"), "{error}");
}
