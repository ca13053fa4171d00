//! Property tests over generated policies and cases: formatting never
//! changes meaning and is idempotent, the files' order and names never
//! change a decision, and the parser never panics.

use escalator::case::Case;
use escalator::policy::{format_source, Outcome, Policy, SourceFile};
use proptest::prelude::*;

use crate::generate::{self, Shape};

fn sources(files: &[(String, String)]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|(n, t)| SourceFile {
            name: n.clone(),
            text: t.clone(),
        })
        .collect()
}

fn cases(seed: u64, count: usize) -> Vec<(Case, escalator::case::Capabilities)> {
    generate::cases(seed, count)
        .iter()
        .map(|value| {
            let input = Case::from_json_with_partner(value).expect("generated cases are valid");
            (input.case, input.partner.unwrap_or_default())
        })
        .collect()
}

/// An outcome without the policy hash (the text differs, the meaning must not).
fn meaning(mut outcome: Outcome) -> Outcome {
    outcome.policy = escalator::policy::Name::default();
    outcome
}

/// The policy with every `when` hidden behind `not not (…)`: the index finds
/// no guard in it and the condition is no flat conjunction, so every rule
/// and requirement is walked in full, node by node.
fn without_guards(files: &[(String, String)]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|(name, text)| {
            let text: Vec<String> = text
                .lines()
                .map(|line| match line.split_once("when ") {
                    Some((indent, condition)) if indent.trim().is_empty() => {
                        format!("{indent}when not not ({condition})")
                    }
                    _ => line.to_owned(),
                })
                .collect();
            SourceFile {
                name: name.clone(),
                text: text.join("\n"),
            }
        })
        .collect()
}

/// Like the benchmark's policies: every `when` starts with guards; more
/// than 64 requirements and rules, so their bitsets span two words.
const ANCHORED: Shape = Shape {
    rules: 70,
    requirements: 8,
    lets: 4,
    noisy: false,
    nested_lets: false,
    anchored: true,
    wide: true,
};

const SMALL: Shape = Shape {
    rules: 12,
    requirements: 4,
    lets: 4,
    noisy: true,
    nested_lets: true,
    anchored: false,
    wide: true,
};

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn formatting_keeps_the_meaning_and_is_idempotent(seed in any::<u64>()) {
        let files = generate::policy(seed, SMALL);
        let original = Policy::from_sources(sources(&files)).expect("generated policy loads").policy;
        let mut formatted = Vec::new();
        for file in sources(&files) {
            let once = format_source(&file).expect("formats");
            let twice = format_source(&SourceFile { name: file.name.clone(), text: once.clone() }).expect("formats again");
            prop_assert_eq!(&once, &twice);
            formatted.push(SourceFile { name: file.name, text: once });
        }
        let reformatted = Policy::from_sources(formatted).expect("formatted policy loads").policy;
        for (case, partner) in cases(seed ^ 0x5eed, 40) {
            prop_assert_eq!(meaning(original.classify(&case, &partner)), meaning(reformatted.classify(&case, &partner)));
        }
    }

    #[test]
    fn the_guard_index_changes_no_outcome(seed in any::<u64>()) {
        let files = generate::policy(seed, ANCHORED);
        let indexed = Policy::from_sources(sources(&files)).expect("loads").policy;
        let walked = Policy::from_sources(without_guards(&files)).expect("loads without guards").policy;
        for (case, partner) in cases(seed ^ 0x1dea, 60) {
            prop_assert_eq!(meaning(indexed.classify(&case, &partner)), meaning(walked.classify(&case, &partner)));
        }
    }

    #[test]
    fn the_order_of_files_never_changes_an_outcome(seed in any::<u64>(), rotate in 0usize..7) {
        let files = generate::policy(seed, SMALL);
        let mut shuffled = sources(&files);
        shuffled.reverse();
        let by = rotate % shuffled.len();
        shuffled.rotate_left(by);
        let a = Policy::from_sources(sources(&files)).expect("loads").policy;
        let b = Policy::from_sources(shuffled).expect("loads").policy;
        prop_assert_eq!(a.hash(), b.hash());
        for (case, partner) in cases(seed, 30) {
            prop_assert_eq!(a.classify(&case, &partner), b.classify(&case, &partner));
        }
    }

    #[test]
    fn renaming_files_never_changes_a_decision(seed in any::<u64>(), rotate in 1usize..6) {
        // Lets live in one file and use only fields, so any file order is valid.
        let shape = Shape { nested_lets: false, ..SMALL };
        let files = generate::policy(seed, shape);
        let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        let renamed: Vec<(String, String)> = files
            .iter()
            .enumerate()
            .map(|(i, (_, text))| (names[(i + rotate) % names.len()].clone(), text.clone()))
            .collect();
        let a = Policy::from_sources(sources(&files)).expect("loads").policy;
        let b = Policy::from_sources(sources(&renamed)).expect("loads").policy;
        fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> { v.sort(); v }
        for (case, partner) in cases(seed, 30) {
            let (x, y) = (a.classify(&case, &partner), b.classify(&case, &partner));
            prop_assert_eq!(x.decision, y.decision);
            prop_assert_eq!(x.within_minutes, y.within_minutes);
            prop_assert_eq!(sorted(x.deciding_rules.clone()), sorted(y.deciding_rules.clone()));
            prop_assert_eq!(sorted(x.notify.clone()), sorted(y.notify.clone()));
            prop_assert_eq!(sorted(x.reasons.clone()), sorted(y.reasons.clone()));
            prop_assert_eq!(x.gaps.count(), y.gaps.count());
        }
    }

    /// `classify_each` fetches later cases ahead of their turn; it must
    /// give every case the outcome `classify` gives, in order, whatever the
    /// number of cases (none, fewer than it looks ahead, or many).
    #[test]
    fn classifying_a_batch_gives_each_case_its_own_outcome(seed in any::<u64>(), count in 0usize..12) {
        let policy = Policy::from_sources(sources(&generate::policy(seed, ANCHORED))).expect("loads").policy;
        let batch = cases(seed ^ 0xba7c, count);
        let each: Vec<Outcome> = policy.classify_each(&batch).collect();
        let one_by_one: Vec<Outcome> = batch.iter().map(|(case, partner)| policy.classify(case, partner)).collect();
        prop_assert_eq!(each.len(), count);
        prop_assert_eq!(each, one_by_one);
    }

    #[test]
    fn the_parser_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = Policy::from_sources(vec![SourceFile { name: "x.rules".to_owned(), text: text.clone() }]);
        let _ = format_source(&SourceFile { name: "x.rules".to_owned(), text });
    }

    #[test]
    fn the_parser_never_panics_on_mutated_policies(seed in any::<u64>(), cuts in proptest::collection::vec((any::<usize>(), "[ -~\n]{0,3}"), 1..6)) {
        let files = generate::policy(seed, Shape { rules: 3, requirements: 1, lets: 2, noisy: true, nested_lets: true, anchored: false, wide: true });
        let mut text: String = files.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join("\n");
        for (at, insert) in cuts {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) { at -= 1; }
            let end = (at + insert.len()).min(text.len());
            let end = if text.is_char_boundary(end) { end } else { at };
            text.replace_range(at..end, &insert);
        }
        let result = Policy::from_sources(vec![SourceFile { name: "m.rules".to_owned(), text: text.clone() }]);
        if let Err(diagnostics) = result {
            for d in diagnostics.all() {
                let _ = d.render();
            }
        }
        let _ = format_source(&SourceFile { name: "m.rules".to_owned(), text });
    }
}

/// Letters that fold in interesting ways: ASCII in both cases, then a sharp
/// s, a Greek sigma in its three forms, the Kelvin sign (whose lower case is
/// `k`).
const LETTERS: &[&str] = &[
    "a", "B", "b", "k", "K", " ", "-", "\u{212a}", "ß", "Σ", "σ", "ς",
];
/// The first letters, those that are ASCII.
const ASCII_LETTERS: usize = 7;

/// A word of `LETTERS`, or of its ASCII ones only (an ASCII text is
/// lower-cased on a path of its own).
fn word(letters: &[usize], ascii: bool) -> String {
    let choice = if ascii { ASCII_LETTERS } else { LETTERS.len() };
    letters.iter().map(|i| LETTERS[i % choice]).collect()
}

/// Lower-cases as the keyword tests are specified to: Unicode rules, every
/// sigma as `σ`.
fn folded(text: &str) -> String {
    text.to_lowercase().replace('ς', "σ")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// A case asks about its first keywords one search at a time (a list of
    /// several with one search for them all) and about the rest with one
    /// scan of every keyword; none of these may change an answer.
    #[test]
    fn keyword_tests_answer_as_lower_cased_substring_tests(
        keywords in proptest::collection::vec(
            (0usize..3, 0usize..3, proptest::collection::vec(proptest::collection::vec(any::<usize>(), 1..4), 1..4)),
            1..16,
        ),
        subject in proptest::collection::vec(any::<usize>(), 1..30),
        description in proptest::collection::vec(any::<usize>(), 1..400),
        ascii in (any::<bool>(), any::<bool>(), any::<bool>()),
    ) {
        let fields = ["subject", "description", "text"];
        let mut text = String::new();
        // One keyword alone, `contains any [...]`, or `contains all [...]`.
        let test = |mode: usize, words: &[Vec<usize>]| -> String {
            let quoted: Vec<String> = words.iter().map(|w| format!("\"{}\"", word(w, ascii.0))).collect();
            match mode {
                0 => format!("contains {}", quoted[0]),
                1 => format!("contains any [{}]", quoted.join(", ")),
                _ => format!("contains all [{}]", quoted.join(", ")),
            }
        };
        for (i, (field, mode, words)) in keywords.iter().enumerate() {
            text.push_str(&format!(
                "rule \"r{i}\" {{\n  when {} {}\n  then escalate\n}}\n",
                fields[*field],
                test(*mode, words)
            ));
        }
        text.push_str("default partner because \"d\"\n");
        let policy = Policy::from_sources(vec![SourceFile { name: "k.rules".into(), text }])
            .expect("keyword policy loads")
            .policy;
        // A subject or description of spaces only would be refused as blank.
        let (subject, description) = (
            format!("a{}", word(&subject, ascii.1)),
            format!("a{}", word(&description, ascii.2)),
        );
        let case = Case::from_json(&crate::helpers::case_json(serde_json::json!({
            "subject": subject,
            "description": description,
        })))
        .expect("valid case");
        let outcome = policy.classify(&case, &escalator::case::Capabilities::default());
        let matched: Vec<String> = outcome.matched_rules.iter().map(|m| m.rule.to_string()).collect();
        let whole = format!("{subject}\n{description}");
        let expected: Vec<String> = keywords
            .iter()
            .enumerate()
            .filter(|(_, (field, mode, words))| {
                let haystack = folded([&subject, &description, &whole][*field]);
                let holds = |w: &Vec<usize>| haystack.contains(&folded(&word(w, ascii.0)));
                match mode {
                    0 => holds(&words[0]),
                    1 => words.iter().any(holds),
                    _ => words.iter().all(holds),
                }
            })
            .map(|(i, _)| format!("r{i}"))
            .collect();
        prop_assert_eq!(matched, expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, .. ProptestConfig::default() })]

    /// `contains` on string fields, and with a string field as what is
    /// looked for, ignores case as the keyword tests do. One policy
    /// classifies every case in turn, so a case never sees what an earlier,
    /// longer value left behind.
    #[test]
    fn contains_on_string_fields_answers_as_lower_cased_substring_tests(
        cases in proptest::collection::vec(
            (
                proptest::collection::vec(any::<usize>(), 1..24),
                proptest::collection::vec(any::<usize>(), 1..4),
                any::<bool>(),
                any::<bool>(),
            ),
            1..6,
        ),
        keywords in proptest::collection::vec(proptest::collection::vec(any::<usize>(), 1..4), 1..4),
        ascii in any::<bool>(),
    ) {
        let quoted: Vec<String> = keywords.iter().map(|w| format!("\"{}\"", word(w, ascii))).collect();
        let tests = [
            format!("attributes.value contains {}", quoted[0]),
            format!("attributes.value contains any [{}]", quoted.join(", ")),
            format!("attributes.value contains all [{}]", quoted.join(", ")),
            "attributes.value contains attributes.needle".to_owned(),
            "text contains attributes.needle".to_owned(),
            "subject contains attributes.needle".to_owned(),
        ];
        let mut text = String::new();
        for (i, test) in tests.iter().enumerate() {
            text.push_str(&format!("rule \"r{i}\" {{\n  when {test}\n  then escalate\n}}\n"));
        }
        text.push_str("default partner because \"d\"\n");
        let policy = Policy::from_sources(vec![SourceFile { name: "s.rules".into(), text }])
            .expect("string-field policy loads")
            .policy;
        for (value, needle, value_ascii, needle_ascii) in &cases {
            let (value, needle) = (word(value, *value_ascii), word(needle, *needle_ascii));
            let subject = format!("a{needle}");
            let case = Case::from_json(&crate::helpers::case_json(serde_json::json!({
                "subject": subject,
                "attributes": {"value": value, "needle": needle.to_uppercase()},
            })))
            .expect("valid case");
            let outcome = policy.classify(&case, &escalator::case::Capabilities::default());
            let matched: Vec<String> = outcome.matched_rules.iter().map(|m| m.rule.to_string()).collect();
            let (value, needle) = (folded(&value), folded(&needle.to_uppercase()));
            let whole = folded(&format!("{subject}\n{}", case.description()));
            let has = |w: &Vec<usize>| value.contains(&folded(&word(w, ascii)));
            let holds = [
                has(&keywords[0]),
                keywords.iter().any(has),
                keywords.iter().all(has),
                value.contains(&needle),
                whole.contains(&needle),
                folded(&subject).contains(&needle),
            ];
            let expected: Vec<String> = holds
                .iter()
                .enumerate()
                .filter(|(_, holds)| **holds)
                .map(|(i, _)| format!("r{i}"))
                .collect();
            prop_assert_eq!(matched, expected);
        }
    }
}
