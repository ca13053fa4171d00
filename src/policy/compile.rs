//! Type-checks conditions and compiles them into the flat program: every
//! test becomes one deduplicated atom (string literals interned, keywords
//! added to the automaton, regexes compiled once), every `and`/`or`/`not` a
//! node. Errors are collected, never returned early: a failed test compiles
//! to a constant so checking goes on and reports everything at once.

use std::collections::{BTreeMap, HashSet};

use super::ast::{CompareOp, Expr, Literal, Path, Span, StringLit, Test, TestKind, Value};
use super::diagnostics::Raw;
use super::keywords::lowercase;
use super::program::{Atom, FastMap, IntField, Node, Pattern, SetField, TextField};
use super::schema::{Field, Type, PATHS};
use crate::case::Severity as CaseSeverity;
use crate::suggest::suggest;

mod search;

/// Size limit of one compiled regex, in bytes.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A let as the compiler knows it.
#[derive(Debug, Clone)]
pub struct LetInfo {
    /// Position in definition order (files sorted by name, then source order).
    pub order: usize,
    /// Its name.
    pub name: String,
    /// Where it is defined (the name).
    pub span: Span,
    /// Whether it reads `gaps.*`, directly or through another let.
    pub reads_gaps: bool,
}

/// Where a condition is being compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Inside the let at this definition order.
    Let(usize),
    /// Inside a requirement (may not read gaps).
    Requirement,
    /// Inside a rule.
    Rule,
}

/// Builds the program's arena while checking.
#[derive(Default)]
pub struct Builder {
    pub atoms: Vec<Atom>,
    atom_ids: FastMap<Atom, u32>,
    pub nodes: Vec<Node>,
    pub children: Vec<u32>,
    pub interner: FastMap<String, u32>,
    pub slots: Vec<Field>,
    slot_ids: FastMap<Field, u32>,
    pub patterns: Vec<Pattern>,
    pattern_ids: FastMap<String, u32>,
    pub regexes: Vec<regex::Regex>,
    regex_ids: FastMap<String, u32>,
    /// Declared values by field.
    pub declared: BTreeMap<Field, Vec<String>>,
    /// Lets by name (the first definition).
    pub lets: BTreeMap<String, LetInfo>,
    /// Lets referenced anywhere, by definition order.
    pub used_lets: HashSet<usize>,
    /// Findings so far.
    pub diagnostics: Vec<Raw>,
    /// Whether every file parsed (otherwise an unknown name may live in a broken file).
    pub complete: bool,
    /// Set while compiling a condition when it reads gaps.
    reads_gaps: bool,
}

/// A resolved operand of a test.
enum Operand<'a> {
    Field(Field, &'a Path),
    Let(usize, &'a Path),
    Lit(&'a Literal),
    Invalid,
}

impl Builder {
    fn node(&mut self, node: Node) -> u32 {
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    fn atom(&mut self, atom: Atom) -> u32 {
        let id = match self.atom_ids.get(&atom) {
            Some(id) => *id,
            None => {
                let id = self.atoms.len() as u32;
                self.atoms.push(atom.clone());
                self.atom_ids.insert(atom, id);
                id
            }
        };
        self.node(Node::Atom(id))
    }

    fn intern(&mut self, text: &str) -> u32 {
        let next = self.interner.len() as u32;
        *self.interner.entry(text.to_owned()).or_insert(next)
    }

    fn slot(&mut self, field: &Field) -> u32 {
        if let Some(id) = self.slot_ids.get(field) {
            return *id;
        }
        let id = self.slots.len() as u32;
        self.slots.push(field.clone());
        self.slot_ids.insert(field.clone(), id);
        id
    }

    fn pattern(&mut self, needle: &str) -> u32 {
        let text = lowercase(needle);
        if let Some(id) = self.pattern_ids.get(&text) {
            return *id;
        }
        let id = self.patterns.len() as u32;
        self.patterns.push(Pattern {
            spans_newline: text.contains('\n'),
            finder: memchr::memmem::Finder::new(text.as_bytes()).into_owned(),
            text: text.clone(),
        });
        self.pattern_ids.insert(text, id);
        id
    }

    /// Compiles a condition; returns its node and whether it reads gaps.
    pub fn condition(&mut self, expr: &Expr, scope: Scope) -> (u32, bool) {
        let outer = std::mem::replace(&mut self.reads_gaps, false);
        let node = self.expr(expr, scope);
        let reads = std::mem::replace(&mut self.reads_gaps, outer);
        (node, reads)
    }

    fn expr(&mut self, expr: &Expr, scope: Scope) -> u32 {
        match expr {
            Expr::Or(operands, _) | Expr::And(operands, _) => {
                let ids: Vec<u32> = operands.iter().map(|e| self.expr(e, scope)).collect();
                let start = self.children.len() as u32;
                self.children.extend(ids);
                let end = self.children.len() as u32;
                let node = if matches!(expr, Expr::Or(..)) {
                    Node::Or(start, end)
                } else {
                    Node::And(start, end)
                };
                self.node(node)
            }
            Expr::Not(inner, _) => {
                let id = self.expr(inner, scope);
                self.node(Node::Not(id))
            }
            Expr::Test(test) => self.test(test, scope),
        }
    }

    fn fail(&mut self, raw: Raw) -> u32 {
        self.diagnostics.push(raw);
        self.node(Node::Const(false))
    }

    fn resolve<'a>(&mut self, value: &'a Value, scope: Scope) -> Operand<'a> {
        let path = match value {
            Value::Literal(lit) => return Operand::Lit(lit),
            Value::Path(path) => path,
        };
        if let Some(field) = Field::resolve(&path.text) {
            if field.reads_gaps() {
                self.reads_gaps = true;
                if scope == Scope::Requirement {
                    self.diagnostics.push(
                        Raw::error(path.span, format!("a requirement cannot read `{}`", path.text))
                            .help("gaps are computed from the requirements; test the case's fields instead"),
                    );
                    return Operand::Invalid;
                }
            }
            return Operand::Field(field, path);
        }
        if !path.text.contains('.') {
            if let Some(info) = self.lets.get(&path.text).cloned() {
                self.used_lets.insert(info.order);
                if let Scope::Let(current) = scope {
                    if info.order >= current {
                        self.diagnostics.push(
                            Raw::error(path.span, format!("let `{}` is used before it is defined", path.text))
                                .help("a let may use only the lets defined before it; move this let below it")
                                .note(info.span, format!("`{}` is defined here", info.name)),
                        );
                        return Operand::Invalid;
                    }
                }
                if info.reads_gaps {
                    self.reads_gaps = true;
                    if scope == Scope::Requirement {
                        self.diagnostics.push(
                            Raw::error(path.span, format!("a requirement cannot read `gaps.*` through let `{}`", path.text))
                                .help("gaps are computed from the requirements; use a let that does not read gaps")
                                .note(info.span, format!("`{}` is defined here", info.name)),
                        );
                        return Operand::Invalid;
                    }
                }
                return Operand::Let(info.order, path);
            }
            if !self.complete {
                return Operand::Invalid;
            }
        }
        self.unknown_path(path);
        Operand::Invalid
    }

    fn unknown_path(&mut self, path: &Path) {
        let text = &path.text;
        if text == "attributes" {
            self.diagnostics.push(
                Raw::error(path.span, "`attributes` needs a name")
                    .help("write `attributes.NAME`, e.g. `attributes.region`"),
            );
            return;
        }
        let single = !text.contains('.');
        let mut candidates: Vec<String> = PATHS
            .iter()
            .filter(|p| **p != "attributes.NAME")
            .map(|p| (*p).to_owned())
            .collect();
        if single {
            candidates.extend(self.lets.keys().cloned());
        }
        let found = suggest(text, candidates.iter().map(String::as_str));
        let message = if single {
            format!("unknown field or let `{text}`")
        } else {
            format!("unknown field `{text}`")
        };
        self.diagnostics.push(
            Raw::error(path.span, message)
                .maybe_help(found.map(|s| format!("did you mean `{s}`?"))),
        );
    }

    fn test(&mut self, test: &Test, scope: Scope) -> u32 {
        match &test.kind {
            TestKind::Truthy(value) => match self.resolve(value, scope) {
                Operand::Let(order, _) => self.node(Node::Let(order as u32)),
                Operand::Field(Field::GapsAny, _) => self.atom(Atom::GapsAny),
                Operand::Field(field, path) => {
                    let ty = field.ty();
                    let help = match ty {
                        Type::Set => format!("test it with `{} contains \"…\"`", path.text),
                        Type::Int => format!("compare it, e.g. `{} > 0`", path.text),
                        _ => format!("compare it, e.g. `{} == \"…\"`", path.text),
                    };
                    self.fail(Raw::error(path.span, format!("`{}` is {}, not a condition", path.text, ty.describe())).help(help))
                }
                Operand::Lit(lit) => {
                    self.fail(Raw::error(lit.span(), format!("{} is not a condition", lit_type(lit).describe())))
                }
                Operand::Invalid => self.node(Node::Const(false)),
            },
            TestKind::Compare(left, op, right) => self.compare(left, *op, right, scope),
            TestKind::In(value, list) => self.membership(value, list, scope),
            TestKind::Contains(value, item) => self.contains_one(value, item, scope),
            TestKind::ContainsAny(value, list) => self.contains_list(value, list, false, scope),
            TestKind::ContainsAll(value, list) => self.contains_list(value, list, true, scope),
            TestKind::Matches(value, pattern) => self.matches(value, pattern, scope),
            TestKind::Exists(path) => match Field::resolve(&path.text) {
                Some(field) if field.optional() => {
                    let slot = self.slot(&field);
                    self.atom(Atom::Exists { slot })
                }
                Some(_) => self.fail(
                    Raw::error(path.span, format!("`{}` is always present", path.text))
                        .help("`exists` applies to optional fields: `customer.name`, `attributes.NAME`, `service_health.incident`, `service_health.status`"),
                ),
                None => {
                    let value = Value::Path(path.clone());
                    match self.resolve(&value, scope) {
                        Operand::Let(..) => self.fail(
                            Raw::error(path.span, format!("`{}` is a let, not a field", path.text))
                                .help("`exists` applies to optional fields"),
                        ),
                        _ => self.node(Node::Const(false)),
                    }
                }
            },
        }
    }

    /// Refuses lets, durations and invalid operands where a value is needed; `None` after reporting.
    fn scalar<'a>(&mut self, operand: Operand<'a>) -> Option<Operand<'a>> {
        match operand {
            Operand::Let(_, path) => {
                self.diagnostics.push(
                    Raw::error(
                        path.span,
                        format!("`{}` is a condition and cannot be compared", path.text),
                    )
                    .help(format!(
                        "use it alone: `{}` or `not {}`",
                        path.text, path.text
                    )),
                );
                None
            }
            Operand::Lit(Literal::Duration(d)) => {
                self.diagnostics.push(duration_misplaced(d.span));
                None
            }
            Operand::Invalid => None,
            other => Some(other),
        }
    }

    fn compare(&mut self, left: &Value, op: CompareOp, right: &Value, scope: Scope) -> u32 {
        let l = self.resolve(left, scope);
        let r = self.resolve(right, scope);
        let (Some(l), Some(r)) = (self.scalar(l), self.scalar(r)) else {
            return self.node(Node::Const(false));
        };
        match (l, r) {
            (Operand::Field(field, path), Operand::Lit(lit)) => {
                self.field_vs_literal(&field, path, op, lit)
            }
            (Operand::Lit(lit), Operand::Field(field, path)) => {
                self.field_vs_literal(&field, path, op.flipped(), lit)
            }
            (Operand::Field(a, pa), Operand::Field(b, pb)) => {
                self.field_vs_field(&a, pa, op, &b, pb)
            }
            (Operand::Lit(a), Operand::Lit(_)) => self.fail(
                Raw::error(a.span(), "this comparison has a literal on both sides")
                    .help("one side must be a field"),
            ),
            _ => self.node(Node::Const(false)),
        }
    }

    fn field_vs_literal(
        &mut self,
        field: &Field,
        path: &Path,
        op: CompareOp,
        lit: &Literal,
    ) -> u32 {
        let ty = field.ty();
        let ordering = !matches!(op, CompareOp::Eq | CompareOp::Ne);
        match (ty, lit) {
            (Type::Int, Literal::Int(n)) => {
                let field = int_field(field);
                self.atom(Atom::IntCmp {
                    field,
                    op,
                    value: n.value,
                })
            }
            (Type::Severity, Literal::Str(s)) => match severity_literal(s) {
                Ok(value) => self.atom(Atom::SevCmp { op, value }),
                Err(raw) => self.fail(raw),
            },
            (Type::Str | Type::Text, Literal::Str(_)) if ordering => self.fail(
                Raw::error(
                    path.span,
                    format!(
                        "`{}` orders integers and severities; `{}` is {}",
                        op.as_str(),
                        path.text,
                        ty.describe()
                    ),
                )
                .help("use `==`, `!=` or `in`"),
            ),
            (Type::Str, Literal::Str(s)) => {
                if let Err(raw) = self.check_declared(field, path, s) {
                    return self.fail(raw);
                }
                let slot = self.slot(field);
                let id = self.intern(&s.value);
                self.atom(Atom::StrEq {
                    slot,
                    id,
                    negate: op == CompareOp::Ne,
                })
            }
            (Type::Text, Literal::Str(s)) => self.atom(Atom::TextEq {
                field: text_field(field),
                value: s.value.clone(),
                negate: op == CompareOp::Ne,
            }),
            (Type::Bool, _) => self.fail(
                Raw::error(
                    path.span,
                    format!("`{}` is a condition and cannot be compared", path.text),
                )
                .help(format!(
                    "use it alone: `{}` or `not {}`",
                    path.text, path.text
                )),
            ),
            (Type::Set, _) => self.fail(
                Raw::error(
                    path.span,
                    format!("`{}` is a set of strings and cannot be compared", path.text),
                )
                .help(format!(
                    "test membership with `{} contains \"…\"`",
                    path.text
                )),
            ),
            (Type::Severity, _) => self.fail(
                Raw::error(
                    lit.span(),
                    format!(
                        "`severity` compares with a severity name, not {}",
                        lit_type(lit).describe()
                    ),
                )
                .help("write `\"minimal\"`, `\"moderate\"` or `\"critical\"`"),
            ),
            _ => self.fail(mismatch(path, ty, lit)),
        }
    }

    fn field_vs_field(&mut self, a: &Field, pa: &Path, op: CompareOp, b: &Field, pb: &Path) -> u32 {
        let ordering = !matches!(op, CompareOp::Eq | CompareOp::Ne);
        match (a.ty(), b.ty()) {
            (Type::Int, Type::Int) => self.atom(Atom::IntFields {
                left: int_field(a),
                op,
                right: int_field(b),
            }),
            (Type::Str, Type::Str) if !ordering => {
                let left = self.slot(a);
                let right = self.slot(b);
                self.atom(Atom::StrFields {
                    left,
                    right,
                    negate: op == CompareOp::Ne,
                })
            }
            (ta, tb) => self.fail(
                Raw::error(
                    pa.span.to(pb.span),
                    format!(
                        "cannot compare `{}` ({}) with `{}` ({}) using `{}`",
                        pa.text,
                        ta.describe(),
                        pb.text,
                        tb.describe(),
                        op.as_str()
                    ),
                )
                .help("compare a field with a literal, or two string or integer fields"),
            ),
        }
    }

    fn check_declared(&self, field: &Field, path: &Path, s: &StringLit) -> Result<(), Raw> {
        let Some(allowed) = self.declared.get(field) else {
            return Ok(());
        };
        if allowed.contains(&s.value) {
            return Ok(());
        }
        let help = match suggest(&s.value, allowed.iter().map(String::as_str)) {
            Some(close) => format!("did you mean \"{close}\"?"),
            None if allowed.is_empty() => format!(
                "`values {}` declares no value at all; list the values it may take",
                path.text
            ),
            None => format!(
                "the declared values of `{}` are {}",
                path.text,
                quoted_list(allowed)
            ),
        };
        Err(Raw::error(s.span, format!("unknown {} \"{}\"", path.text, s.value)).help(help))
    }
}

fn duration_misplaced(span: Span) -> Raw {
    Raw::error(span, "a duration can only be used in `within`")
        .help("compare integers without a unit")
}

fn mismatch(path: &Path, ty: Type, lit: &Literal) -> Raw {
    let example = match ty {
        Type::Int => "an integer such as `100`",
        Type::Str | Type::Text => "a string such as `\"…\"`",
        _ => "a value of the same type",
    };
    Raw::error(
        lit.span(),
        format!(
            "`{}` is {}, but this is {}",
            path.text,
            ty.describe(),
            lit_type(lit).describe()
        ),
    )
    .help(format!("compare it with {example}"))
}

fn lit_type(lit: &Literal) -> Type {
    match lit {
        Literal::Str(_) => Type::Str,
        Literal::Int(_) => Type::Int,
        Literal::Duration(_) => Type::Duration,
    }
}

fn lit_str(lit: &Literal) -> Option<&StringLit> {
    match lit {
        Literal::Str(s) => Some(s),
        _ => None,
    }
}

/// A severity literal: a name (`"moderate"`) or a letter (`"B"`), in any case.
pub fn severity_literal(s: &StringLit) -> Result<CaseSeverity, Raw> {
    s.value.parse::<CaseSeverity>().map_err(|_| {
        let names = ["minimal", "moderate", "critical"];
        let help = match suggest(&s.value.to_lowercase(), names) {
            Some(close) => format!("did you mean \"{close}\"?"),
            None => {
                "severities are \"minimal\", \"moderate\" and \"critical\" (or \"C\", \"B\", \"A\")"
                    .to_owned()
            }
        };
        Raw::error(s.span, format!("unknown severity \"{}\"", s.value)).help(help)
    })
}

/// The bit of a severity in an `in` mask.
pub fn severity_bit(severity: CaseSeverity) -> u8 {
    match severity {
        CaseSeverity::Minimal => 1,
        CaseSeverity::Moderate => 2,
        CaseSeverity::Critical => 4,
    }
}

fn int_field(field: &Field) -> IntField {
    match field {
        Field::Reopened => IntField::Reopened,
        Field::GapsCount => IntField::GapsCount,
        _ => IntField::AffectedUsers,
    }
}

fn text_field(field: &Field) -> TextField {
    match field {
        Field::Subject => TextField::Subject,
        Field::Description => TextField::Description,
        _ => TextField::Text,
    }
}

fn set_field(field: &Field) -> SetField {
    match field {
        Field::PartnerSet(kind) => SetField::Partner(*kind),
        Field::GapSet(kind) => SetField::Gaps(*kind),
        _ => SetField::Attempted,
    }
}

/// `"a", "b"` for messages.
pub fn quoted_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
