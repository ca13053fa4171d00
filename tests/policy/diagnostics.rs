//! Every load-time check and warning: the message, the help and the exact
//! source text the caret underlines.

use escalator::policy::{DiagnosticSeverity, Policy, SourceFile};

use serde_json::json;

use crate::helpers::{errors, holds, warnings};

/// Asserts that `source` fails with exactly one error with this message, help and underlined text.
#[track_caller]
fn error(source: &str, message: &str, help: Option<&str>, underlined: &str) {
    let found = errors(source);
    let errors: Vec<_> = found.iter().filter(|d| d.is_error()).collect();
    assert_eq!(
        errors.len(),
        1,
        "expected one error for {source:?}, got {found:#?}"
    );
    let d = errors[0];
    assert_eq!(d.message, message, "message for {source:?}");
    assert_eq!(d.help.as_deref(), help, "help for {source:?}");
    assert_eq!(d.span_text, underlined, "underlined text for {source:?}");
    assert_eq!(d.file.as_deref(), Some("p.rules"));
}

#[test]
fn a_syntax_error_says_what_was_expected_and_underlines_what_was_found() {
    error(
        "rule \"a\" {\n  when product == \"m365\"\n  then esc\n}",
        "expected a tier (`self_service`, `partner` or `escalate`), found `esc`",
        Some("did you mean `escalate`?"),
        "esc",
    );
}

#[test]
fn a_misspelt_keyword_gets_the_closest_one_the_parser_expected() {
    error(
        "rule \"a\" {\n  when product == \"m365\"\n  then escalte\n}",
        "expected a tier (`self_service`, `partner` or `escalate`), found `escalte`",
        Some("did you mean `escalate`?"),
        "escalte",
    );
    error(
        "rule \"a\" {\n  whne product == \"m365\"\n  then partner\n}",
        "expected `when`, found `whne`",
        Some("did you mean `when`?"),
        "whne",
    );
    error(
        "requirement \"r\" {\n  when product == \"m365\"\n  needs trainng \"x\"\n}",
        "expected `training`, `documentation` or `tooling`, found `trainng`",
        Some("did you mean `training`?"),
        "trainng",
    );
    // A word like no keyword gets no guess.
    error(
        "rule \"a\" {\n  when product == \"m365\"\n  then zebra\n}",
        "expected a tier (`self_service`, `partner` or `escalate`), found `zebra`",
        None,
        "zebra",
    );
}

#[test]
fn a_syntax_error_is_located_by_line_and_character_column() {
    let found = errors("let é = 1");
    assert_eq!((found[0].line, found[0].column), (1, 5));
    let found = errors("# ünïcödé\nlet x = product ==");
    assert_eq!((found[0].line, found[0].column), (3, 1), "{found:#?}");
}

#[test]
fn an_unterminated_string_is_a_syntax_error() {
    error(
        "let x = subject contains \"abc\nlet y = x",
        "unterminated string",
        Some("close it with `\"` on the same line; write a newline as `\\n`"),
        "\"abc",
    );
}

#[test]
fn an_unknown_escape_is_a_syntax_error_with_the_fix() {
    error(
        "let x = subject matches \"\\d+\"",
        "unknown escape `\\d` in string",
        Some("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`; write `\\\\d` for a backslash"),
        "\\d",
    );
}

#[test]
fn a_trailing_comma_after_the_last_notify_address_is_a_syntax_error() {
    error(
        "rule \"a\" {\n  when gaps.any\n  then escalate\n  notify \"a@b.example\",\n}",
        "expected a string, found `}`",
        Some("only `[...]` lists take a trailing comma; remove the last `,`"),
        "}",
    );
}

#[test]
fn a_trailing_comma_after_the_last_need_is_a_syntax_error() {
    let found =
        errors("requirement \"r\" {\n  when product == \"m365\"\n  needs training \"a\",\n}");
    assert_eq!(
        found[0].message,
        "expected `training`, `documentation` or `tooling`, found `}`"
    );
}

#[test]
fn a_missing_closing_brace_or_comma_is_named_where_it_is_missing() {
    // The clause after `notify` is wrong, not `notify` itself.
    error(
        "rule \"a\" {\n  when gaps.any\n  then escalate\n  notify \"a@b.example\"\n  within 1h\n}",
        "expected `,` or `}`, found `within`",
        None,
        "within",
    );
    error(
        "values product = [\"a\" \"b\"]",
        "expected `,` or `]`, found a string",
        None,
        "\"b\"",
    );
    error(
        "rule \"a\" {\n  when (gaps.any\n  then escalate\n}",
        "expected an operator (`==`, `!=`, `<`, `<=`, `>`, `>=`), `and`, `or`, `in`, `contains`, `matches` or `)`, found `then`",
        None,
        "then",
    );
    error(
        "rule \"a\" {\n  when gaps.any\n  then escalate\n",
        "expected `because`, `within`, `notify` or `}`, found `default`",
        None,
        "default",
    );
}

#[test]
fn clauses_out_of_order_are_a_syntax_error_with_the_order_in_help() {
    error(
        "rule \"a\" {\n  when gaps.any\n  then escalate\n  within 1h\n  because \"x\"\n}",
        "expected `notify` or `}`, found `because`",
        Some("a rule's clauses go in this order, each at most once: `when`, `unless`, `then`, `because`, `within`, `notify`"),
        "because",
    );
    error(
        "requirement \"r\" {\n  needs training \"a\"\n  when gaps.any\n}",
        "expected `when`, found `needs`",
        Some("a requirement has `when`, then `needs`"),
        "needs",
    );
}

#[test]
fn a_misspelt_first_statement_names_the_statements_and_the_closest() {
    let statements = "expected end of file, `values`, `let`, `requirement`, `rule` or `default`";
    error(
        "rul \"t\" {\n  when gaps.any\n  then escalate\n}",
        &format!("{statements}, found `rul`"),
        Some("did you mean `rule`?"),
        "rul",
    );
    error("}", &format!("{statements}, found `}}`"), None, "}");
}

#[test]
fn operators_and_quotes_from_other_languages_get_this_languages_spelling() {
    for (text, found, help, underlined) in [
        (
            "let a = gaps.any && product == \"m365\"",
            "`&`",
            "write `and`",
            "&&",
        ),
        (
            "let a = gaps.any || product == \"m365\"",
            "`|`",
            "write `or`",
            "||",
        ),
        (
            "let a = category == 'fraud'",
            "`'`",
            "strings take double quotes: `\"…\"`",
            "'",
        ),
        (
            "let a = category = \"fraud\"",
            "`=`",
            "compare with `==`",
            "=",
        ),
        ("let a = !gaps.any", "`!`", "write `not`", "!"),
    ] {
        let found_errors = errors(text);
        assert_eq!(found_errors.len(), 1, "{text}: {found_errors:#?}");
        let diagnostic = &found_errors[0];
        assert!(
            diagnostic.message.ends_with(&format!("found {found}")),
            "{text}: {}",
            diagnostic.message
        );
        assert_eq!(diagnostic.help.as_deref(), Some(help), "{text}");
        assert_eq!(diagnostic.span_text, underlined, "{text}");
    }
    // A single `=` where no comparison goes gets no comparison help.
    for text in [
        "rule \"r\" {\n  when gaps.any\n  then escalate\n  within = 1h\n}",
        "rule \"r\" {\n  when gaps.any\n  then escalate\n  notify = \"a@b.example\"\n}",
    ] {
        let found_errors = errors(text);
        assert_eq!(found_errors.len(), 1, "{text}: {found_errors:#?}");
        assert_ne!(
            found_errors[0].help.as_deref(),
            Some("compare with `==`"),
            "{text}"
        );
    }
}

#[test]
fn a_clause_missing_at_the_end_of_the_file_is_marked_after_the_last_word() {
    for text in [
        "default partner\n\n",
        "default partner  # why\n# the end\n\n",
    ] {
        let found = errors(text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].message, "expected `because`, found end of file");
        assert_eq!((found[0].line, found[0].column), (1, 16), "{text:?}");
        assert_eq!(found[0].span_text, "");
    }
}

#[test]
fn a_byte_order_mark_or_an_invisible_character_is_named_not_shown() {
    error(
        "\u{feff}default partner because \"d\"",
        "expected end of file, `values`, `let`, `requirement`, `rule` or `default`, found a byte order mark (U+FEFF)",
        Some("save the file as UTF-8 without a byte order mark"),
        "\u{feff}",
    );
    let help = "delete it: only spaces, tabs and newlines may separate words (text pasted from a web page or a document often carries such characters)";
    error(
        "let a = product ==\u{a0}\"m365\"",
        "expected a field or let name, a string, a duration (`30m`, `4h`, `2d`) or an integer, found the invisible character U+00A0",
        Some(help),
        "\u{a0}",
    );
    error(
        "let a = product == \"m365\"\u{200b}",
        "expected end of file, `values`, `let`, `requirement`, `rule`, `default`, `and` or `or`, found the invisible character U+200B",
        Some(help),
        "\u{200b}",
    );
}

#[test]
fn a_typographic_quote_gets_help() {
    error(
        "rule \u{201c}a\u{201d} {\n  when gaps.any\n  then partner\n}",
        "expected a string, found `\u{201c}`",
        Some("strings take straight double quotes: `\"…\"`"),
        "\u{201c}",
    );
}

#[test]
fn a_reserved_word_cannot_name_a_let() {
    error(
        "let notify = product == \"m365\"",
        "expected a name, found `notify`",
        Some("reserved words cannot name a let or a field"),
        "notify",
    );
}

#[test]
fn a_syntax_error_stops_only_its_own_file() {
    let sources = vec![
        SourceFile { name: "a.rules".to_owned(), text: "rule \"a\" { when }".to_owned() },
        SourceFile { name: "b.rules".to_owned(), text: "let x = customer.nmae == \"critical\"\nrule \"b\" {\n  when x\n  then partner\n}\ndefault partner because \"d\"".to_owned() },
    ];
    let diagnostics = Policy::from_sources(sources)
        .expect_err("must fail")
        .into_vec();
    let files: Vec<_> = diagnostics
        .iter()
        .map(|d| d.file.clone().unwrap_or_default())
        .collect();
    assert_eq!(files, ["a.rules", "b.rules"]);
    assert_eq!(diagnostics[1].message, "unknown field `customer.nmae`");
}

#[test]
fn an_unknown_field_suggests_the_closest_one() {
    error(
        "let x = severty == \"critical\"\nrule \"a\" {\n  when x\n  then partner\n}",
        "unknown field or let `severty`",
        Some("did you mean `severity`?"),
        "severty",
    );
}

#[test]
fn an_unknown_dotted_field_suggests_the_closest_one() {
    error(
        "rule \"a\" {\n  when customer.nmae == \"x\"\n  then partner\n}",
        "unknown field `customer.nmae`",
        Some("did you mean `customer.name`?"),
        "customer.nmae",
    );
}

#[test]
fn an_unknown_let_suggests_the_closest_let() {
    error(
        "let outage = text contains \"outage\"\nrule \"a\" {\n  when outgae\n  then partner\n}",
        "unknown field or let `outgae`",
        Some("did you mean `outage`?"),
        "outgae",
    );
}

#[test]
fn contains_on_an_integer_is_a_type_error() {
    error(
        "rule \"a\" {\n  when affected_users contains \"x\"\n  then partner\n}",
        "`contains` needs a set, text or a string on the left; `affected_users` is an integer",
        Some("compare integers with `==`, `<`, `>=` …"),
        "affected_users",
    );
}

#[test]
fn comparing_severity_with_an_integer_is_a_type_error() {
    error(
        "rule \"a\" {\n  when severity > 3\n  then partner\n}",
        "`severity` compares with a severity name, not an integer",
        Some("write `\"minimal\"`, `\"moderate\"` or `\"critical\"`"),
        "3",
    );
}

#[test]
fn comparing_text_with_an_integer_is_a_type_error() {
    error(
        "rule \"a\" {\n  when description == 5\n  then partner\n}",
        "`description` is text, but this is an integer",
        Some("compare it with a string such as `\"…\"`"),
        "5",
    );
}

#[test]
fn ordering_strings_is_a_type_error() {
    error(
        "rule \"a\" {\n  when product < \"m365\"\n  then partner\n}",
        "`<` orders integers and severities; `product` is a string",
        Some("use `==`, `!=` or `in`"),
        "product",
    );
}

#[test]
fn an_unknown_severity_literal_suggests_a_severity() {
    error(
        "rule \"a\" {\n  when severity >= \"moderat\"\n  then partner\n}",
        "unknown severity \"moderat\"",
        Some("did you mean \"moderate\"?"),
        "\"moderat\"",
    );
}

#[test]
fn a_literal_outside_the_declared_values_suggests_a_declared_one() {
    error(
        "values category = [\"billing\", \"subscription_change\"]\nrule \"a\" {\n  when category == \"subscripton\"\n  then partner\n}",
        "unknown category \"subscripton\"",
        Some("did you mean \"subscription_change\"?"),
        "\"subscripton\"",
    );
}

#[test]
fn a_literal_in_a_list_outside_the_declared_values_lists_them_when_nothing_is_close() {
    error(
        "values product = [\"m365\", \"azure\"]\nrule \"a\" {\n  when product in [\"m365\", \"zzzzzz\"]\n  then partner\n}",
        "unknown product \"zzzzzz\"",
        Some("the declared values of `product` are \"m365\", \"azure\""),
        "\"zzzzzz\"",
    );
}

#[test]
fn a_literal_of_a_field_declared_with_no_values_says_the_declaration_is_empty() {
    error(
        "values product = []\nrule \"a\" {\n  when product == \"m365\"\n  then partner\n}",
        "unknown product \"m365\"",
        Some("`values product` declares no value at all; list the values it may take"),
        "\"m365\"",
    );
}

#[test]
fn an_invalid_regex_is_a_load_error() {
    error(
        "rule \"a\" {\n  when subject matches \"(unclosed\"\n  then partner\n}",
        "invalid regex: unclosed group",
        Some("regexes use the syntax of the `regex` crate; write `\\\\` for a backslash inside a string"),
        "\"(unclosed\"",
    );
}

#[test]
fn a_regex_over_the_size_limit_is_a_load_error() {
    let found = errors("rule \"a\" {\n  when subject matches \"\\\\w{1000}\\\\w{1000}\\\\w{1000}\"\n  then partner\n}");
    assert!(
        found[0].message.starts_with("regex is too large"),
        "{found:#?}"
    );
}

#[test]
fn a_duplicate_rule_name_is_reported_at_the_later_one_with_a_note_to_the_first() {
    let found = errors("rule \"a\" {\n  when gaps.any\n  then partner\n}\nrule \"a\" {\n  when gaps.count > 0\n  then escalate\n}");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].message, "duplicate rule name \"a\"");
    assert_eq!(
        found[0].help.as_deref(),
        Some("rule names are unique across the policy; rename one of them")
    );
    assert_eq!((found[0].line, found[0].span_text.as_str()), (5, "\"a\""));
    assert_eq!(found[0].notes[0].line, 1);
    assert_eq!(found[0].notes[0].message, "the first rule \"a\" is here");
}

#[test]
fn a_duplicate_requirement_name_is_an_error_but_a_rule_may_share_it() {
    let source = "requirement \"x\" {\n  when product == \"m365\"\n  needs training \"a\"\n}\nrule \"x\" {\n  when gaps.any\n  then escalate\n}\nrequirement \"x\" {\n  when product == \"azure\"\n  needs tooling \"b\"\n}";
    let found = errors(source);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].message, "duplicate requirement name \"x\"");
    assert_eq!(found[0].line, 9);
}

#[test]
fn a_policy_without_default_is_reported_without_a_location() {
    let source = SourceFile {
        name: "p.rules".to_owned(),
        text: "let x = gaps.any".to_owned(),
    };
    let found = Policy::from_sources(vec![source])
        .expect_err("must fail")
        .into_vec();
    let missing = found.iter().find(|d| d.is_error()).expect("an error");
    assert_eq!(missing.message, "the policy has no `default`");
    assert_eq!(
        (missing.file.clone(), missing.line, missing.column),
        (None, 0, 0)
    );
    assert!(missing
        .render()
        .starts_with("error: the policy has no `default`\n"));
}

#[test]
fn a_second_default_is_an_error_at_the_second() {
    error(
        "default partner because \"a\"\ndefault escalate because \"b\"",
        "the policy has more than one `default`",
        Some("keep exactly one `default` in the whole policy"),
        "default escalate because \"b\"",
    );
}

#[test]
fn a_let_used_before_it_is_defined_is_an_error() {
    error(
        "let a = b and gaps.any\nlet b = product == \"m365\"\nrule \"r\" {\n  when a\n  then partner\n}",
        "let `b` is used before it is defined",
        Some("a let may use only the lets defined before it; move this let below it"),
        "b",
    );
}

#[test]
fn a_let_may_use_lets_of_files_sorting_earlier_only() {
    let sources = vec![
        SourceFile { name: "b.rules".to_owned(), text: "let late = product == \"m365\"\n".to_owned() },
        SourceFile { name: "a.rules".to_owned(), text: "let early = late\nrule \"r\" {\n  when early\n  then partner\n}\ndefault partner because \"d\"".to_owned() },
    ];
    let found = Policy::from_sources(sources)
        .expect_err("must fail")
        .into_vec();
    assert_eq!(found[0].message, "let `late` is used before it is defined");
    assert_eq!(found[0].file.as_deref(), Some("a.rules"));
}

#[test]
fn a_requirement_may_not_read_gaps() {
    error(
        "requirement \"r\" {\n  when gaps.any\n  needs training \"a\"\n}",
        "a requirement cannot read `gaps.any`",
        Some("gaps are computed from the requirements; test the case's fields instead"),
        "gaps.any",
    );
}

#[test]
fn a_requirement_may_not_read_gaps_through_a_let() {
    let found = errors("let lacking = gaps.count > 1\nrequirement \"r\" {\n  when lacking\n  needs training \"a\"\n}");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].message,
        "a requirement cannot read `gaps.*` through let `lacking`"
    );
    assert_eq!(found[0].span_text, "lacking");
    assert_eq!(found[0].line, 3);
    assert_eq!(found[0].notes[0].line, 1);
}

#[test]
fn a_let_may_not_be_named_like_a_field() {
    error(
        "let text = subject contains \"x\"",
        "let `text` is named like the field `text`",
        Some("choose another name, so that the field stays readable"),
        "text",
    );
}

#[test]
fn a_duplicate_let_is_an_error() {
    let found =
        errors("let a = gaps.any\nlet a = gaps.any\nrule \"r\" {\n  when a\n  then partner\n}");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].message, "duplicate let `a`");
    assert_eq!(found[0].line, 2);
}

#[test]
fn exists_on_a_field_that_is_always_present_is_an_error() {
    error(
        "rule \"r\" {\n  when exists product\n  then partner\n}",
        "`product` is always present",
        Some("`exists` applies to optional fields: `customer.name`, `attributes.NAME`, `service_health.incident`, `service_health.status`"),
        "product",
    );
}

#[test]
fn a_duration_outside_within_is_a_type_error() {
    error(
        "rule \"r\" {\n  when affected_users > 4h\n  then partner\n}",
        "a duration can only be used in `within`",
        Some("compare integers without a unit"),
        "4h",
    );
}

#[test]
fn a_field_alone_must_be_a_condition() {
    error(
        "rule \"r\" {\n  when product\n  then partner\n}",
        "`product` is a string, not a condition",
        Some("compare it, e.g. `product == \"…\"`"),
        "product",
    );
}

#[test]
fn a_let_cannot_be_compared() {
    error(
        "let a = gaps.any\nrule \"r\" {\n  when a == \"x\"\n  then partner\n}",
        "`a` is a condition and cannot be compared",
        Some("use it alone: `a` or `not a`"),
        "a",
    );
}

#[test]
fn in_on_a_set_points_to_contains_any() {
    error(
        "rule \"r\" {\n  when attempted in [\"x\"]\n  then partner\n}",
        "`attempted` is a set of strings; `in` tests one value",
        Some("use `attempted contains any [...]`"),
        "attempted",
    );
}

#[test]
fn two_literals_cannot_be_compared() {
    error(
        "rule \"r\" {\n  when \"a\" == \"a\"\n  then partner\n}",
        "this comparison has a literal on both sides",
        Some("one side must be a field"),
        "\"a\"",
    );
}

#[test]
fn values_apply_only_to_string_fields() {
    error(
        "values severity = [\"minimal\"]",
        "`values` applies to string fields; `severity` is a severity",
        Some("declare values for `product`, `category`, `attributes.NAME`, `service_health.status` …"),
        "severity",
    );
}

#[test]
fn values_may_be_declared_once_per_path() {
    let found = errors("values product = [\"a\"]\nvalues product = [\"b\"]");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].message, "`values` for `product` is declared twice");
    assert_eq!((found[0].line, found[0].notes[0].line), (2, 1));
}

#[test]
fn a_template_names_only_known_fields() {
    error(
        "rule \"r\" {\n  when gaps.any\n  then partner\n  because \"for {prodct}\"\n}",
        "unknown field `prodct` in template",
        Some("did you mean `{product}`?"),
        "{prodct}",
    );
}

#[test]
fn a_template_brace_must_be_closed_or_doubled() {
    error(
        "rule \"r\" {\n  when gaps.any\n  then partner\n  because \"a { b\"\n}",
        "unclosed `{` in template",
        Some("close the placeholder with `}`, or write `{{` for a literal brace"),
        "{ b",
    );
    error(
        "rule \"r\" {\n  when gaps.any\n  then partner\n  because \"a } b\"\n}",
        "unmatched `}` in template",
        Some("write `}}` for a literal brace"),
        "}",
    );
}

#[test]
fn an_empty_placeholder_or_a_let_in_a_template_is_named_as_such() {
    error(
        "rule \"r\" {\n  when gaps.any\n  then partner\n  because \"a {} b\"\n}",
        "empty placeholder `{}` in template",
        Some("name a field, e.g. `{product}`, or write `{{}}` for literal braces"),
        "{}",
    );
    error(
        "let big = affected_users > 100\nrule \"r\" {\n  when big\n  then partner\n  because \"{big} users\"\n}",
        "let `big` cannot be shown in a template",
        Some("a let is a condition; a template shows fields and `{gaps}`"),
        "{big}",
    );
}

#[test]
fn a_notify_address_must_be_an_email_address() {
    error(
        "rule \"r\" {\n  when gaps.any\n  then escalate\n  notify \"not an address\"\n}",
        "\"not an address\" is not a valid email address",
        Some("write an address such as \"sev-a@escalations.example\""),
        "\"not an address\"",
    );
}

#[test]
fn nesting_too_deep_is_refused_before_parsing() {
    let deep = format!("let a = {}gaps.any{}", "(".repeat(100), ")".repeat(100));
    let found = errors(&deep);
    assert_eq!(found[0].message, "nested more than 64 levels deep");
}

#[test]
fn a_run_of_more_than_64_not_is_refused_as_nesting_too_deep() {
    let deep = format!("let a = {}gaps.any", "not ".repeat(100_000));
    error(
        &deep,
        "nested more than 64 levels deep",
        Some("two `not` cancel out; write at most one"),
        "not",
    );
    let found = errors(&deep);
    assert_eq!((found[0].line, found[0].column), (1, 9 + 64 * 4));
    // 64 are still a condition (an even number: `product == "m365"` itself).
    assert!(holds(
        &format!("{}product == \"m365\"", "not ".repeat(64)),
        json!({})
    ));
}

/// `let l0 = …`, then `let lK = l(K-1)` up to `l(count-1)`, used by a rule.
fn let_chain(count: usize) -> String {
    let mut text = String::from("let l0 = product == \"m365\"\n");
    for k in 1..count {
        text.push_str(&format!("let l{k} = l{}\n", k - 1));
    }
    text.push_str(&format!(
        "rule \"r\" {{\n  when l{}\n  then escalate\n}}\n",
        count - 1
    ));
    text
}

#[test]
fn a_chain_of_lets_nested_past_the_depth_limit_is_refused_at_the_first_let_too_deep() {
    // Evaluating `l99999` would recurse 100,000 levels and overflow the stack.
    let found = errors(&let_chain(100_000));
    let errors: Vec<_> = found.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        errors[0].message,
        "condition nested more than 1000 levels deep, counting the lets it uses"
    );
    assert_eq!(
        errors[0].help.as_deref(),
        Some("combine lets side by side (`a and b`) rather than each inside the next")
    );
    assert_eq!(errors[0].span_text, "l999");
    assert_eq!((errors[0].line, errors[0].column), (1001, 13));
    // A `when` 1000 levels deep (999 lets and the rule's own level) still
    // loads and decides.
    let policy = crate::helpers::policy(&let_chain(999));
    let outcome = policy.classify(&crate::helpers::case(json!({})), &Default::default());
    assert_eq!(outcome.decision, escalator::case::Tier::Escalate);
}

#[test]
fn all_errors_are_reported_together_sorted_by_file_line_and_column() {
    let sources = vec![
        SourceFile { name: "b.rules".to_owned(), text: "rule \"b\" {\n  when severty == \"x\" and prodct == \"y\"\n  then partner\n}".to_owned() },
        SourceFile { name: "a.rules".to_owned(), text: "rule \"a\" {\n  when affected_users contains \"x\"\n  then partner\n}\ndefault partner because \"d\"".to_owned() },
    ];
    let found = Policy::from_sources(sources)
        .expect_err("must fail")
        .into_vec();
    let places: Vec<(String, usize, usize)> = found
        .iter()
        .map(|d| (d.file.clone().unwrap_or_default(), d.line, d.column))
        .collect();
    assert_eq!(
        places,
        [
            ("a.rules".to_owned(), 2, 8),
            ("b.rules".to_owned(), 2, 8),
            ("b.rules".to_owned(), 2, 27)
        ]
    );
}

#[test]
fn an_unused_let_is_a_warning() {
    let found = warnings("let spare = gaps.any");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, DiagnosticSeverity::Warning);
    assert_eq!(found[0].message, "let `spare` is never used");
    assert_eq!(
        found[0].help.as_deref(),
        Some("use it in a rule or requirement, or remove it")
    );
    assert_eq!(found[0].span_text, "spare");
}

#[test]
fn a_deadline_of_zero_is_a_warning() {
    let found = warnings("rule \"now\" {\n  when gaps.any\n  then escalate\n  within 0h\n}");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, DiagnosticSeverity::Warning);
    assert_eq!(
        found[0].message,
        "`within 0h` is due the moment the case arrives"
    );
    assert_eq!(
        found[0].help.as_deref(),
        Some("give the time the desk has to act, such as `1h`")
    );
    assert_eq!(found[0].span_text, "within 0h");
    assert!(
        warnings("rule \"soon\" {\n  when gaps.any\n  then escalate\n  within 1m\n}").is_empty()
    );
}

#[test]
fn a_rule_shadowed_by_a_stronger_rule_with_the_same_when_is_a_warning() {
    let found = warnings(
        "rule \"weak\" {\n  when category == \"billing\"  and severity >= \"moderate\"\n  then partner\n}\nrule \"strong\" {\n  when (category == \"billing\") and severity >= \"moderate\"\n  then escalate\n}",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].message, "rule \"weak\" can never decide");
    assert_eq!(
        found[0].help.as_deref(),
        Some("rule \"strong\" (escalate) has the same `when` and no `unless`, so it matches whenever this one does")
    );
    assert_eq!(found[0].span_text, "\"weak\"");
    assert_eq!(found[0].notes[0].line, 5);
}

#[test]
fn a_stronger_rule_with_an_unless_does_not_shadow() {
    let found = warnings(
        "rule \"weak\" {\n  when category == \"billing\"\n  then partner\n}\nrule \"strong\" {\n  when category == \"billing\"\n  unless severity == \"minimal\"\n  then escalate\n}",
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn carets_stay_under_the_span_after_wide_characters_and_tabs() {
    let found = errors("let x = subject contains \"无法登录\" and\tsevrity == \"A\"\nrule \"a\" {\n  when x\n  then partner\n}");
    let rendered = found[0].render();
    let lines: Vec<&str> = rendered.lines().collect();
    // "无法登录" takes eight columns in a terminal, not four.
    assert_eq!(
        lines[2],
        "1 | let x = subject contains \"无法登录\" and\tsevrity == \"A\""
    );
    assert_eq!(
        lines[3],
        format!("  | {}\t^^^^^^^", " ".repeat(39)),
        "{rendered}"
    );
    let found = errors("let x = subject contains \"无法\" and not 登录");
    let rendered = found[0].render();
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(lines[3], format!("  | {}^^", " ".repeat(40)), "{rendered}");
}

#[test]
fn a_diagnostic_renders_as_location_source_line_caret_and_help() {
    let found =
        errors("let x = severty == \"critical\"\nrule \"a\" {\n  when x\n  then partner\n}");
    let rendered = found[0].render();
    insta::assert_snapshot!("rendered_unknown_field", rendered);
    assert_eq!(
        found[0].to_json(),
        serde_json::json!({
            "file": "p.rules", "line": 1, "column": 9, "severity": "error",
            "message": "unknown field or let `severty`", "help": "did you mean `severity`?",
            "notes": []
        })
    );
}
