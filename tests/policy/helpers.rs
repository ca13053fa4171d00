//! Small helpers: build policies from text, cases from JSON.

use escalator::case::{Capabilities, Case};
use escalator::policy::{Diagnostic, Loaded, Policy, SourceFile};
use serde_json::{json, Value};

/// Loads a policy from `(name, text)` files; panics with the rendered diagnostics on errors.
pub fn load(files: &[(&str, &str)]) -> Loaded {
    let sources = files
        .iter()
        .map(|(n, t)| SourceFile {
            name: (*n).to_owned(),
            text: (*t).to_owned(),
        })
        .collect();
    match Policy::from_sources(sources) {
        Ok(loaded) => loaded,
        Err(diagnostics) => panic!("policy should load:\n{diagnostics}"),
    }
}

/// Loads a one-file policy, adding a default when the text has none.
pub fn policy(text: &str) -> Policy {
    load(&[("p.rules", &with_default(text))]).policy
}

pub fn with_default(text: &str) -> String {
    if text.contains("default ") {
        text.to_owned()
    } else {
        format!("{text}\ndefault partner because \"default\"\n")
    }
}

/// The diagnostics of a one-file policy that must fail to load (a default is added when missing).
pub fn errors(text: &str) -> Vec<Diagnostic> {
    let source = SourceFile {
        name: "p.rules".to_owned(),
        text: with_default(text),
    };
    match Policy::from_sources(vec![source]) {
        Ok(_) => panic!("policy should not load:\n{text}"),
        Err(diagnostics) => diagnostics.into_vec(),
    }
}

/// The warnings of a one-file policy that loads.
pub fn warnings(text: &str) -> Vec<Diagnostic> {
    load(&[("p.rules", &with_default(text))]).warnings
}

/// A valid case: the base case with `changes` merged over it (null removes a key).
pub fn case_json(changes: Value) -> Value {
    let mut base = json!({
        "external_id": "CASE-1",
        "customer": {"tenant": "contoso"},
        "product": "m365",
        "category": "mail_flow",
        "severity": "moderate",
        "subject": "Outbound mail stuck",
        "description": "Since 09:00 no outbound mail leaves the tenant.",
        "affected_users": 120
    });
    if let (Some(base), Some(changes)) = (base.as_object_mut(), changes.as_object()) {
        for (key, value) in changes {
            if value.is_null() {
                base.remove(key);
            } else {
                base.insert(key.clone(), value.clone());
            }
        }
    }
    base
}

pub fn case(changes: Value) -> Case {
    Case::from_json(&case_json(changes)).expect("valid case")
}

pub fn partner(training: &[&str], documentation: &[&str], tooling: &[&str]) -> Capabilities {
    Capabilities {
        id: "p-1".to_owned(),
        training: training.iter().map(|s| (*s).to_owned()).collect(),
        documentation: documentation.iter().map(|s| (*s).to_owned()).collect(),
        tooling: tooling.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Whether a condition holds for a case (a rule escalates when it does).
pub fn holds(condition: &str, changes: Value) -> bool {
    let p = policy(&format!(
        "rule \"r\" {{\n  when {condition}\n  then escalate\n}}\n"
    ));
    p.classify(&case(changes), &Capabilities::default())
        .decision
        == escalator::case::Tier::Escalate
}
