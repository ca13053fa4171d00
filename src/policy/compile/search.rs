//! Type-checks and compiles the searching tests: `in`, `contains`,
//! `contains any|all` and `matches`. Keywords go to the shared automaton,
//! regexes are compiled once with a size limit.

use regex::RegexBuilder;

use super::{
    duration_misplaced, int_field, lit_str, lit_type, mismatch, set_field, severity_bit,
    severity_literal, text_field, Builder, Operand, Scope, REGEX_SIZE_LIMIT,
};
use crate::policy::ast::{List, Literal, Path, Span, StringLit, Value};
use crate::policy::diagnostics::Raw;
use crate::policy::keywords::lowercase;
use crate::policy::program::{Atom, Haystack, Item, Node};
use crate::policy::schema::{Field, Type};

impl Builder {
    pub(super) fn membership(&mut self, value: &Value, list: &List, scope: Scope) -> u32 {
        let operand = self.resolve(value, scope);
        let Some(operand) = self.scalar(operand) else {
            return self.node(Node::Const(false));
        };
        let (field, path) = match operand {
            Operand::Field(field, path) => (field, path),
            Operand::Lit(lit) => {
                return self.fail(
                    Raw::error(lit.span(), "the left side of `in` must be a field")
                        .help("write `FIELD in [...]`"),
                )
            }
            _ => return self.node(Node::Const(false)),
        };
        let ty = field.ty();
        let mut failed = false;
        match ty {
            Type::Set => {
                return self.fail(
                    Raw::error(
                        path.span,
                        format!("`{}` is a set of strings; `in` tests one value", path.text),
                    )
                    .help(format!("use `{} contains any [...]`", path.text)),
                )
            }
            Type::Bool => {
                return self.fail(Raw::error(
                    path.span,
                    format!("`{}` is a condition, not a value", path.text),
                ))
            }
            _ => {}
        }
        for item in &list.items {
            let ok = match (ty, item) {
                (Type::Int, Literal::Int(_)) | (Type::Str | Type::Text, Literal::Str(_)) => true,
                (Type::Severity, Literal::Str(s)) => match severity_literal(s) {
                    Ok(_) => true,
                    Err(raw) => {
                        self.diagnostics.push(raw);
                        failed = true;
                        continue;
                    }
                },
                (_, Literal::Duration(d)) => {
                    self.diagnostics.push(duration_misplaced(d.span));
                    failed = true;
                    continue;
                }
                _ => false,
            };
            if !ok {
                self.diagnostics.push(mismatch(path, ty, item));
                failed = true;
            } else if let (Type::Str, Literal::Str(s)) = (ty, item) {
                if let Err(raw) = self.check_declared(&field, path, s) {
                    self.diagnostics.push(raw);
                    failed = true;
                }
            }
        }
        if failed {
            return self.node(Node::Const(false));
        }
        let strings = || {
            list.items
                .iter()
                .filter_map(lit_str)
                .map(|s| s.value.clone())
        };
        match ty {
            Type::Str => {
                let slot = self.slot(&field);
                let ids: Vec<u32> = strings().map(|s| self.intern(&s)).collect();
                self.atom(Atom::StrIn {
                    slot,
                    ids: ids.into(),
                })
            }
            Type::Text => self.atom(Atom::TextIn {
                field: text_field(&field),
                values: strings().collect(),
            }),
            Type::Int => {
                let values: Vec<u64> = list
                    .items
                    .iter()
                    .filter_map(|l| match l {
                        Literal::Int(n) => Some(n.value),
                        _ => None,
                    })
                    .collect();
                self.atom(Atom::IntIn {
                    field: int_field(&field),
                    values: values.into(),
                })
            }
            _ => {
                let mask = list
                    .items
                    .iter()
                    .filter_map(lit_str)
                    .filter_map(|s| severity_literal(s).ok())
                    .fold(0u8, |mask, sev| mask | severity_bit(sev));
                self.atom(Atom::SevIn { mask })
            }
        }
    }

    /// The left side of `contains`/`matches`: a set, text or string field.
    fn haystack<'a>(
        &mut self,
        value: &'a Value,
        scope: Scope,
        what: &str,
        sets: bool,
    ) -> Option<(Field, &'a Path)> {
        match self.resolve(value, scope) {
            Operand::Field(field, path) => {
                let ty = field.ty();
                if matches!(ty, Type::Text | Type::Str) || (sets && ty == Type::Set) {
                    return Some((field, path));
                }
                let needs = if sets {
                    "a set, text or a string"
                } else {
                    "text or a string"
                };
                self.diagnostics.push(
                    Raw::error(
                        path.span,
                        format!(
                            "`{what}` needs {needs} on the left; `{}` is {}",
                            path.text,
                            ty.describe()
                        ),
                    )
                    .maybe_help(
                        (ty == Type::Int)
                            .then(|| "compare integers with `==`, `<`, `>=` …".to_owned()),
                    ),
                );
                None
            }
            Operand::Let(_, path) => {
                self.diagnostics.push(Raw::error(
                    path.span,
                    format!("`{}` is a condition, not a value", path.text),
                ));
                None
            }
            Operand::Lit(lit) => {
                self.diagnostics.push(Raw::error(
                    lit.span(),
                    format!("the left side of `{what}` must be a field"),
                ));
                None
            }
            Operand::Invalid => None,
        }
    }

    pub(super) fn contains_one(&mut self, value: &Value, item: &Value, scope: Scope) -> u32 {
        let Some((field, _)) = self.haystack(value, scope, "contains", true) else {
            return self.node(Node::Const(false));
        };
        match self.resolve(item, scope) {
            Operand::Lit(Literal::Str(s)) => {
                self.contains_strings(&field, std::slice::from_ref(&s.value), true)
            }
            Operand::Field(other, path) if other.ty() == Type::Str => {
                let needle = self.slot(&other);
                let _ = path;
                match field.ty() {
                    Type::Set => self.atom(Atom::SetHasField {
                        set: set_field(&field),
                        item: needle,
                    }),
                    Type::Text => self.atom(Atom::HasField {
                        haystack: Haystack::Text(text_field(&field)),
                        needle,
                    }),
                    _ => {
                        let slot = self.slot(&field);
                        self.atom(Atom::HasField {
                            haystack: Haystack::Str(slot),
                            needle,
                        })
                    }
                }
            }
            Operand::Invalid => self.node(Node::Const(false)),
            Operand::Lit(Literal::Duration(d)) => self.fail(duration_misplaced(d.span)),
            other => {
                let span = match other {
                    Operand::Field(_, p) | Operand::Let(_, p) => p.span,
                    Operand::Lit(l) => l.span(),
                    Operand::Invalid => item.span(),
                };
                self.fail(
                    Raw::error(span, "`contains` looks for a string")
                        .help("write a string literal such as `\"outage\"`, or a string field"),
                )
            }
        }
    }

    pub(super) fn contains_list(
        &mut self,
        value: &Value,
        list: &List,
        all: bool,
        scope: Scope,
    ) -> u32 {
        let what = if all { "contains all" } else { "contains any" };
        let Some((field, _)) = self.haystack(value, scope, what, true) else {
            return self.node(Node::Const(false));
        };
        let mut items = Vec::new();
        let mut failed = false;
        for item in &list.items {
            match item {
                Literal::Str(s) => items.push(s.value.clone()),
                other => {
                    self.diagnostics.push(Raw::error(
                        other.span(),
                        format!(
                            "`{what}` takes a list of strings, not {}",
                            lit_type(other).describe()
                        ),
                    ));
                    failed = true;
                }
            }
        }
        if failed {
            return self.node(Node::Const(false));
        }
        self.contains_strings(&field, &items, all)
    }

    fn contains_strings(&mut self, field: &Field, items: &[String], all: bool) -> u32 {
        if items.is_empty() {
            // `all []` holds vacuously, but like every test on an absent
            // optional field it is false when the field is absent.
            if all && field.optional() {
                let slot = self.slot(field);
                return self.atom(Atom::Exists { slot });
            }
            return self.node(Node::Const(all));
        }
        match field.ty() {
            Type::Set => {
                let mut items = items.to_vec();
                items.sort();
                items.dedup();
                self.atom(Atom::SetHas {
                    set: set_field(field),
                    items: items.iter().map(|item| Item::new(item)).collect(),
                    all,
                })
            }
            Type::Text => {
                if items.iter().any(String::is_empty) && !all {
                    return self.node(Node::Const(true));
                }
                let mut patterns: Vec<u32> = items
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| self.pattern(s))
                    .collect();
                if patterns.is_empty() {
                    return self.node(Node::Const(true));
                }
                patterns.sort_unstable();
                patterns.dedup();
                self.atom(Atom::TextHas {
                    field: text_field(field),
                    patterns: patterns.into(),
                    all,
                })
            }
            _ => {
                let slot = self.slot(field);
                let mut needles: Vec<String> = items.iter().map(|s| lowercase(s)).collect();
                needles.sort();
                needles.dedup();
                self.atom(Atom::StrHas {
                    slot,
                    needles: needles.into(),
                    all,
                })
            }
        }
    }

    pub(super) fn matches(&mut self, value: &Value, pattern: &StringLit, scope: Scope) -> u32 {
        let Some((field, _)) = self.haystack(value, scope, "matches", false) else {
            return self.node(Node::Const(false));
        };
        let regex = match self.regex_ids.get(&pattern.value) {
            Some(id) => *id,
            None => match RegexBuilder::new(&pattern.value)
                .case_insensitive(true)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
            {
                Ok(compiled) => {
                    let id = self.regexes.len() as u32;
                    self.regexes.push(compiled);
                    self.regex_ids.insert(pattern.value.clone(), id);
                    id
                }
                Err(error) => return self.fail(regex_error(pattern.span, &error)),
            },
        };
        let haystack = match field.ty() {
            Type::Text => Haystack::Text(text_field(&field)),
            _ => Haystack::Str(self.slot(&field)),
        };
        self.atom(Atom::Matches { haystack, regex })
    }
}

fn regex_error(span: Span, error: &regex::Error) -> Raw {
    match error {
        regex::Error::CompiledTooBig(limit) => Raw::error(
            span,
            format!("regex is too large (the limit is {limit} bytes compiled)"),
        )
        .help("split it into several `matches` tests or use `contains any`"),
        other => {
            let text = other.to_string();
            let reason = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("error: "))
                .unwrap_or(text.lines().last().unwrap_or_default())
                .to_owned();
            Raw::error(span, format!("invalid regex: {reason}"))
                .help("regexes use the syntax of the `regex` crate; write `\\\\` for a backslash inside a string")
        }
    }
}
