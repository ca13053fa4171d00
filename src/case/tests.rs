//! Intake parsing: every refusal names the field and what was wrong.

use serde_json::json;

use super::*;

fn valid() -> Value {
    json!({
        "external_id": "CASE-1042",
        "customer": {"tenant": "contoso.partner.onmschina.cn", "name": "Contoso Ltd"},
        "contact": {"name": "Li Wei", "email": "li.wei@contoso.example", "phone": "+86 10 5555 0100"},
        "product": "m365",
        "category": "mail_flow",
        "severity": "moderate",
        "subject": "Outbound mail stuck in queue",
        "description": "Since 09:00 no outbound mail leaves the tenant...",
        "affected_users": 120,
        "attempted": ["checked service health", "ran message trace"],
        "service_health": {"incident": "EX123456", "status": "service_restored"},
        "attributes": {"region": "china-north-2"}
    })
}

fn refusal(mutate: impl FnOnce(&mut Value)) -> CaseError {
    let mut body = valid();
    mutate(&mut body);
    Case::from_json(&body).unwrap_err()
}

#[test]
fn the_contract_example_parses_with_every_field() {
    let case = Case::from_json(&valid()).unwrap();
    assert_eq!(case.external_id().as_str(), "CASE-1042");
    assert_eq!(case.customer().tenant(), "contoso.partner.onmschina.cn");
    assert_eq!(case.customer().name(), Some("Contoso Ltd"));
    assert_eq!(case.severity(), Severity::Moderate);
    assert_eq!(case.affected_users(), 120);
    assert!(case.attempted().contains("ran message trace"));
    assert_eq!(
        case.service_health().and_then(ServiceHealth::status),
        Some("service_restored")
    );
    assert_eq!(
        case.string_field("attributes.region"),
        Some("china-north-2")
    );
    assert_eq!(
        case.contact()
            .and_then(Contact::email)
            .map(EmailAddress::as_str),
        Some("li.wei@contoso.example")
    );
    assert_eq!(case.reopened(), 0);
}

#[test]
fn optional_fields_take_their_defaults() {
    let body = json!({
        "external_id": "X", "customer": {"tenant": "t"}, "product": "azure",
        "category": "defect", "severity": "C", "subject": "s", "description": ""
    });
    let case = Case::from_json(&body).unwrap();
    assert_eq!(case.affected_users(), 0);
    assert!(case.attempted().is_empty());
    assert!(case.attributes().is_empty());
    assert!(case.service_health().is_none());
    assert_eq!(case.severity(), Severity::Minimal);
}

#[test]
fn severity_letters_and_names_are_accepted_in_any_case() {
    for (text, expected) in [
        ("A", Severity::Critical),
        ("b", Severity::Moderate),
        ("Critical", Severity::Critical),
        ("minimal", Severity::Minimal),
    ] {
        let mut body = valid();
        body["severity"] = json!(text);
        assert_eq!(
            Case::from_json(&body).unwrap().severity(),
            expected,
            "{text}"
        );
    }
}

#[test]
fn an_unknown_severity_names_the_field_and_the_allowed_values() {
    let error = refusal(|body| body["severity"] = json!("urgent"));
    assert_eq!(error.field, "severity");
    assert!(
        error.message.contains("`urgent`") && error.message.contains("critical"),
        "{}",
        error.message
    );
}

#[test]
fn a_missing_nested_field_is_named_by_its_dotted_path() {
    let error = refusal(|body| {
        body["customer"].as_object_mut().unwrap().remove("tenant");
    });
    assert_eq!(error.field, "customer.tenant");
    assert_eq!(error.message, "is required");
    assert_eq!(error.kind, CaseErrorKind::Invalid);
}

#[test]
fn an_unknown_top_level_field_is_refused_by_name() {
    let error = refusal(|body| body["severty"] = json!("critical"));
    assert_eq!(error.field, "severty");
    assert_eq!(error.kind, CaseErrorKind::Unknown);
}

#[test]
fn a_misspelt_required_field_is_named_as_unknown_not_reported_missing() {
    let error = refusal(|body| {
        let severity = body["severity"].take();
        body.as_object_mut().unwrap().remove("severity");
        body["severty"] = severity;
    });
    assert_eq!(error.field, "severty");
    assert_eq!(error.kind, CaseErrorKind::Unknown);
    let nested = refusal(|body| {
        body["customer"].as_object_mut().unwrap().remove("tenant");
        body["customer"]["tenent"] = json!("x");
    });
    assert_eq!(nested.field, "customer.tenent");
    assert_eq!(nested.kind, CaseErrorKind::Unknown);
}

#[test]
fn an_unknown_nested_field_is_refused_by_its_path() {
    let error = refusal(|body| body["customer"]["tenent"] = json!("x"));
    assert_eq!(error.field, "customer.tenent");
    assert_eq!(error.kind, CaseErrorKind::Unknown);
}

#[test]
fn a_partner_object_is_refused_at_intake_but_read_for_offline_classification() {
    let mut body = valid();
    body["partner"] = json!({"id": "p-1", "training": ["exchange-transport"]});
    let error = Case::from_json(&body).unwrap_err();
    assert_eq!(
        (error.field.as_str(), error.kind),
        ("partner", CaseErrorKind::Unknown)
    );
    let input = Case::from_json_with_partner(&body).unwrap();
    let partner = input.partner.unwrap();
    assert_eq!(partner.id, "p-1");
    assert!(partner.training.contains("exchange-transport"));
    assert!(partner.tooling.is_empty());
}

#[test]
fn lengths_are_bounded_in_characters_not_bytes() {
    let subject: String = "邮".repeat(MAX_SUBJECT_CHARS);
    let mut body = valid();
    body["subject"] = json!(subject);
    assert!(Case::from_json(&body).is_ok());
    let error = refusal(|body| body["subject"] = json!("x".repeat(MAX_SUBJECT_CHARS + 1)));
    assert_eq!(error.field, "subject");
    assert!(error.message.contains("at most 200"), "{}", error.message);
    let error = refusal(|body| body["external_id"] = json!(""));
    assert_eq!(
        (error.field.as_str(), error.message.as_str()),
        ("external_id", "must not be empty")
    );
    let error = refusal(|body| body["description"] = json!("d".repeat(MAX_DESCRIPTION_CHARS + 1)));
    assert_eq!(error.field, "description");
}

#[test]
fn wrong_types_say_what_was_found() {
    let error = refusal(|body| body["affected_users"] = json!("many"));
    assert_eq!(error.field, "affected_users");
    assert!(error.message.contains("a string"), "{}", error.message);
    let error = refusal(|body| body["affected_users"] = json!(-3));
    assert!(error.message.contains("at least 0"), "{}", error.message);
    let error = refusal(|body| body["attempted"] = json!(["ok", 3]));
    assert_eq!(error.field, "attempted[1]");
    let error = refusal(|body| body["attributes"] = json!({"region": 2}));
    assert_eq!(error.field, "attributes.region");
    let error = Case::from_json(&json!([1, 2])).unwrap_err();
    assert!(
        error.message.contains("must be an object"),
        "{}",
        error.message
    );
}

#[test]
fn a_bad_contact_email_is_refused() {
    let error = refusal(|body| body["contact"]["email"] = json!("not an address"));
    assert_eq!(error.field, "contact.email");
}

#[test]
fn a_blank_subject_external_id_or_tenant_or_a_padded_external_id_is_refused() {
    for (field, blank) in [("subject", "   "), ("external_id", " \t ")] {
        let error = refusal(|body| body[field] = json!(blank));
        assert_eq!(
            (error.field.as_str(), error.message.as_str()),
            (field, "must not be blank")
        );
    }
    let error = refusal(|body| body["external_id"] = json!("CASE-1 "));
    assert_eq!(
        (error.field.as_str(), error.message.as_str()),
        (
            "external_id",
            "must not start or end with whitespace: write `CASE-1`"
        )
    );
    let error = refusal(|body| body["customer"]["tenant"] = json!("  "));
    assert_eq!(
        (error.field.as_str(), error.message.as_str()),
        ("customer.tenant", "must not be blank")
    );
}

#[test]
fn an_empty_service_health_leaves_both_fields_absent() {
    let mut body = valid();
    body["service_health"] = json!({});
    let case = Case::from_json(&body).unwrap();
    assert!(case.service_health().is_none());
    assert_eq!(case.string_field("service_health.status"), None);
}

#[test]
fn an_empty_contact_is_the_same_case_as_no_contact() {
    let mut body = valid();
    body.as_object_mut().unwrap().remove("contact");
    let without = Case::from_json(&body).unwrap();
    body["contact"] = json!({});
    let with_empty = Case::from_json(&body).unwrap();
    assert!(with_empty.contact().is_none());
    assert!(with_empty.to_json().get("contact").is_none());
    assert_eq!(with_empty.fingerprint(), without.fingerprint());
    body["contact"] = json!({"phone": "+86 10 5555 0100"});
    let with_phone = Case::from_json(&body).unwrap();
    assert_eq!(
        with_phone.contact().and_then(|c| c.phone()),
        Some("+86 10 5555 0100")
    );
    assert_ne!(with_phone.fingerprint(), without.fingerprint());
}

#[test]
fn equivalent_bodies_share_a_fingerprint_and_different_ones_do_not() {
    let first = Case::from_json(&valid()).unwrap();
    let mut reordered = serde_json::Map::new();
    let original = valid();
    for (key, value) in original.as_object().unwrap().iter().rev() {
        reordered.insert(key.clone(), value.clone());
    }
    reordered.insert("severity".to_owned(), json!("B"));
    let second = Case::from_json(&Value::Object(reordered)).unwrap();
    assert_eq!(first.fingerprint(), second.fingerprint());
    let mut changed = valid();
    changed["affected_users"] = json!(121);
    assert_ne!(
        first.fingerprint(),
        Case::from_json(&changed).unwrap().fingerprint()
    );
}

#[test]
fn the_normalised_json_parses_back_to_the_same_case() {
    let case = Case::from_json(&valid()).unwrap();
    let again = Case::from_json(&case.to_json()).unwrap();
    assert_eq!(case, again);
    assert_eq!(case.to_json()["severity"], json!("moderate"));
}
