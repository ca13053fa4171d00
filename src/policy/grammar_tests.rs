//! Grammar tests: each grammar rule must consume the whole input it is
//! given, and refuse what the language does not allow.
use super::{Rule, RulesParser};
use pest::Parser as _;

/// Whether `rule` parses all of `input`.
fn consumes(rule: Rule, input: &str) -> bool {
    match RulesParser::parse(rule, input) {
        Ok(mut pairs) => pairs
            .next()
            .is_some_and(|p| p.as_span().end() == input.len()),
        Err(_) => false,
    }
}

#[test]
fn each_grammar_rule_consumes_its_whole_input() {
    let accepted: &[(Rule, &str)] = &[
        (Rule::file, "# only a comment\n"),
        (Rule::values_decl, "values product = [\"a\", \"b\",]"),
        (Rule::let_decl, "let outage = text contains \"outage\""),
        (Rule::requirement, "requirement \"r\" { when gaps_free needs training \"a\", tooling \"b\" }"),
        (Rule::rule_decl, "rule \"r\" { when a unless b then escalate because \"x\" within 4h notify \"a@b\", \"c@d\" }"),
        (Rule::default_decl, "default partner because \"x\""),
        (Rule::when_clause, "when a and b"),
        (Rule::unless_clause, "unless not a"),
        (Rule::then_clause, "then self_service"),
        (Rule::because_clause, "because \"the {product}\""),
        (Rule::within_clause, "within 30m"),
        (Rule::notify_clause, "notify \"a@b\""),
        (Rule::needs_clause, "needs documentation \"d\""),
        (Rule::need, "tooling \"t\""),
        (Rule::need_kind, "training"),
        (Rule::tier, "escalate"),
        (Rule::expr, "a or b and not c"),
        (Rule::conjunction, "a and (b or c)"),
        (Rule::negation, "not not a"),
        (Rule::group, "(a)"),
        (Rule::test, "severity >= \"moderate\""),
        (Rule::test, "product in [\"a\"]"),
        (Rule::test, "text contains any [\"x\", \"y\"]"),
        (Rule::test, "attempted contains all []"),
        (Rule::test, "attempted contains \"x\""),
        (Rule::test, "subject matches \"^a\""),
        (Rule::test, "gaps.any"),
        (Rule::exists_test, "exists attributes.region"),
        (Rule::comparison, "== 5"),
        (Rule::compare_op, "<="),
        (Rule::membership, "in [1, 2]"),
        (Rule::contains_any, "contains any [\"a\"]"),
        (Rule::contains_all, "contains all [\"a\"]"),
        (Rule::contains_one, "contains \"a\""),
        (Rule::matching, "matches \"a+\""),
        (Rule::list, "[1, 2,]"),
        (Rule::path, "partner.training"),
        (Rule::path, "gaps.any"),
        (Rule::name, "outage_2"),
        (Rule::word, "_x1"),
        (Rule::string, "\"a \\\"b\\\" \\\\ \\n \\t\""),
        (Rule::duration, "2d"),
        (Rule::integer, "10_000"),
        (Rule::digits, "1_0"),
        (Rule::keyword, "contains"),
    ];
    for (grammar_rule, input) in accepted {
        assert!(
            consumes(*grammar_rule, input),
            "{grammar_rule:?} should consume {input:?}"
        );
    }
}

#[test]
fn grammar_rules_refuse_what_the_language_does_not_allow() {
    let refused: &[(Rule, &str)] = &[
        (Rule::name, "rule"),
        (Rule::name, "partner"),
        (Rule::path, "not"),
        (Rule::string, "\"line\nbreak\""),
        (Rule::integer, "4h"),
        (Rule::integer, "1__0"),
        (Rule::duration, "4w"),
        (Rule::notify_clause, "notify \"a\","),
        (Rule::needs_clause, "needs training \"a\","),
        (Rule::word, "Upper"),
        (Rule::keyword, "notify_me"),
        (Rule::default_decl, "default partner"),
        (Rule::rule_decl, "rule \"r\" { then partner when a }"),
    ];
    for (grammar_rule, input) in refused {
        assert!(
            !consumes(*grammar_rule, input),
            "{grammar_rule:?} should refuse {input:?}"
        );
    }
}
