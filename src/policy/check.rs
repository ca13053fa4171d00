//! Checks a whole policy (every parsed file, in sorted order) and compiles
//! it: declarations and names first (values, lets, rule and requirement
//! names, the default), then every condition through `compile`, then the
//! warnings. Every finding is collected; the load fails only at the end, so
//! an author sees all of them at once.

use std::collections::BTreeMap;

use super::ast::{File, Span, Statement};
use super::compile::{Builder, LetInfo, Scope};
use super::diagnostics::Raw;
use super::format;
use super::index::{self, Conditions, Index};
use super::keywords::Keywords;
use super::program::{
    self, conjunction, AnyOf, CRequirement, CRule, Item, Lit, Program, RuleSets, Tests,
};
use super::schema::{Field, Type, TOP_LEVEL};
use super::template::{self, Template};
use super::Name;
use crate::case::{EmailAddress, Tier};

mod depth;

/// Reserved words of the language.
pub const RESERVED: &[&str] = &[
    "values",
    "let",
    "requirement",
    "rule",
    "default",
    "when",
    "unless",
    "then",
    "because",
    "within",
    "notify",
    "needs",
    "and",
    "or",
    "not",
    "in",
    "contains",
    "any",
    "all",
    "matches",
    "exists",
    "training",
    "documentation",
    "tooling",
    "self_service",
    "partner",
    "escalate",
];

/// A checked policy: the program and the warnings found on the way.
pub struct Checked {
    /// The compiled program.
    pub program: Program,
    /// Warnings (the load goes on).
    pub warnings: Vec<Raw>,
}

/// Checks parsed files (in sorted order; `None` where the file did not
/// parse, its syntax error already in `diagnostics`).
pub fn check(files: &[Option<File>], mut diagnostics: Vec<Raw>) -> Result<Checked, Vec<Raw>> {
    let complete = files.iter().all(Option::is_some);
    let mut b = Builder::default();
    b.complete = complete;
    let statements: Vec<&Statement> = files
        .iter()
        .flatten()
        .flat_map(|f| f.statements.iter())
        .collect();

    declare_values(&mut b, &statements);
    let let_decls = declare_lets(&mut b, &statements);

    let mut depths = depth::Depths::default();
    let mut lets = Vec::with_capacity(let_decls.len());
    for (order, decl) in let_decls.iter().enumerate() {
        let (node, reads_gaps) = b.condition(&decl.expr, Scope::Let(order));
        depths.define_let(&mut b, node, decl.expr.span());
        if let Some(info) = b.lets.get_mut(&decl.name.name) {
            if info.order == order {
                info.reads_gaps = reads_gaps;
            }
        }
        lets.push(node);
    }

    let mut requirements = Vec::new();
    let mut requirement_names: BTreeMap<String, Span> = BTreeMap::new();
    let mut rules = Vec::new();
    let mut rule_names: BTreeMap<String, Span> = BTreeMap::new();
    let mut rule_sources: Vec<&super::ast::Rule> = Vec::new();
    let mut default: Option<(Tier, Template, Span)> = None;

    for statement in &statements {
        match statement {
            Statement::Requirement(req) => {
                duplicate(
                    &mut b,
                    &mut requirement_names,
                    &req.name.value,
                    req.name.span,
                    "requirement",
                );
                let (when, _) = b.condition(&req.when.value, Scope::Requirement);
                depths.check(&mut b, when, req.when.value.span());
                let mut needs = Vec::new();
                for need in &req.needs.value {
                    if need.item.value.is_empty() {
                        b.diagnostics.push(
                            Raw::error(need.item.span, "a need names an item")
                                .help("write e.g. `training \"exchange-transport\"`"),
                        );
                    }
                    let entry = (need.kind, Item::new(&need.item.value));
                    if !needs.contains(&entry) {
                        needs.push(entry);
                    }
                }
                requirements.push(CRequirement {
                    name: Name::from(req.name.value.as_str()),
                    when,
                    needs,
                });
            }
            Statement::Rule(rule) => {
                duplicate(
                    &mut b,
                    &mut rule_names,
                    &rule.name.value,
                    rule.name.span,
                    "rule",
                );
                let (when, _) = b.condition(&rule.when.value, Scope::Rule);
                depths.check(&mut b, when, rule.when.value.span());
                let unless = rule.unless.as_ref().map(|u| {
                    let (unless, _) = b.condition(&u.value, Scope::Rule);
                    depths.check(&mut b, unless, u.value.span());
                    unless
                });
                let because = rule
                    .because
                    .as_ref()
                    .and_then(|c| compile_template(&mut b, &c.value));
                let mut notify: Vec<Name> = Vec::new();
                for address in rule.notify.iter().flat_map(|c| c.value.iter()) {
                    if EmailAddress::parse(&address.value, "notify").is_err() {
                        b.diagnostics.push(
                            Raw::error(
                                address.span,
                                format!("\"{}\" is not a valid email address", address.value),
                            )
                            .help("write an address such as \"sev-a@escalations.example\""),
                        );
                    } else if !notify.iter().any(|n| *n == address.value) {
                        notify.push(Name::from(address.value.as_str()));
                    }
                }
                rules.push(CRule {
                    name: Name::from(rule.name.value.as_str()),
                    tier: rule.then.value,
                    when,
                    unless,
                    because,
                    within: rule.within.as_ref().map(|w| w.value.minutes),
                    notify,
                });
                rule_sources.push(rule);
            }
            Statement::Default(decl) => match &default {
                Some((_, _, first)) => b.diagnostics.push(
                    Raw::error(decl.span, "the policy has more than one `default`")
                        .help("keep exactly one `default` in the whole policy")
                        .note(*first, "the first `default` is here"),
                ),
                None => {
                    let because = compile_template(&mut b, &decl.because)
                        .unwrap_or(Template::new(Vec::new()));
                    default = Some((decl.tier, because, decl.span));
                }
            },
            Statement::Values(_) | Statement::Let(_) => {}
        }
    }

    if default.is_none() && complete {
        b.diagnostics
            .push(Raw::global("the policy has no `default`").help(
            "add one, e.g. `default partner because \"The partner provides first-line support.\"`",
        ));
    }

    let mut warnings = Vec::new();
    if complete {
        for (order, decl) in let_decls.iter().enumerate() {
            let first = b
                .lets
                .get(&decl.name.name)
                .is_some_and(|i| i.order == order);
            if first && !b.used_lets.contains(&order) {
                warnings.push(
                    Raw::warning(
                        decl.name.span,
                        format!("let `{}` is never used", decl.name.name),
                    )
                    .help("use it in a rule or requirement, or remove it"),
                );
            }
        }
    }
    shadowed_rules(&rule_sources, &mut warnings);
    deadlines_of_zero(&rule_sources, &mut warnings);

    let keywords = if b.patterns.is_empty() {
        None
    } else {
        match Keywords::build(b.patterns.iter().map(|p| p.text.as_str())) {
            Ok(keywords) => Some(keywords),
            Err(error) => {
                b.diagnostics.push(Raw::global(format!(
                    "the keyword lists are too large to search: {error}"
                )));
                None
            }
        }
    };

    diagnostics.append(&mut b.diagnostics);
    let Some((tier, because, _)) = default else {
        diagnostics.extend(warnings);
        return Err(diagnostics);
    };
    if !diagnostics.is_empty() {
        diagnostics.extend(warnings);
        return Err(diagnostics);
    }
    let costs = program::node_costs(&b.nodes, &b.children, &lets, &b.atoms);
    program::order_children(&b.nodes, &mut b.children, &costs);
    // Once every operand is in cost order.
    let mut tests = Tests::default();
    for requirement in &requirements {
        tests.push(&candidate_test(&b, requirement.when), None);
    }
    for rule in &rules {
        tests.push(&candidate_test(&b, rule.when), rule.unless);
    }
    let index = Index::build(
        &Conditions {
            nodes: &b.nodes,
            children: &b.children,
            lets: &lets,
            atoms: &b.atoms,
            interned: b.interner.len(),
        },
        &requirements.iter().map(|r| r.when).collect::<Vec<_>>(),
        &rules.iter().map(|r| r.when).collect::<Vec<_>>(),
    );
    let rule_sets = RuleSets::build(&rules, &tests, index.requirements(), index.words());
    let any_of = b
        .atoms
        .iter()
        .map(|atom| AnyOf::build(atom, &b.patterns))
        .collect();
    Ok(Checked {
        program: Program {
            atoms: b.atoms,
            nodes: b.nodes,
            children: b.children,
            lets,
            requirements,
            rules,
            tests,
            default: (tier, because),
            interner: b.interner,
            slots: b.slots,
            patterns: b.patterns,
            keywords,
            any_of,
            regexes: b.regexes,
            declared: b.declared,
            index,
            rule_sets,
        },
        warnings,
    })
}

/// What the evaluator tests of a `when`: its conjuncts less its guards. The
/// evaluator tests a `when` only on the index's candidates, whose guards hold.
fn candidate_test(b: &Builder, when: u32) -> Box<[Lit]> {
    conjunction(&b.nodes, &b.children, when, |node| {
        index::is_guard(&b.nodes, &b.atoms, node)
    })
}

fn compile_template(b: &mut Builder, lit: &super::ast::StringLit) -> Option<Template> {
    let lets = &b.lets;
    match template::parse(lit, |name| lets.contains_key(name)) {
        Ok(t) => Some(t),
        Err(errors) => {
            b.diagnostics.extend(errors);
            None
        }
    }
}

fn duplicate(
    b: &mut Builder,
    seen: &mut BTreeMap<String, Span>,
    name: &str,
    span: Span,
    kind: &str,
) {
    match seen.get(name) {
        Some(first) => b.diagnostics.push(
            Raw::error(span, format!("duplicate {kind} name \"{name}\""))
                .help(format!(
                    "{kind} names are unique across the policy; rename one of them"
                ))
                .note(*first, format!("the first {kind} \"{name}\" is here")),
        ),
        None => {
            seen.insert(name.to_owned(), span);
        }
    }
}

fn declare_values(b: &mut Builder, statements: &[&Statement]) {
    let mut spans: BTreeMap<Field, Span> = BTreeMap::new();
    for statement in statements {
        let Statement::Values(decl) = statement else {
            continue;
        };
        let Some(field) = Field::resolve(&decl.path.text) else {
            let found =
                crate::suggest::suggest(&decl.path.text, super::schema::PATHS.iter().copied());
            b.diagnostics.push(
                Raw::error(
                    decl.path.span,
                    format!("unknown field `{}`", decl.path.text),
                )
                .maybe_help(found.map(|s| format!("did you mean `{s}`?"))),
            );
            continue;
        };
        if field.ty() != Type::Str {
            b.diagnostics.push(
                Raw::error(decl.path.span, format!("`values` applies to string fields; `{}` is {}", decl.path.text, field.ty().describe()))
                    .help("declare values for `product`, `category`, `attributes.NAME`, `service_health.status` …"),
            );
            continue;
        }
        if let Some(first) = spans.get(&field) {
            b.diagnostics.push(
                Raw::error(
                    decl.path.span,
                    format!("`values` for `{}` is declared twice", decl.path.text),
                )
                .help("merge the two lists into one")
                .note(*first, "the first declaration is here"),
            );
            continue;
        }
        let mut values: Vec<String> = Vec::new();
        let mut ok = true;
        for item in &decl.list.items {
            match item {
                super::ast::Literal::Str(s) if values.contains(&s.value) => {
                    b.diagnostics.push(
                        Raw::error(s.span, format!("\"{}\" is listed twice", s.value))
                            .help("remove the repeat"),
                    );
                    ok = false;
                }
                super::ast::Literal::Str(s) => values.push(s.value.clone()),
                other => {
                    b.diagnostics.push(
                        Raw::error(
                            other.span(),
                            format!(
                                "`{}` is a string field; its values are strings",
                                decl.path.text
                            ),
                        )
                        .help("quote the value"),
                    );
                    ok = false;
                }
            }
        }
        spans.insert(field.clone(), decl.path.span);
        if ok {
            b.declared.insert(field, values);
        }
    }
}

fn declare_lets<'a>(b: &mut Builder, statements: &[&'a Statement]) -> Vec<&'a super::ast::LetDecl> {
    let mut decls = Vec::new();
    for statement in statements {
        let Statement::Let(decl) = statement else {
            continue;
        };
        let order = decls.len();
        decls.push(decl);
        let name = &decl.name.name;
        if TOP_LEVEL.contains(&name.as_str()) {
            b.diagnostics.push(
                Raw::error(
                    decl.name.span,
                    format!("let `{name}` is named like the field `{name}`"),
                )
                .help("choose another name, so that the field stays readable"),
            );
            continue;
        }
        if let Some(first) = b.lets.get(name) {
            b.diagnostics.push(
                Raw::error(decl.name.span, format!("duplicate let `{name}`"))
                    .help("let names are unique across the policy; rename one of them")
                    .note(first.span, format!("the first let `{name}` is here")),
            );
            continue;
        }
        b.lets.insert(
            name.clone(),
            LetInfo {
                order,
                name: name.clone(),
                span: decl.name.span,
                reads_gaps: false,
            },
        );
    }
    decls
}

/// Warns about `within 0m` (or `0h`, `0d`): a deadline that is already
/// due when the case arrives, most likely a slip for a real span.
fn deadlines_of_zero(rules: &[&super::ast::Rule], warnings: &mut Vec<Raw>) {
    for within in rules.iter().filter_map(|rule| rule.within.as_ref()) {
        if within.value.minutes == 0 {
            warnings.push(
                Raw::warning(
                    within.span,
                    format!(
                        "`within {}` is due the moment the case arrives",
                        within.value.raw
                    ),
                )
                .help("give the time the desk has to act, such as `1h`"),
            );
        }
    }
}

/// Warns about rules that can never decide: a rule of a higher tier has the
/// same `when` (after formatting) and no `unless`.
fn shadowed_rules(rules: &[&super::ast::Rule], warnings: &mut Vec<Raw>) {
    // The strongest rule without `unless` for each formatted `when`, first in policy order.
    let mut strongest: std::collections::HashMap<String, &super::ast::Rule> =
        std::collections::HashMap::new();
    let texts: Vec<String> = rules
        .iter()
        .map(|r| format::expr_text(&r.when.value))
        .collect();
    for (rule, text) in rules.iter().zip(&texts) {
        if rule.unless.is_some() {
            continue;
        }
        let entry = strongest.entry(text.clone()).or_insert(rule);
        if rule.then.value > entry.then.value {
            *entry = rule;
        }
    }
    for (rule, text) in rules.iter().zip(&texts) {
        let Some(other) = strongest.get(text) else {
            continue;
        };
        if other.then.value > rule.then.value {
            warnings.push(
                Raw::warning(rule.name.span, format!("rule \"{}\" can never decide", rule.name.value))
                    .help(format!(
                        "rule \"{}\" ({}) has the same `when` and no `unless`, so it matches whenever this one does",
                        other.name.value, other.then.value
                    ))
                    .note(other.name.span, format!("rule \"{}\" is here", other.name.value)),
            );
        }
    }
}
