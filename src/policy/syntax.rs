//! Text → syntax tree. The only module that sees pest: it runs the grammar
//! in `grammar/rules.pest`, lowers each pair into `ast` (one function per
//! grammar rule) and turns pest's errors into a [`SyntaxError`] with a span
//! and readable "expected …" wording, so nothing pest-shaped leaves here.

use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::{
    Clause, CompareOp, DefaultDecl, Duration, Expr, File, Ident, IntLit, LetDecl, List, Literal,
    Need, NeedKind, Path, Requirement, Rule as RuleStmt, Span, Statement, StringLit, Test,
    TestKind, Value, ValuesDecl,
};
use crate::case::Tier;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/rules.pest"]
struct RulesParser;

/// Deepest nesting of parentheses and brackets accepted (keeps every later
/// recursive pass, and pest itself, far from the stack's limit).
pub const MAX_NESTING: usize = 64;

/// The one syntax error of a file: parsing stops at the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where (a zero-width span is widened to one character when shown).
    pub span: Span,
    /// What was wrong.
    pub message: String,
    /// How to fix it, when there is a likely fix.
    pub help: Option<String>,
}

/// Parses one file; `file` is its index in the policy's sorted file list.
pub fn parse_file(source: &str, file: usize) -> Result<File, SyntaxError> {
    check_nesting(source, file)?;
    let mut pairs = RulesParser::parse(Rule::file, source)
        .map_err(|error| convert_error(&error, source, file))?;
    let Some(top) = pairs.next() else {
        return Err(malformed(Span {
            file,
            start: 0,
            end: 0,
        }));
    };
    let lower = Lower { file };
    let mut statements = Vec::new();
    for pair in top.into_inner() {
        match pair.as_rule() {
            Rule::EOI => {}
            _ => statements.push(lower.statement(pair)?),
        }
    }
    Ok(File { statements })
}

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

fn convert_error(error: &pest::error::Error<Rule>, source: &str, file: usize) -> SyntaxError {
    let start = match error.location {
        pest::error::InputLocation::Pos(pos) => pos,
        pest::error::InputLocation::Span((start, _)) => start,
    };
    let rest = &source[start.min(source.len())..];
    if let Some(length) = unterminated_string(rest) {
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
    let span = Span {
        file,
        start,
        end: start + token_len(rest),
    };
    let mut expected: Vec<&'static str> = Vec::new();
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for positive in positives {
            let name = rule_name(*positive);
            if !expected.contains(&name) {
                expected.push(name);
            }
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
    let help = if before.ends_with(',') && !rest.starts_with(']') {
        Some("only `[...]` lists take a trailing comma; remove the last `,`".to_owned())
    } else if names_expected && is_reserved(rest) {
        Some("reserved words cannot name a let or a field".to_owned())
    } else {
        None
    };
    SyntaxError {
        span,
        message,
        help,
    }
}

/// The byte length of an unterminated string at the start of `rest`, if it is one.
fn unterminated_string(rest: &str) -> Option<usize> {
    let mut chars = rest.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => return None,
            '\n' | '\r' => return Some(at),
            _ => {}
        }
    }
    Some(rest.len())
}

/// Length of the token at the start of `rest` (a word, or one character).
fn token_len(rest: &str) -> usize {
    let word: usize = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .map(char::len_utf8)
        .sum();
    if word > 0 {
        word
    } else {
        rest.chars().next().map_or(0, char::len_utf8)
    }
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
    format!("`{first}`")
}

fn is_reserved(rest: &str) -> bool {
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    super::check::RESERVED.contains(&word.as_str())
}

/// Refuses nesting deeper than [`MAX_NESTING`] before pest recurses into it.
fn check_nesting(source: &str, file: usize) -> Result<(), SyntaxError> {
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
                    return Err(SyntaxError {
                        span: Span {
                            file,
                            start: at,
                            end: at + 1,
                        },
                        message: format!("nested more than {MAX_NESTING} levels deep"),
                        help: Some("name parts of the condition with `let`".to_owned()),
                    });
                }
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn malformed(span: Span) -> SyntaxError {
    SyntaxError {
        span,
        message: "the parser produced an unexpected tree here".to_owned(),
        help: None,
    }
}

/// Lowers pairs of one file into the syntax tree.
struct Lower {
    file: usize,
}

type Pairs<'i> = pest::iterators::Pairs<'i, Rule>;

impl Lower {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let span = pair.as_span();
        Span {
            file: self.file,
            start: span.start(),
            end: span.end(),
        }
    }

    fn next<'i>(&self, pairs: &mut Pairs<'i>, parent: Span) -> Result<Pair<'i, Rule>, SyntaxError> {
        pairs.next().ok_or_else(|| malformed(parent))
    }

    /// Skips keyword pairs and returns the next meaningful one.
    fn next_content<'i>(
        &self,
        pairs: &mut Pairs<'i>,
        parent: Span,
    ) -> Result<Pair<'i, Rule>, SyntaxError> {
        loop {
            let pair = self.next(pairs, parent)?;
            if !is_keyword(pair.as_rule()) {
                return Ok(pair);
            }
        }
    }

    fn statement(&self, pair: Pair<'_, Rule>) -> Result<Statement, SyntaxError> {
        match pair.as_rule() {
            Rule::values_decl => self.values_decl(pair).map(Statement::Values),
            Rule::let_decl => self.let_decl(pair).map(Statement::Let),
            Rule::requirement => self.requirement(pair).map(Statement::Requirement),
            Rule::rule_decl => self.rule(pair).map(|r| Statement::Rule(Box::new(r))),
            Rule::default_decl => self.default_decl(pair).map(Statement::Default),
            _ => Err(malformed(self.span(&pair))),
        }
    }

    fn values_decl(&self, pair: Pair<'_, Rule>) -> Result<ValuesDecl, SyntaxError> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let path = self.path(self.next_content(&mut inner, span)?);
        let list = self.list(self.next_content(&mut inner, span)?)?;
        Ok(ValuesDecl { path, list, span })
    }

    fn let_decl(&self, pair: Pair<'_, Rule>) -> Result<LetDecl, SyntaxError> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name_pair = self.next_content(&mut inner, span)?;
        let name = Ident {
            name: name_pair.as_str().to_owned(),
            span: self.span(&name_pair),
        };
        let expr = self.expr(self.next_content(&mut inner, span)?)?;
        let span = Span {
            end: expr.span().end,
            ..span
        };
        Ok(LetDecl { name, expr, span })
    }

    fn requirement(&self, pair: Pair<'_, Rule>) -> Result<Requirement, SyntaxError> {
        let span = self.span(&pair);
        let close = Span {
            file: self.file,
            start: span.end.saturating_sub(1),
            end: span.end,
        };
        let mut inner = pair.into_inner();
        let name = self.string(self.next_content(&mut inner, span)?)?;
        let when = self.expr_clause(self.next_content(&mut inner, span)?)?;
        let needs_pair = self.next_content(&mut inner, span)?;
        let needs_span = self.span(&needs_pair);
        let mut needs = Vec::new();
        for need in needs_pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::need)
        {
            needs.push(self.need(need)?);
        }
        Ok(Requirement {
            name,
            when,
            needs: Clause {
                value: needs,
                span: needs_span,
            },
            close,
            span,
        })
    }

    fn need(&self, pair: Pair<'_, Rule>) -> Result<Need, SyntaxError> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let kind_pair = self.next(&mut inner, span)?;
        let kind = match kind_pair.as_str() {
            "training" => NeedKind::Training,
            "documentation" => NeedKind::Documentation,
            "tooling" => NeedKind::Tooling,
            _ => return Err(malformed(self.span(&kind_pair))),
        };
        let item = self.string(self.next(&mut inner, span)?)?;
        Ok(Need { kind, item })
    }

    fn rule(&self, pair: Pair<'_, Rule>) -> Result<RuleStmt, SyntaxError> {
        let span = self.span(&pair);
        let close = Span {
            file: self.file,
            start: span.end.saturating_sub(1),
            end: span.end,
        };
        let mut inner = pair.into_inner();
        let name = self.string(self.next_content(&mut inner, span)?)?;
        let when = self.expr_clause(self.next_content(&mut inner, span)?)?;
        let (mut unless, mut then, mut because, mut within, mut notify) =
            (None, None, None, None, None);
        for clause in inner {
            let clause_span = self.span(&clause);
            match clause.as_rule() {
                Rule::unless_clause => unless = Some(self.expr_clause(clause)?),
                Rule::then_clause => {
                    let mut parts = clause.into_inner();
                    let tier = self.tier(self.next_content(&mut parts, clause_span)?)?;
                    then = Some(Clause {
                        value: tier,
                        span: clause_span,
                    });
                }
                Rule::because_clause => {
                    let mut parts = clause.into_inner();
                    let text = self.string(self.next_content(&mut parts, clause_span)?)?;
                    because = Some(Clause {
                        value: text,
                        span: clause_span,
                    });
                }
                Rule::within_clause => {
                    let mut parts = clause.into_inner();
                    let duration = self.duration(self.next_content(&mut parts, clause_span)?)?;
                    within = Some(Clause {
                        value: duration,
                        span: clause_span,
                    });
                }
                Rule::notify_clause => {
                    let mut addresses = Vec::new();
                    for address in clause.into_inner().filter(|p| p.as_rule() == Rule::string) {
                        addresses.push(self.string(address)?);
                    }
                    notify = Some(Clause {
                        value: addresses,
                        span: clause_span,
                    });
                }
                _ => {}
            }
        }
        let then = then.ok_or_else(|| malformed(span))?;
        Ok(RuleStmt {
            name,
            when,
            unless,
            then,
            because,
            within,
            notify,
            close,
            span,
        })
    }

    fn default_decl(&self, pair: Pair<'_, Rule>) -> Result<DefaultDecl, SyntaxError> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let tier = self.tier(self.next_content(&mut inner, span)?)?;
        let because = self.string(self.next_content(&mut inner, span)?)?;
        Ok(DefaultDecl {
            tier,
            because,
            span,
        })
    }

    fn tier(&self, pair: Pair<'_, Rule>) -> Result<Tier, SyntaxError> {
        match pair.as_str() {
            "self_service" => Ok(Tier::SelfService),
            "partner" => Ok(Tier::Partner),
            "escalate" => Ok(Tier::Escalate),
            _ => Err(malformed(self.span(&pair))),
        }
    }

    fn expr_clause(&self, pair: Pair<'_, Rule>) -> Result<Clause<Expr>, SyntaxError> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let expr = self.expr(self.next_content(&mut inner, span)?)?;
        Ok(Clause { value: expr, span })
    }

    fn expr(&self, pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
        let span = self.span(&pair);
        let mut operands = Vec::new();
        for part in pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::conjunction)
        {
            operands.push(self.conjunction(part)?);
        }
        single_or(operands, Expr::Or).ok_or_else(|| malformed(span))
    }

    fn conjunction(&self, pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
        let span = self.span(&pair);
        let mut operands = Vec::new();
        for part in pair.into_inner().filter(|p| p.as_rule() == Rule::negation) {
            operands.push(self.negation(part)?);
        }
        single_or(operands, Expr::And).ok_or_else(|| malformed(span))
    }

    fn negation(&self, pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
        let span = self.span(&pair);
        let mut nots = Vec::new();
        let mut operand = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::kw_not => nots.push(self.span(&part).start),
                Rule::group => {
                    let group_span = self.span(&part);
                    let mut inner = part.into_inner();
                    operand = Some(self.expr(self.next(&mut inner, group_span)?)?);
                }
                Rule::test => operand = Some(Expr::Test(self.test(part)?)),
                _ => return Err(malformed(self.span(&part))),
            }
        }
        let mut expr = operand.ok_or_else(|| malformed(span))?;
        for start in nots.into_iter().rev() {
            let end = expr.span().end;
            expr = Expr::Not(
                Box::new(expr),
                Span {
                    file: self.file,
                    start,
                    end,
                },
            );
        }
        Ok(expr)
    }

    fn test(&self, pair: Pair<'_, Rule>) -> Result<Test, SyntaxError> {
        let outer = self.span(&pair);
        let end = pair
            .clone()
            .into_inner()
            .last()
            .map_or(outer.end, |p| p.as_span().end());
        let span = Span { end, ..outer };
        let mut inner = pair.into_inner();
        let first = self.next(&mut inner, span)?;
        if first.as_rule() == Rule::exists_test {
            let exists_span = self.span(&first);
            let mut parts = first.into_inner();
            let path = self.path(self.next_content(&mut parts, exists_span)?);
            return Ok(Test {
                kind: TestKind::Exists(path),
                span,
            });
        }
        let left = self.value(first)?;
        let Some(tail) = inner.next() else {
            return Ok(Test {
                kind: TestKind::Truthy(left),
                span,
            });
        };
        let tail_span = self.span(&tail);
        let tail_rule = tail.as_rule();
        let mut parts = tail.into_inner();
        let kind = match tail_rule {
            Rule::comparison => {
                let op_pair = self.next(&mut parts, tail_span)?;
                let op = match op_pair.as_str() {
                    "==" => CompareOp::Eq,
                    "!=" => CompareOp::Ne,
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::Le,
                    ">" => CompareOp::Gt,
                    ">=" => CompareOp::Ge,
                    _ => return Err(malformed(self.span(&op_pair))),
                };
                TestKind::Compare(left, op, self.value(self.next(&mut parts, tail_span)?)?)
            }
            Rule::membership => {
                TestKind::In(left, self.list(self.next_content(&mut parts, tail_span)?)?)
            }
            Rule::contains_any => {
                TestKind::ContainsAny(left, self.list(self.next_content(&mut parts, tail_span)?)?)
            }
            Rule::contains_all => {
                TestKind::ContainsAll(left, self.list(self.next_content(&mut parts, tail_span)?)?)
            }
            Rule::contains_one => {
                TestKind::Contains(left, self.value(self.next_content(&mut parts, tail_span)?)?)
            }
            Rule::matching => TestKind::Matches(
                left,
                self.string(self.next_content(&mut parts, tail_span)?)?,
            ),
            _ => return Err(malformed(tail_span)),
        };
        Ok(Test { kind, span })
    }

    fn value(&self, pair: Pair<'_, Rule>) -> Result<Value, SyntaxError> {
        match pair.as_rule() {
            Rule::path => Ok(Value::Path(self.path(pair))),
            _ => self.literal(pair).map(Value::Literal),
        }
    }

    fn literal(&self, pair: Pair<'_, Rule>) -> Result<Literal, SyntaxError> {
        match pair.as_rule() {
            Rule::string => self.string(pair).map(Literal::Str),
            Rule::integer => self.integer(pair).map(Literal::Int),
            Rule::duration => self.duration(pair).map(Literal::Duration),
            _ => Err(malformed(self.span(&pair))),
        }
    }

    fn list(&self, pair: Pair<'_, Rule>) -> Result<List, SyntaxError> {
        let span = self.span(&pair);
        let mut items = Vec::new();
        for item in pair.into_inner() {
            items.push(self.literal(item)?);
        }
        Ok(List { items, span })
    }

    fn path(&self, pair: Pair<'_, Rule>) -> Path {
        Path {
            text: pair.as_str().to_owned(),
            span: self.span(&pair),
        }
    }

    fn integer(&self, pair: Pair<'_, Rule>) -> Result<IntLit, SyntaxError> {
        let span = self.span(&pair);
        let raw = pair.as_str().to_owned();
        let value = parse_digits(&raw).ok_or_else(|| too_large(span))?;
        Ok(IntLit { value, raw, span })
    }

    fn duration(&self, pair: Pair<'_, Rule>) -> Result<Duration, SyntaxError> {
        let span = self.span(&pair);
        let raw = pair.as_str().to_owned();
        let (digits, unit) = raw.split_at(raw.len().saturating_sub(1));
        let factor = match unit {
            "m" => 1,
            "h" => 60,
            _ => 24 * 60,
        };
        let minutes = parse_digits(digits)
            .and_then(|n| n.checked_mul(factor))
            .ok_or_else(|| too_large(span))?;
        Ok(Duration { minutes, raw, span })
    }

    fn string(&self, pair: Pair<'_, Rule>) -> Result<StringLit, SyntaxError> {
        let span = self.span(&pair);
        let text = pair.as_str();
        let raw = text
            .get(1..text.len().saturating_sub(1))
            .unwrap_or_default()
            .to_owned();
        let value = unescape(&raw, span.start + 1, self.file)?;
        Ok(StringLit { value, raw, span })
    }
}

fn is_keyword(grammar_rule: Rule) -> bool {
    matches!(
        grammar_rule,
        Rule::kw_values
            | Rule::kw_let
            | Rule::kw_requirement
            | Rule::kw_rule
            | Rule::kw_default
            | Rule::kw_when
            | Rule::kw_unless
            | Rule::kw_then
            | Rule::kw_because
            | Rule::kw_within
            | Rule::kw_notify
            | Rule::kw_needs
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_not
            | Rule::kw_in
            | Rule::kw_contains
            | Rule::kw_any
            | Rule::kw_all
            | Rule::kw_matches
            | Rule::kw_exists
    )
}

/// One operand stays itself; several are joined, spanning first to last
/// (pest spans may carry trailing whitespace and comments; these do not).
fn single_or(mut operands: Vec<Expr>, join: fn(Vec<Expr>, Span) -> Expr) -> Option<Expr> {
    match operands.len() {
        0 => None,
        1 => operands.pop(),
        _ => {
            let span = operands.first()?.span().to(operands.last()?.span());
            Some(join(operands, span))
        }
    }
}

fn parse_digits(text: &str) -> Option<u64> {
    text.chars().filter(|c| *c != '_').try_fold(0u64, |acc, c| {
        acc.checked_mul(10)?.checked_add(u64::from(c.to_digit(10)?))
    })
}

fn too_large(span: Span) -> SyntaxError {
    SyntaxError {
        span,
        message: "number too large".to_owned(),
        help: Some(format!("numbers go up to {}", u64::MAX)),
    }
}

/// Decodes the escapes of a string's raw text; `offset` is the byte where the raw text starts.
pub fn unescape(raw: &str, offset: usize, file: usize) -> Result<String, SyntaxError> {
    let mut value = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => value.push('"'),
            Some((_, '\\')) => value.push('\\'),
            Some((_, 'n')) => value.push('\n'),
            Some((_, 't')) => value.push('\t'),
            other => {
                let len = 1 + other.map_or(0, |(_, c)| c.len_utf8());
                let shown = other.map_or(String::new(), |(_, c)| c.to_string());
                return Err(SyntaxError {
                    span: Span { file, start: offset + at, end: offset + at + len },
                    message: format!("unknown escape `\\{shown}` in string"),
                    help: Some(format!(
                        "the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`; write `\\\\{shown}` for a backslash"
                    )),
                });
            }
        }
    }
    Ok(value)
}

#[cfg(test)]
pub(crate) mod grammar_tests {
    //! Grammar tests: each grammar rule must consume the whole input.
    use super::{Rule, RulesParser};
    use pest::Parser as _;

    /// Whether `rule` parses all of `input`.
    pub(crate) fn consumes(rule: Rule, input: &str) -> bool {
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
}
