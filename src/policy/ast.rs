//! The syntax tree of one policy file, exactly as written, with a span on
//! every node. It is what `syntax` produces, what `format` prints and what
//! `check` compiles; it knows nothing of pest or of the case schema.

use crate::case::Tier;

/// A byte range in one source file (`file` indexes the policy's sorted files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Index of the file in the policy's sorted file list.
    pub file: usize,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span covering both `self` and `other` (same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One parsed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Statements in source order.
    pub statements: Vec<Statement>,
}

/// A top-level statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// `values PATH = [...]`.
    Values(ValuesDecl),
    /// `let NAME = EXPR`.
    Let(LetDecl),
    /// `requirement "NAME" { … }`.
    Requirement(Requirement),
    /// `rule "NAME" { … }`.
    Rule(Box<Rule>),
    /// `default TIER because "…"`.
    Default(DefaultDecl),
}

impl Statement {
    /// The span of the whole statement.
    pub fn span(&self) -> Span {
        match self {
            Statement::Values(v) => v.span,
            Statement::Let(l) => l.span,
            Statement::Requirement(r) => r.span,
            Statement::Rule(r) => r.span,
            Statement::Default(d) => d.span,
        }
    }
}

/// `values PATH = [...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuesDecl {
    /// The field.
    pub path: Path,
    /// The allowed values.
    pub list: List,
    /// The whole statement.
    pub span: Span,
}

/// `let NAME = EXPR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetDecl {
    /// The let's name.
    pub name: Ident,
    /// Its condition.
    pub expr: Expr,
    /// The whole statement.
    pub span: Span,
}

/// `requirement "NAME" { when … needs … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The requirement's name.
    pub name: StringLit,
    /// When it applies.
    pub when: Clause<Expr>,
    /// What it needs, in order.
    pub needs: Clause<Vec<Need>>,
    /// The closing brace (formatting anchors comments to it).
    pub close: Span,
    /// The whole statement.
    pub span: Span,
}

/// A clause with the span from its keyword to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause<T> {
    /// What the clause holds.
    pub value: T,
    /// From the keyword to the end of the clause.
    pub span: Span,
}

/// One need: `training "ITEM"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The kind of capability.
    pub kind: NeedKind,
    /// The item.
    pub item: StringLit,
}

/// The three kinds of capability, in the order gaps are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NeedKind {
    /// Training.
    Training,
    /// Documentation.
    Documentation,
    /// Support tools.
    Tooling,
}

impl NeedKind {
    /// Every kind, in outcome order.
    pub const ALL: [NeedKind; 3] = [
        NeedKind::Training,
        NeedKind::Documentation,
        NeedKind::Tooling,
    ];

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            NeedKind::Training => "training",
            NeedKind::Documentation => "documentation",
            NeedKind::Tooling => "tooling",
        }
    }
}

/// `rule "NAME" { … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule's name.
    pub name: StringLit,
    /// When it matches.
    pub when: Clause<Expr>,
    /// The exception.
    pub unless: Option<Clause<Expr>>,
    /// The tier it asks for.
    pub then: Clause<Tier>,
    /// The reason template.
    pub because: Option<Clause<StringLit>>,
    /// The deadline.
    pub within: Option<Clause<Duration>>,
    /// Extra recipients.
    pub notify: Option<Clause<Vec<StringLit>>>,
    /// The closing brace.
    pub close: Span,
    /// The whole statement.
    pub span: Span,
}

/// `default TIER because "…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultDecl {
    /// The tier.
    pub tier: Tier,
    /// The reason template.
    pub because: StringLit,
    /// The whole statement.
    pub span: Span,
}

/// A let name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A dotted path or a bare name (a field or a let).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// The path as written, e.g. `partner.training`.
    pub text: String,
    /// Where it is written.
    pub span: Span,
}

/// A string literal: the decoded value and the raw text between the quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringLit {
    /// The value, escapes decoded.
    pub value: String,
    /// The text between the quotes, escapes as written.
    pub raw: String,
    /// Including the quotes.
    pub span: Span,
}

/// An integer literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntLit {
    /// The value.
    pub value: u64,
    /// As written (`10_000`).
    pub raw: String,
    /// Where it is written.
    pub span: Span,
}

/// A duration literal: `30m`, `4h`, `2d`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duration {
    /// Its length in minutes.
    pub minutes: u64,
    /// As written.
    pub raw: String,
    /// Where it is written.
    pub span: Span,
}

/// A literal list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// The items.
    pub items: Vec<Literal>,
    /// Including the brackets.
    pub span: Span,
}

/// A literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `"…"`.
    Str(StringLit),
    /// `250`.
    Int(IntLit),
    /// `4h`.
    Duration(Duration),
}

impl Literal {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Literal::Str(s) => s.span,
            Literal::Int(i) => i.span,
            Literal::Duration(d) => d.span,
        }
    }
}

/// A value inside a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A field or let.
    Path(Path),
    /// A literal.
    Literal(Literal),
}

impl Value {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Value::Path(p) => p.span,
            Value::Literal(l) => l.span(),
        }
    }
}

/// A condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// At least two operands joined by `or`.
    Or(Vec<Expr>, Span),
    /// At least two operands joined by `and`.
    And(Vec<Expr>, Span),
    /// `not EXPR`.
    Not(Box<Expr>, Span),
    /// A test.
    Test(Test),
}

impl Expr {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Expr::Or(_, span) | Expr::And(_, span) | Expr::Not(_, span) => *span,
            Expr::Test(t) => t.span,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// As written.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }

    /// The operator with its operands swapped (`a < b` is `b > a`).
    pub fn flipped(self) -> CompareOp {
        match self {
            CompareOp::Eq => CompareOp::Eq,
            CompareOp::Ne => CompareOp::Ne,
            CompareOp::Lt => CompareOp::Gt,
            CompareOp::Le => CompareOp::Ge,
            CompareOp::Gt => CompareOp::Lt,
            CompareOp::Ge => CompareOp::Le,
        }
    }

    /// Whether `ordering` (left against right) satisfies the operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            CompareOp::Eq => ordering == Equal,
            CompareOp::Ne => ordering != Equal,
            CompareOp::Lt => ordering == Less,
            CompareOp::Le => ordering != Greater,
            CompareOp::Gt => ordering == Greater,
            CompareOp::Ge => ordering != Less,
        }
    }
}

/// A test with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    /// What is tested.
    pub kind: TestKind,
    /// The whole test.
    pub span: Span,
}

/// The forms of test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestKind {
    /// A bool field or a let, alone.
    Truthy(Value),
    /// `VALUE OP VALUE`.
    Compare(Value, CompareOp, Value),
    /// `VALUE in [...]`.
    In(Value, List),
    /// `VALUE contains VALUE`.
    Contains(Value, Value),
    /// `VALUE contains any [...]`.
    ContainsAny(Value, List),
    /// `VALUE contains all [...]`.
    ContainsAll(Value, List),
    /// `VALUE matches "REGEX"`.
    Matches(Value, StringLit),
    /// `exists PATH`.
    Exists(Path),
}
