//! Syntax errors for people: pest's failure becomes a span, "expected …"
//! wording from a readable name for every grammar rule, and help for the
//! usual slips (unterminated strings, trailing commas, reserved words,
//! nesting too deep, a misspelt keyword).

use super::{nested_too_deep, Rule, SyntaxError, MAX_NESTING};
use crate::policy::ast::Span;
use crate::suggest::suggest;

/// A readable name for every grammar rule, used in "expected …" messages.
fn rule_name(grammar_rule: Rule) -> &'static str {
    match grammar_rule {
        Rule::EOI => "end of file",
        Rule::WHITESPACE => "whitespace",
        Rule::COMMENT => "a comment",
        Rule::file => "a policy file",
        Rule::statement => "a statement",
        Rule::value => "a value",
        Rule::literal => "a literal",
        Rule::word_char => "a letter, digit or `_`",
        Rule::values_decl => "`values`",
        Rule::let_decl => "`let`",
        Rule::requirement => "`requirement`",
        Rule::rule_decl => "`rule`",
        Rule::default_decl => "`default`",
        Rule::when_clause => "`when`",
        Rule::unless_clause => "`unless`",
        Rule::then_clause => "`then`",
        Rule::because_clause => "`because`",
        Rule::within_clause => "`within`",
        Rule::notify_clause => "`notify`",
        Rule::needs_clause => "`needs`",
        Rule::need => "a need (`training`, `documentation` or `tooling` and a string)",
        Rule::need_kind => "`training`, `documentation` or `tooling`",
        Rule::tier => "a tier (`self_service`, `partner` or `escalate`)",
        Rule::expr | Rule::conjunction | Rule::negation => "a condition",
        Rule::group => "`(`",
        Rule::test => "a test",
        Rule::exists_test => "`exists`",
        Rule::comparison => "a comparison",
        Rule::compare_op => "an operator (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        Rule::membership => "`in`",
        Rule::contains_any | Rule::contains_all | Rule::contains_one => "`contains`",
        Rule::matching => "`matches`",
        Rule::list => "a list `[...]`",
        Rule::path => "a field or let name",
        Rule::name => "a name",
        Rule::word => "an identifier",
        Rule::string => "a string",
        Rule::duration => "a duration (`30m`, `4h`, `2d`)",
        Rule::integer => "an integer",
        Rule::digits => "digits",
        Rule::keyword => "a keyword",
        Rule::kw_values => "`values`",
        Rule::kw_let => "`let`",
        Rule::kw_requirement => "`requirement`",
        Rule::kw_rule => "`rule`",
        Rule::kw_default => "`default`",
        Rule::kw_when => "`when`",
        Rule::kw_unless => "`unless`",
        Rule::kw_then => "`then`",
        Rule::kw_because => "`because`",
        Rule::kw_within => "`within`",
        Rule::kw_notify => "`notify`",
        Rule::kw_needs => "`needs`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::kw_in => "`in`",
        Rule::kw_contains => "`contains`",
        Rule::kw_any => "`any`",
        Rule::kw_all => "`all`",
        Rule::kw_matches => "`matches`",
        Rule::kw_exists => "`exists`",
        Rule::kw_training => "`training`",
        Rule::kw_documentation => "`documentation`",
        Rule::kw_tooling => "`tooling`",
        Rule::kw_self_service => "`self_service`",
        Rule::kw_partner => "`partner`",
        Rule::kw_escalate => "`escalate`",
    }
}

pub(super) fn convert_error(
    error: &pest::error::Error<Rule>,
    source: &str,
    file: usize,
) -> SyntaxError {
    let reported = match error.location {
        pest::error::InputLocation::Pos(pos) => pos,
        pest::error::InputLocation::Span((start, _)) => start,
    };
    // pest places its error at the furthest grammar *rule* it tried, but a
    // missing `}`, `)`, `]` or `,` is a literal: its attempts (tracked with
    // error detail on) may lie further on, and name what the author forgot.
    let (start, punctuation) = furthest_punctuation(error, reported);
    let rest = &source[start.min(source.len())..];
    if let Some(Err(length)) = string_literal(rest) {
        return SyntaxError {
            span: Span {
                file,
                start,
                end: start + length,
            },
            message: "unterminated string".to_owned(),
            help: Some("close it with `\"` on the same line; write a newline as `\\n`".to_owned()),
        };
    }
    let span = if rest.is_empty() {
        // At the end of the file the caret goes right after the last code
        // written, not on an empty line or a comment below it.
        let at = end_of_code(source);
        Span {
            file,
            start: at,
            end: at,
        }
    } else {
        Span {
            file,
            start,
            end: start + token_len(rest),
        }
    };
    let mut expected: Vec<&'static str> = Vec::new();
    if start == reported {
        if let pest::error::ErrorVariant::ParsingError { positives, .. } = &error.variant {
            for positive in positives {
                // pest names the whole file when its first statement fails:
                // what it expected there is a statement, or nothing at all.
                let names: &[Rule] = match positive {
                    Rule::file => &[
                        Rule::EOI,
                        Rule::kw_values,
                        Rule::kw_let,
                        Rule::kw_requirement,
                        Rule::kw_rule,
                        Rule::kw_default,
                    ],
                    other => std::slice::from_ref(other),
                };
                for name in names.iter().map(|rule| rule_name(*rule)) {
                    if !expected.contains(&name) {
                        expected.push(name);
                    }
                }
            }
        }
    }
    for name in punctuation {
        if !expected.contains(&name) {
            expected.push(name);
        }
    }
    let found = describe_found(rest);
    let message = match expected.as_slice() {
        [] => format!("unexpected {found}"),
        [one] => format!("expected {one}, found {found}"),
        [init @ .., last] => format!("expected {} or {last}, found {found}", init.join(", ")),
    };
    let before = source[..start.min(source.len())].trim_end();
    let names_expected = expected
        .iter()
        .any(|e| *e == rule_name(Rule::name) || *e == rule_name(Rule::path));
    let help = if let Some(help) = lookalike_help(rest, &expected) {
        Some(help)
    } else if before.ends_with(',') && !rest.starts_with(']') {
        Some("only `[...]` lists take a trailing comma; remove the last `,`".to_owned())
    } else if names_expected && is_reserved(rest) {
        Some("reserved words cannot name a let or a field".to_owned())
    } else if is_clause(rest) && expected.iter().any(|e| CLAUSES.contains(e)) {
        if rest.starts_with("needs") || expected.contains(&"`needs`") {
            Some("a requirement has `when`, then `needs`".to_owned())
        } else {
            Some(
                "a rule's clauses go in this order, each at most once: `when`, `unless`, `then`, \
                 `because`, `within`, `notify`"
                    .to_owned(),
            )
        }
    } else {
        keyword_near_miss(rest, &expected).map(|keyword| format!("did you mean `{keyword}`?"))
    };
    SyntaxError {
        span,
        message,
        help,
    }
}

/// The expected keyword closest to the word found, when the word looks
/// like a typo of one (`escalte` where a tier goes, `whne` for `when`).
fn keyword_near_miss(rest: &str, expected: &[&str]) -> Option<String> {
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if word.is_empty() {
        return None;
    }
    // The keywords are the backquoted words of the expected names.
    let keywords = expected
        .iter()
        .flat_map(|name| name.split('`').skip(1).step_by(2))
        .filter(|keyword| keyword.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    suggest(&word, keywords)
}

/// The clause keywords as [`rule_name`] names them.
const CLAUSES: [&str; 7] = [
    "`when`",
    "`unless`",
    "`then`",
    "`because`",
    "`within`",
    "`notify`",
    "`needs`",
];

/// Whether `rest` starts with a clause keyword.
fn is_clause(rest: &str) -> bool {
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    CLAUSES.contains(&format!("`{word}`").as_str())
}

/// Where the error really is and the closing punctuation expected there.
/// pest's own position counts only grammar rules; when a literal such as
/// the `}` that closes a rule was tried further on, the error is there.
fn furthest_punctuation(
    error: &pest::error::Error<Rule>,
    reported: usize,
) -> (usize, Vec<&'static str>) {
    let Some(attempts) = error.parse_attempts() else {
        return (reported, Vec::new());
    };
    if attempts.max_position < reported {
        return (reported, Vec::new());
    }
    let mut names = Vec::new();
    for token in attempts.expected_tokens() {
        let name = match token.to_string().as_str() {
            "}" => "`}`",
            ")" => "`)`",
            "]" => "`]`",
            "," => "`,`",
            "=" => "`=`",
            "{" => "`{`",
            _ => continue,
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        return (reported, names);
    }
    (attempts.max_position, names)
}

/// Where the code of `source` ends: its length without the trailing
/// whitespace and comments.
fn end_of_code(source: &str) -> usize {
    let mut end = source.trim_end().len();
    for comment in crate::policy::format::comments(source).iter().rev() {
        if comment.end < end {
            break;
        }
        end = source[..comment.start].trim_end().len();
    }
    end
}

/// A string literal at the start of `rest`: its length up to the end of
/// its line (or of the text) when it is not closed there, `Err`; its length
/// with the closing quote when it is, `Ok`. `None` when `rest` does not
/// start with `"`.
fn string_literal(rest: &str) -> Option<Result<usize, usize>> {
    let mut chars = rest.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => return Some(Ok(at + 1)),
            '\n' | '\r' => return Some(Err(at)),
            _ => {}
        }
    }
    Some(Err(rest.len()))
}

/// The length of the token at the start of `rest`, to underline: a word,
/// a whole string (unterminated ones are caught before), a run of
/// operator characters, or one character.
fn token_len(rest: &str) -> usize {
    let word: usize = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .map(char::len_utf8)
        .sum();
    if word > 0 {
        return word;
    }
    if let Some(Ok(length)) = string_literal(rest) {
        return length;
    }
    let operator = rest.bytes().take_while(|b| b"&|=!<>".contains(b)).count();
    if operator > 0 {
        return operator;
    }
    rest.chars().next().map_or(0, char::len_utf8)
}

fn describe_found(rest: &str) -> String {
    let Some(first) = rest.chars().next() else {
        return "end of file".to_owned();
    };
    if first.is_ascii_alphanumeric() || first == '_' {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        return format!("`{word}`");
    }
    if first == '"' {
        return "a string".to_owned();
    }
    if first == '\n' || first == '\r' {
        return "end of line".to_owned();
    }
    if first == '\u{feff}' {
        return "a byte order mark (U+FEFF)".to_owned();
    }
    if is_invisible(first) {
        return format!("the invisible character U+{:04X}", u32::from(first));
    }
    format!("`{first}`")
}

/// Characters a terminal shows as blank or not at all, other than the
/// whitespace the language allows: no-break and zero-width spaces, controls.
fn is_invisible(c: char) -> bool {
    !matches!(c, ' ' | '\t' | '\n' | '\r')
        && (c.is_whitespace()
            || c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}'))
}

/// Help for a character that only looks right (a BOM, an invisible
/// character, a typographic quote), or for another language's spelling of
/// an operator or a string (`&&`, `'…'`, `=` where a comparison goes).
fn lookalike_help(rest: &str, expected: &[&str]) -> Option<String> {
    let first = rest.chars().next()?;
    if first == '\u{feff}' {
        return Some("save the file as UTF-8 without a byte order mark".to_owned());
    }
    if is_invisible(first) {
        return Some(
            "delete it: only spaces, tabs and newlines may separate words (text pasted from \
             a web page or a document often carries such characters)"
                .to_owned(),
        );
    }
    if matches!(
        first,
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' | '\u{ff02}'
    ) {
        return Some("strings take straight double quotes: `\"…\"`".to_owned());
    }
    // Habits from other languages, each with this language's spelling.
    let help = if rest.starts_with("&&") {
        "write `and`"
    } else if rest.starts_with("||") {
        "write `or`"
    } else if first == '!' && !rest.starts_with("!=") {
        "write `not`"
    } else if first == '\'' {
        "strings take double quotes: `\"…\"`"
    } else if first == '='
        && !rest.starts_with("==")
        && expected.contains(&rule_name(Rule::compare_op))
    {
        "compare with `==`"
    } else {
        return None;
    };
    Some(help.to_owned())
}

fn is_reserved(rest: &str) -> bool {
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    crate::policy::check::RESERVED.contains(&word.as_str())
}

/// Refuses nesting deeper than [`MAX_NESTING`] before pest recurses into it.
pub(super) fn check_nesting(source: &str, file: usize) -> Result<(), SyntaxError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    for (at, c) in source.char_indices() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"' | '\n') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '#' => in_comment = true,
            '"' => in_string = true,
            '(' | '[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    let span = Span {
                        file,
                        start: at,
                        end: at + 1,
                    };
                    return Err(nested_too_deep(
                        span,
                        "name parts of the condition with `let`",
                    ));
                }
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}
