//! The meaning of a policy: every operator and every detail of the
//! contract's "Details" section, checked through `Policy::classify`.

use escalator::case::{Capabilities, Case, Tier};
use escalator::policy::{Policy, SourceFile};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{case, case_json, holds, load, partner, policy};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/policy/samples/example");

fn example() -> Policy {
    Policy::load_dir(std::path::Path::new(SAMPLES))
        .expect("the example loads")
        .policy
}

#[test]
fn the_contract_example_gives_the_contract_outcome() {
    let p = example();
    let c = Case::from_json(&case_json(json!({"external_id": "CASE-1042"}))).expect("case");
    let outcome = p.classify(&c, &Capabilities::default());
    let mut value = serde_json::to_value(&outcome).expect("json");
    assert!(value["policy"]
        .as_str()
        .expect("hash")
        .starts_with("sha256:"));
    value["policy"] = json!("sha256:…");
    assert_eq!(
        value,
        json!({
            "case": "CASE-1042",
            "decision": "escalate",
            "reasons": ["The partner lacks training: exchange-transport; tooling: message-trace."],
            "deciding_rules": ["partner lacks what the case needs"],
            "matched_rules": [{"rule": "partner lacks what the case needs", "tier": "escalate"}],
            "gaps": {
                "training": [{"item": "exchange-transport", "requirement": "exchange mail flow"}],
                "documentation": [],
                "tooling": [{"item": "message-trace", "requirement": "exchange mail flow"}]
            },
            "within_minutes": 240,
            "notify": [],
            "policy": "sha256:…"
        })
    );
    let keys: Vec<&String> = value.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "case",
            "decision",
            "reasons",
            "deciding_rules",
            "matched_rules",
            "gaps",
            "within_minutes",
            "notify",
            "policy"
        ]
    );
}

#[test]
fn the_example_escalates_a_wide_outage_with_its_deadline_and_recipient() {
    let p = example();
    let c = case(
        json!({"category": "defect", "severity": "A", "affected_users": 500, "description": "Total OUTAGE since 9"}),
    );
    let outcome = p.classify(&c, &Capabilities::default());
    assert_eq!(outcome.decision, Tier::Escalate);
    assert_eq!(outcome.deciding_rules, ["wide outage"]);
    assert_eq!(
        outcome.reasons,
        ["500 users affected by an outage of m365."]
    );
    assert_eq!(outcome.within_minutes, Some(60));
    assert_eq!(outcome.notify, ["sev-a@escalations.example"]);
}

#[test]
fn the_example_leaves_service_health_to_the_customer_unless_critical() {
    let p = example();
    let moderate = p.classify(
        &case(json!({"category": "service_health"})),
        &Capabilities::default(),
    );
    assert_eq!(moderate.decision, Tier::SelfService);
    let critical = p.classify(
        &case(json!({"category": "service_health", "severity": "critical"})),
        &Capabilities::default(),
    );
    assert_eq!(critical.decision, Tier::Partner);
    assert!(critical.deciding_rules.is_empty() && critical.matched_rules.is_empty());
    assert_eq!(
        critical.reasons,
        ["The partner provides first-line support."]
    );
    assert_eq!(critical.within_minutes, None);
}

#[test]
fn comparisons_order_integers_and_severities_with_literals_on_either_side() {
    assert!(holds("affected_users >= 120", json!({})));
    assert!(!holds("affected_users > 120", json!({})));
    assert!(holds("100 <= affected_users", json!({})));
    assert!(holds("affected_users != 5", json!({})));
    assert!(holds("severity >= \"moderate\"", json!({"severity": "B"})));
    assert!(holds("severity < \"critical\"", json!({"severity": "c"})));
    assert!(holds("\"critical\" > severity", json!({})));
    assert!(holds("severity == \"A\"", json!({"severity": "critical"})));
    assert!(holds("severity in [\"minimal\", \"moderate\"]", json!({})));
    assert!(!holds("severity in []", json!({})));
    assert!(holds("affected_users in [1, 120]", json!({})));
}

#[test]
fn equality_and_in_on_strings_are_exact() {
    assert!(holds("product == \"m365\"", json!({})));
    assert!(!holds("product == \"M365\"", json!({})));
    assert!(holds("product != \"azure\"", json!({})));
    assert!(holds("category in [\"billing\", \"mail_flow\"]", json!({})));
    assert!(!holds("category in [\"Mail_Flow\"]", json!({})));
    assert!(holds("subject == \"Outbound mail stuck\"", json!({})));
    assert!(holds("customer.tenant == \"contoso\"", json!({})));
}

#[test]
fn two_fields_can_be_compared() {
    assert!(holds(
        "customer.name == customer.tenant",
        json!({"customer": {"tenant": "x", "name": "x"}})
    ));
    assert!(holds("affected_users > reopened", json!({})));
}

#[test]
fn contains_on_text_ignores_case_including_unicode() {
    assert!(holds("subject contains \"OUTBOUND\"", json!({})));
    assert!(holds(
        "description contains \"straße\"",
        json!({"description": "Die STRASSE ist Straße"})
    ));
    assert!(holds(
        "description contains \"ärger\"",
        json!({"description": "GROSSER ÄRGER HEUTE"})
    ));
    assert!(holds(
        "text contains any [\"nothing\", \"09:00\"]",
        json!({})
    ));
    assert!(holds(
        "text contains all [\"stuck\", \"tenant\"]",
        json!({})
    ));
    assert!(!holds(
        "text contains all [\"stuck\", \"absent\"]",
        json!({})
    ));
    assert!(!holds("text contains any []", json!({})));
    assert!(holds("text contains all []", json!({})));
    assert!(holds("customer.tenant contains \"CONTO\"", json!({})));
    assert!(holds("product contains any [\"zzz\", \"M3\"]", json!({})));
}

#[test]
fn a_text_holding_the_needle_exactly_contains_it_whatever_the_letters_around_it() {
    // Lower-casing a whole string turns a Greek capital sigma at the end of a
    // word into a final sigma, so "ΟΣΑ" would not contain "ΟΣ"; the final
    // sigma `ς`, `σ` and `Σ` are one letter on either side.
    for (condition, subject) in [
        ("subject contains \"ΟΣ\"", "ΟΣΑ"),
        ("subject contains \"ος\"", "ΟΣ ΑΒ"),
        ("subject contains any [\"x\", \"ΟΣ\"]", "ΟΣΑ"),
        ("text contains \"ΟΣ\"", "ΟΣΑ"),
        ("customer.tenant contains \"ΟΣ\"", "ΟΣΑ"),
        ("customer.tenant contains any [\"ΟΣ\"]", "ΟΣΑ"),
        ("customer.tenant contains customer.name", "ΟΣΑ"),
        ("subject contains customer.name", "ΟΣΑ"),
        ("text contains \"οσ\\nsince\"", "ΟΣ"),
        ("subject contains \"ΟΣ\"", "οδος"),
    ] {
        let changes = json!({
            "subject": subject,
            "customer": {"tenant": subject, "name": "ΟΣ"}
        });
        assert!(holds(condition, changes), "{condition} on {subject:?}");
    }
}

#[test]
fn text_is_the_subject_a_newline_and_the_description() {
    assert!(holds("text matches \"stuck\\nsince\"", json!({})));
    assert!(holds("text contains \"stuck\\nsince\"", json!({})));
    assert!(!holds("subject contains \"since\"", json!({})));
    // The newline is there: nothing reads the two as one line.
    assert!(!holds("text contains \"stucksince\"", json!({})));
    assert!(!holds("text contains \"stuck since\"", json!({})));
    assert!(holds(
        "text == \"Outbound mail stuck\\nSince 09:00 no outbound mail leaves the tenant.\"",
        json!({})
    ));
}

#[test]
fn matches_finds_the_regex_anywhere_and_ignores_case() {
    assert!(holds("subject matches \"MAIL\"", json!({})));
    assert!(holds("subject matches \"^outbound\"", json!({})));
    assert!(!holds("subject matches \"^mail$\"", json!({})));
    assert!(holds(
        "description matches \"\\\\d{2}:\\\\d{2}\"",
        json!({})
    ));
    assert!(holds("product matches \"^M\\\\d+\"", json!({})));
    // The regex crate's `(?-i)` turns case-insensitivity off, as documented.
    assert!(holds("subject matches \"(?-i)Outbound\"", json!({})));
    assert!(!holds("subject matches \"(?-i)outbound\"", json!({})));
    assert!(!holds("subject matches \"(?-i)OUTBOUND\"", json!({})));
}

#[test]
fn contains_on_a_set_is_exact() {
    let tried = json!({"attempted": ["ran message trace", "checked service health"]});
    assert!(holds(
        "attempted contains \"ran message trace\"",
        tried.clone()
    ));
    assert!(!holds(
        "attempted contains \"Ran Message Trace\"",
        tried.clone()
    ));
    assert!(!holds(
        "attempted contains \"message trace\"",
        tried.clone()
    ));
    assert!(holds(
        "attempted contains any [\"x\", \"checked service health\"]",
        tried.clone()
    ));
    assert!(holds(
        "attempted contains all [\"ran message trace\", \"checked service health\"]",
        tried.clone()
    ));
    assert!(!holds(
        "attempted contains all [\"ran message trace\", \"x\"]",
        tried
    ));
}

#[test]
fn every_test_on_an_absent_optional_field_is_false() {
    for condition in [
        "attributes.region == \"x\"",
        "attributes.region != \"x\"",
        "attributes.region in [\"x\"]",
        "attributes.region contains \"x\"",
        "attributes.region matches \".*\"",
        "customer.name != \"x\"",
        "service_health.status != \"service_restored\"",
        "exists service_health.incident",
    ] {
        assert!(
            !holds(condition, json!({})),
            "{condition} should be false on an absent field"
        );
    }
    assert!(holds("not attributes.region == \"x\"", json!({})));
    assert!(holds("not exists attributes.region", json!({})));
    assert!(holds(
        "attributes.region != \"x\"",
        json!({"attributes": {"region": "y"}})
    ));
    assert!(holds(
        "exists attributes.region",
        json!({"attributes": {"region": "y"}})
    ));
}

#[test]
fn contains_all_of_an_empty_list_is_false_on_an_absent_optional_field() {
    for condition in [
        "attributes.region contains all []",
        "customer.name contains all []",
        "service_health.status contains all []",
    ] {
        assert!(
            !holds(condition, json!({})),
            "{condition} should be false on an absent field"
        );
        assert!(
            holds(&format!("not {condition}"), json!({})),
            "not {condition} should hold on an absent field"
        );
    }
    assert!(holds(
        "attributes.region contains all []",
        json!({"attributes": {"region": "north"}})
    ));
    assert!(holds("text contains all []", json!({})));
    assert!(holds("attempted contains all []", json!({})));
}

#[test]
fn an_empty_service_health_leaves_both_fields_absent() {
    assert!(!holds(
        "exists service_health.status",
        json!({"service_health": {}})
    ));
    assert!(holds(
        "service_health.status == \"investigating\"",
        json!({"service_health": {"status": "investigating"}})
    ));
}

#[test]
fn not_and_or_follow_precedence() {
    assert!(holds(
        "product == \"azure\" or product == \"m365\" and severity == \"moderate\"",
        json!({})
    ));
    assert!(!holds(
        "(product == \"azure\" or product == \"m365\") and severity == \"critical\"",
        json!({})
    ));
    assert!(holds(
        "not product == \"azure\" and not not product == \"m365\"",
        json!({})
    ));
}

#[test]
fn reopened_is_zero_at_intake_and_counts_reopens() {
    let p = policy("rule \"r\" {\n  when reopened >= 2\n  then escalate\n  because \"reopened {reopened} times\"\n}");
    let fresh = case(json!({}));
    assert_eq!(
        p.classify(&fresh, &Capabilities::default()).decision,
        Tier::Partner
    );
    let outcome = p.classify(&fresh.with_reopened(2), &Capabilities::default());
    assert_eq!(outcome.decision, Tier::Escalate);
    assert_eq!(outcome.reasons, ["reopened 2 times"]);
}

#[test]
fn partner_capabilities_are_readable() {
    let p = policy("rule \"r\" {\n  when partner.id == \"p-1\" and partner.training contains \"exchange\"\n  then self_service\n}");
    let outcome = p.classify(&case(json!({})), &partner(&["exchange"], &[], &[]));
    assert_eq!(outcome.decision, Tier::SelfService);
}

const GAPS_POLICY: &str = r#"
requirement "mail" {
  when product == "m365"
  needs training "exchange", tooling "trace", training "exchange"
}
requirement "big" {
  when affected_users > 100
  needs tooling "trace", documentation "runbook"
}
requirement "never" {
  when product == "azure"
  needs training "azure"
}
rule "lacking" {
  when gaps.count >= 2 and gaps.tooling contains "trace"
  then escalate
  because "{gaps.count} gaps ({gaps.any}): {gaps} / tooling {gaps.tooling}"
}
"#;

#[test]
fn a_gap_is_one_entry_per_kind_item_and_requirement() {
    let p = policy(GAPS_POLICY);
    let outcome = p.classify(&case(json!({})), &partner(&["exchange"], &[], &[]));
    let tooling: Vec<(&str, &str)> = outcome
        .gaps
        .tooling
        .iter()
        .map(|g| (g.item.as_str(), g.requirement.as_str()))
        .collect();
    assert_eq!(tooling, [("trace", "mail"), ("trace", "big")]);
    assert!(outcome.gaps.training.is_empty());
    assert_eq!(outcome.gaps.documentation.len(), 1);
    assert_eq!(outcome.decision, Tier::Escalate);
    assert_eq!(
        outcome.reasons,
        ["3 gaps (true): documentation: runbook; tooling: trace / tooling trace"]
    );
}

#[test]
fn gaps_any_and_gaps_count_see_a_gap_of_every_kind() {
    let p = policy(
        "requirement \"r\" {\n  when product == \"m365\"\n  needs training \"t\", documentation \"d\", tooling \"x\"\n}\nrule \"any\" {\n  when gaps.any\n  then escalate\n}\nrule \"one\" {\n  when gaps.count == 1\n  then partner\n}",
    );
    let lacking_one = [
        ("training", partner(&[], &["d"], &["x"])),
        ("documentation", partner(&["t"], &[], &["x"])),
        ("tooling", partner(&["t"], &["d"], &[])),
    ];
    for (kind, capabilities) in lacking_one {
        let outcome = p.classify(&case(json!({})), &capabilities);
        let matched: Vec<&str> = outcome
            .matched_rules
            .iter()
            .map(|m| m.rule.as_str())
            .collect();
        assert_eq!(matched, ["any", "one"], "lacking {kind}");
    }
}

#[test]
fn a_partner_with_every_capability_has_no_gaps() {
    let p = policy(GAPS_POLICY);
    let outcome = p.classify(
        &case(json!({})),
        &partner(&["exchange"], &["runbook"], &["trace"]),
    );
    assert_eq!(outcome.gaps.count(), 0);
    assert_eq!(outcome.decision, Tier::Partner);
}

#[test]
fn the_highest_tier_decides_and_lists_follow_policy_order_across_sorted_files() {
    let loaded = load(&[
        ("b.rules", "rule \"b escalate\" {\n  when product == \"m365\"\n  then escalate\n  because \"b\"\n  within 2h\n  notify \"x@e.example\", \"y@e.example\"\n}\ndefault partner because \"d\""),
        ("a.rules", "rule \"a self\" {\n  when gaps.count == 0\n  then self_service\n}\nrule \"a escalate\" {\n  when severity >= \"minimal\"\n  then escalate\n  because \"a\"\n  within 30m\n  notify \"y@e.example\", \"z@e.example\"\n}\nrule \"a partner\" {\n  when product == \"m365\"\n  then partner\n}"),
    ]);
    let outcome = loaded
        .policy
        .classify(&case(json!({})), &Capabilities::default());
    assert_eq!(outcome.decision, Tier::Escalate);
    assert_eq!(outcome.deciding_rules, ["a escalate", "b escalate"]);
    let matched: Vec<&str> = outcome
        .matched_rules
        .iter()
        .map(|m| m.rule.as_str())
        .collect();
    assert_eq!(matched, ["a self", "a escalate", "a partner", "b escalate"]);
    assert_eq!(outcome.reasons, ["a", "b"]);
    assert_eq!(outcome.within_minutes, Some(30));
    assert_eq!(
        outcome.notify,
        ["y@e.example", "z@e.example", "x@e.example"]
    );
}

#[test]
fn the_longest_within_the_language_allows_is_kept_and_a_shorter_one_wins() {
    let longest = "rule \"far\" {\n  when product == \"m365\"\n  then escalate\n  within 18446744073709551615m\n}\n";
    let outcome = policy(longest).classify(&case(json!({})), &Capabilities::default());
    assert_eq!(outcome.within_minutes, Some(u64::MAX));
    let both = format!(
        "{longest}rule \"near\" {{\n  when product == \"m365\"\n  then escalate\n  within 2h\n}}\n"
    );
    let outcome = policy(&both).classify(&case(json!({})), &Capabilities::default());
    assert_eq!(outcome.within_minutes, Some(120));
    let none = "rule \"none\" {\n  when product == \"m365\"\n  then escalate\n}\n";
    let outcome = policy(none).classify(&case(json!({})), &Capabilities::default());
    assert_eq!(outcome.within_minutes, None);
}

#[test]
fn a_reason_can_quote_text_the_subject_a_newline_and_the_description() {
    let p = policy(
        "rule \"quoted\" {\n  when text matches \"stuck\\\\nOutbound\"\n  then escalate\n  because \"[{text}] ({subject})\"\n}\nrule \"plain\" {\n  when product == \"m365\"\n  then escalate\n  because \"<{text}>\"\n}",
    );
    let outcome = p.classify(
        &case(json!({"subject": "Mail stuck", "description": "Outbound mail waits"})),
        &Capabilities::default(),
    );
    assert_eq!(
        outcome.reasons,
        [
            "[Mail stuck\nOutbound mail waits] (Mail stuck)",
            "<Mail stuck\nOutbound mail waits>"
        ]
    );
}

#[test]
fn partner_outranks_self_service() {
    let p = policy("rule \"s\" {\n  when gaps.count == 0\n  then self_service\n}\nrule \"p\" {\n  when product == \"m365\"\n  then partner\n}");
    let outcome = p.classify(&case(json!({})), &Capabilities::default());
    assert_eq!(
        (outcome.decision, outcome.deciding_rules.clone()),
        (Tier::Partner, vec!["p".into()])
    );
}

#[test]
fn an_unless_stops_a_rule_from_matching() {
    let p = policy("rule \"r\" {\n  when product == \"m365\"\n  unless severity == \"moderate\"\n  then escalate\n}");
    assert_eq!(
        p.classify(&case(json!({})), &Capabilities::default())
            .decision,
        Tier::Partner
    );
}

#[test]
fn a_deciding_rule_without_because_adds_no_reason() {
    let p = policy("rule \"r\" {\n  when product == \"m365\"\n  then escalate\n}");
    let outcome = p.classify(&case(json!({})), &Capabilities::default());
    assert!(outcome.reasons.is_empty());
    assert_eq!(outcome.within_minutes, None);
}

#[test]
fn templates_render_fields_sets_braces_and_absent_fields() {
    let p = policy(
        "rule \"r\" {\n  when product == \"m365\"\n  then escalate\n  because \"{{{product}}} {severity} {affected_users} [{attempted}] [{attributes.region}] [{customer.name}] {gaps.any} [{gaps}] {partner.training}\"\n}",
    );
    let c = case(json!({"attempted": ["b step", "a step"], "severity": "A"}));
    let outcome = p.classify(&c, &partner(&["z", "y"], &[], &[]));
    assert_eq!(
        outcome.reasons,
        ["{m365} critical 120 [a step, b step] [] [] false [] y, z"]
    );
}

#[test]
fn a_template_placeholder_must_name_an_attribute() {
    let found = crate::helpers::errors(
        "rule \"r\" {\n  when gaps.any\n  then partner\n  because \"in {attributes.}\"\n}",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].message, "unknown field `attributes.` in template");
    assert_eq!(found[0].span_text, "{attributes.}");
}

#[test]
fn the_policy_hash_covers_sorted_names_and_contents() {
    let files = [
        ("b.rules", "default partner because \"d\"\n"),
        ("a.rules", "# nothing\n"),
    ];
    let loaded = load(&files);
    let mut hasher = Sha256::new();
    for (name, text) in [files[1], files[0]] {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    let expected = format!("sha256:{}", hex::encode(hasher.finalize()));
    assert_eq!(loaded.policy.hash(), expected);
    assert_eq!(
        loaded
            .policy
            .classify(&case(json!({})), &Capabilities::default())
            .policy,
        expected
    );
}

#[test]
fn intake_refuses_values_outside_the_declared_ones_naming_the_field() {
    let p = policy(
        "values category = [\"billing\", \"mail_flow\"]\nvalues attributes.region = [\"north\"]",
    );
    assert!(p.check_declared_values(&case(json!({}))).is_ok());
    let error = p
        .check_declared_values(&case(json!({"category": "mailflow"})))
        .expect_err("refused");
    assert_eq!(error.field, "category");
    assert!(
        error.message.contains("`billing`, `mail_flow`"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("did you mean `mail_flow`?"),
        "{}",
        error.message
    );
    let error = p
        .check_declared_values(&case(json!({"attributes": {"region": "south"}})))
        .expect_err("refused");
    assert_eq!(error.field, "attributes.region");
    assert!(p
        .check_declared_values(&case(json!({"attributes": {}})))
        .is_ok());
}

#[test]
fn intake_under_a_declaration_with_no_values_says_the_declaration_lists_none() {
    let p = policy("values category = []");
    let error = p
        .check_declared_values(&case(json!({"category": "billing"})))
        .expect_err("refused");
    assert_eq!(error.field, "category");
    assert_eq!(
        error.message,
        "`billing` is not an allowed value; the policy's `values` declaration for this field lists none"
    );
}

#[test]
fn rule_and_requirement_names_are_listed_in_policy_order() {
    let p = policy(GAPS_POLICY);
    assert_eq!(p.rule_names(), ["lacking"]);
    assert_eq!(p.requirement_names(), ["mail", "big", "never"]);
    let (_, matched) = p.classify_traced(&case(json!({})), &Capabilities::default());
    assert_eq!(matched, ["mail", "big"]);
}

#[test]
fn a_keyword_list_with_more_than_sixty_four_keywords_is_searched_whole() {
    let words: Vec<String> = (0..200).map(|i| format!("\"word{i:03}\"")).collect();
    let condition = format!("description contains any [{}]", words.join(", "));
    assert!(holds(
        &condition,
        json!({"description": "only WORD199 here"})
    ));
    assert!(!holds(
        &condition,
        json!({"description": "only word200 here"})
    ));
    // So many keywords end in the scan, which still finds one that straddles
    // the subject and the description of `text`.
    let straddling = format!(
        "text contains any [{}, \"stuck\\nsince\"]",
        words.join(", ")
    );
    assert!(holds(&straddling, json!({})));
}

#[test]
fn loading_reads_only_rules_files_of_the_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("a.rules"),
        "default partner because \"d\"\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not a policy").expect("write");
    std::fs::create_dir(dir.path().join("sub.rules")).expect("dir");
    let loaded = Policy::load_dir(dir.path()).expect("loads");
    assert_eq!(loaded.policy.sources().len(), 1);
    let missing = Policy::load_dir(&dir.path().join("absent")).expect_err("missing dir");
    assert!(missing.to_string().contains("absent"), "{missing}");
    let _ = SourceFile {
        name: String::new(),
        text: String::new(),
    };
}

#[test]
fn operands_put_in_cost_order_still_give_what_the_condition_says() {
    // Written dearest first, evaluated cheapest first (the order itself is
    // checked by the unit tests in `program.rs`). Every combination of the
    // four tests must give what the condition says.
    let p = policy(
        "rule \"r\" {\n  when (text contains any [\"outage\"] or severity == \"critical\") \
         and not attempted contains \"reset password\" and affected_users > 10\n  then escalate\n}\n",
    );
    for outage in [false, true] {
        for critical in [false, true] {
            for reset in [false, true] {
                for many in [false, true] {
                    let c = case(json!({
                        "description": if outage { "A regional OUTAGE since noon" } else { "Mail is slow" },
                        "severity": if critical { "critical" } else { "moderate" },
                        "attempted": if reset { json!(["reset password"]) } else { json!([]) },
                        "affected_users": if many { 50 } else { 5 },
                    }));
                    let expected = (outage || critical) && !reset && many;
                    let decision = p.classify(&c, &Capabilities::default()).decision;
                    assert_eq!(
                        decision == Tier::Escalate,
                        expected,
                        "outage {outage}, critical {critical}, reset {reset}, many {many}"
                    );
                }
            }
        }
    }
}

/// A let may use an earlier let more than once. Each let doubles the paths
/// through such a chain, so anything that walked every path (the index
/// collecting guards once did) would never finish loading this policy.
#[test]
fn a_chain_of_lets_each_using_the_last_twice_loads_and_classifies() {
    for op in ["and", "or"] {
        let mut text = String::from("let l0 = product == \"azure\"\n");
        for i in 1..=64 {
            let last = i - 1;
            text.push_str(&format!(
                "let l{i} = (l{last} {op} l{last}) and not (not l{last})\n"
            ));
        }
        text.push_str(
            "requirement \"q\" {\n  when l64\n  needs training \"t\"\n}\n\
             rule \"x\" {\n  when l64 and gaps.any\n  unless l64 and not l64\n  then escalate\n}\n\
             default partner because \"d\"\n",
        );
        let policy = policy(&text);
        let azure = policy.classify(&case(json!({"product": "azure"})), &Capabilities::default());
        assert_eq!(azure.decision, Tier::Escalate, "{op}");
        assert_eq!(azure.deciding_rules.len(), 1, "{op}");
        assert_eq!(azure.gaps.training.len(), 1, "{op}");
        let m365 = policy.classify(&case(json!({"product": "m365"})), &Capabilities::default());
        assert_eq!(m365.decision, Tier::Partner, "{op}");
        assert!(m365.matched_rules.is_empty() && !m365.gaps.any(), "{op}");
    }
}
