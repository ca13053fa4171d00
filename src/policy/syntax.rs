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

mod errors;

use errors::{check_nesting, convert_error};

/// Deepest nesting of parentheses and brackets, and longest run of `not`,
/// accepted (keeps every later recursive pass, and pest itself, far from the
/// stack's limit).
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

/// The error of a file that does not parse, from a second parse that also
/// tracks literal tokens, so that a missing `}` or `,` is named where it is
/// missing. Tracking them slows every parse by a quarter, so only a file
/// already known to be wrong pays for it. The switch is pest's and
/// process-wide: the lock keeps one failing parse from switching it off
/// under another; a good file parsed meanwhile at worst pays for tracking.
fn detailed_error(first: pest::error::Error<Rule>, source: &str, file: usize) -> SyntaxError {
    static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = DETAIL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    pest::set_error_detail(true);
    let again = RulesParser::parse(Rule::file, source);
    pest::set_error_detail(false);
    drop(guard);
    match again {
        Err(error) => convert_error(&error, source, file),
        Ok(_) => convert_error(&first, source, file),
    }
}

/// Parses one file; `file` is its index in the policy's sorted file list.
pub fn parse_file(source: &str, file: usize) -> Result<File, SyntaxError> {
    check_nesting(source, file)?;
    let mut pairs = RulesParser::parse(Rule::file, source)
        .map_err(|error| detailed_error(error, source, file))?;
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

    /// A clause made of a keyword and one value, read with `read`.
    fn one_value<'i, T>(
        &self,
        clause: Pair<'i, Rule>,
        read: impl FnOnce(&Self, Pair<'i, Rule>) -> Result<T, SyntaxError>,
    ) -> Result<Clause<T>, SyntaxError> {
        let span = self.span(&clause);
        let mut parts = clause.into_inner();
        let value = read(self, self.next_content(&mut parts, span)?)?;
        Ok(Clause { value, span })
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
                Rule::then_clause => then = Some(self.one_value(clause, Self::tier)?),
                Rule::because_clause => because = Some(self.one_value(clause, Self::string)?),
                Rule::within_clause => within = Some(self.one_value(clause, Self::duration)?),
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
        // Each `not` nests the condition one level deeper, like a parenthesis:
        // a run of thousands would overflow the stack of every later pass.
        if let Some(&start) = nots.get(MAX_NESTING) {
            let span = Span {
                file: self.file,
                start,
                end: start + "not".len(),
            };
            return Err(nested_too_deep(
                span,
                "two `not` cancel out; write at most one",
            ));
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

/// Nesting past [`MAX_NESTING`] (parentheses, brackets, or a run of `not`).
fn nested_too_deep(span: Span, help: &str) -> SyntaxError {
    SyntaxError {
        span,
        message: format!("nested more than {MAX_NESTING} levels deep"),
        help: Some(help.to_owned()),
    }
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
#[path = "grammar_tests.rs"]
mod grammar_tests;
