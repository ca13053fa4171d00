//! The canonical printer behind `rules fmt`: two-space blocks, clauses in
//! their fixed order, minimal parentheses, long lists and conditions broken
//! one item per line. Comments are not in the syntax tree, so they are
//! collected from the text and re-attached by position: a comment on its own
//! line stays before the code that followed it, a comment after code stays at
//! the end of that code's line. Printing never changes meaning, and printing
//! printed text gives the same text. A condition is broken over lines only
//! when it is too long: comments inside a one-line condition move to the end
//! of its line.

use super::ast::{Expr, File, List, Literal, Statement, Test, TestKind, Value};

/// Lines longer than this are broken where the layout allows.
pub const WIDTH: usize = 100;

/// A comment found in the source.
#[derive(Debug, Clone)]
pub(crate) struct Comment {
    /// Where its `#` is.
    pub(crate) start: usize,
    /// Where its line ends.
    pub(crate) end: usize,
    text: String,
    /// Nothing but whitespace before it on its line.
    own_line: bool,
}

/// Finds every comment, skipping strings.
pub(crate) fn comments(source: &str) -> Vec<Comment> {
    let mut found = Vec::new();
    let mut chars = source.char_indices().peekable();
    let mut in_string = false;
    let mut line_has_code = false;
    while let Some((at, c)) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' | '\n' => in_string = false,
                _ => {}
            }
            if c == '\n' {
                line_has_code = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                line_has_code = true;
            }
            '#' => {
                let end = source[at..].find('\n').map_or(source.len(), |i| at + i);
                found.push(Comment {
                    start: at,
                    end,
                    text: source[at..end].trim_end().to_owned(),
                    own_line: !line_has_code,
                });
                while chars.peek().is_some_and(|(i, _)| *i < end) {
                    chars.next();
                }
            }
            '\n' => line_has_code = false,
            c if c.is_whitespace() => {}
            _ => line_has_code = true,
        }
    }
    found
}

/// Whether the text between two offsets holds an empty line.
fn blank_between(source: &str, from: usize, to: usize) -> bool {
    let Some(text) = source.get(from.min(to)..to) else {
        return false;
    };
    let mut newlines = 0;
    for c in text.chars() {
        match c {
            '\n' => {
                newlines += 1;
                if newlines >= 2 {
                    return true;
                }
            }
            c if c.is_whitespace() => {}
            _ => newlines = 0,
        }
    }
    false
}

struct Printer<'a> {
    source: &'a str,
    comments: Vec<Comment>,
    next: usize,
    lines: Vec<String>,
    /// End offset of the last own-line top-level comment printed, if it was the last thing printed.
    last_comment_end: Option<usize>,
}

impl Printer<'_> {
    /// Prints the comments that come before `anchor`; own-line ones at `indent`.
    fn flush(&mut self, anchor: usize, indent: usize) {
        while let Some(comment) = self.comments.get(self.next).cloned() {
            if comment.start >= anchor {
                break;
            }
            self.next += 1;
            if comment.own_line || self.lines.is_empty() {
                if indent == 0
                    && !self.lines.is_empty()
                    && self.lines.last().is_some_and(|l| !l.is_empty())
                    && self.source[..comment.start]
                        .trim_end_matches([' ', '\t'])
                        .ends_with("\n\n")
                {
                    self.lines.push(String::new());
                }
                self.lines
                    .push(format!("{}{}", " ".repeat(indent), comment.text));
                self.last_comment_end = (indent == 0).then_some(comment.end);
            } else if let Some(last) = self.lines.last_mut() {
                last.push_str("  ");
                last.push_str(&comment.text);
            }
        }
    }

    /// Prints trailing comments that sit on the line of code ending before `anchor`.
    fn flush_trailing(&mut self, anchor: usize) {
        self.append_comments(anchor, false);
    }

    fn line(&mut self, anchor: usize, indent: usize, comment_indent: usize, text: String) {
        self.flush(anchor, comment_indent);
        self.lines.push(format!("{}{}", " ".repeat(indent), text));
        self.last_comment_end = None;
    }

    /// Moves the comments that sit inside code just printed on one line
    /// (those before `end`) to the end of that line, in source order.
    fn end_line(&mut self, end: usize) {
        self.append_comments(end, true);
    }

    /// Appends the next comments before `end` to the last line printed,
    /// stopping at the first own-line comment unless `own_line_too`.
    fn append_comments(&mut self, end: usize, own_line_too: bool) {
        while let Some(comment) = self.comments.get(self.next) {
            if comment.start >= end || (comment.own_line && !own_line_too) {
                break;
            }
            let text = comment.text.clone();
            self.next += 1;
            if let Some(last) = self.lines.last_mut() {
                last.push_str("  ");
                last.push_str(&text);
            }
        }
    }

    fn has_comment_within(&self, start: usize, end: usize) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|c| c.start >= start && c.start < end)
    }
}

/// Formats one parsed file; `source` is the text it was parsed from.
pub fn format_file(source: &str, file: &File) -> String {
    let mut p = Printer {
        source,
        comments: comments(source),
        next: 0,
        lines: Vec::new(),
        last_comment_end: None,
    };
    let mut previous: Option<&Statement> = None;
    for statement in &file.statements {
        let span = statement.span();
        if let Some(prev) = previous {
            p.flush_trailing(span.start);
            let grouped = matches!(
                (prev, statement),
                (Statement::Values(_), Statement::Values(_))
                    | (Statement::Let(_), Statement::Let(_))
            );
            let first_own = p.comments[p.next..]
                .iter()
                .find(|c| c.start < span.start)
                .map_or(span.start, |c| c.start);
            if !grouped || blank_between(source, prev.span().end, first_own) {
                p.lines.push(String::new());
            }
        }
        p.flush(span.start, 0);
        if let Some(end) = p.last_comment_end {
            if blank_between(source, end, span.start) {
                p.lines.push(String::new());
            }
        }
        statement_lines(&mut p, statement);
        previous = Some(statement);
    }
    p.flush(usize::MAX, 0);
    let mut out = p.lines.join("\n");
    while out.ends_with('\n') {
        out.pop();
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn statement_lines(p: &mut Printer<'_>, statement: &Statement) {
    match statement {
        Statement::Values(decl) => {
            let head = format!("values {} = ", decl.path.text);
            list_lines(p, decl.span.start, 0, head, &decl.list);
        }
        Statement::Let(decl) => expr_lines(
            p,
            decl.span.start,
            0,
            format!("let {} = ", decl.name.name),
            &decl.expr,
        ),
        Statement::Requirement(req) => {
            p.line(
                req.span.start,
                0,
                0,
                format!("requirement \"{}\" {{", req.name.raw),
            );
            expr_lines(
                p,
                req.when.span.start,
                2,
                "when ".to_owned(),
                &req.when.value,
            );
            let needs: Vec<String> = req
                .needs
                .value
                .iter()
                .map(|n| format!("{} \"{}\"", n.kind.as_str(), n.item.raw))
                .collect();
            p.line(
                req.needs.span.start,
                2,
                2,
                format!("needs {}", needs.join(", ")),
            );
            p.end_line(req.needs.span.end);
            p.line(req.close.start, 0, 2, "}".to_owned());
        }
        Statement::Rule(rule) => {
            p.line(
                rule.span.start,
                0,
                0,
                format!("rule \"{}\" {{", rule.name.raw),
            );
            expr_lines(
                p,
                rule.when.span.start,
                2,
                "when ".to_owned(),
                &rule.when.value,
            );
            if let Some(unless) = &rule.unless {
                expr_lines(p, unless.span.start, 2, "unless ".to_owned(), &unless.value);
            }
            p.line(
                rule.then.span.start,
                2,
                2,
                format!("then {}", rule.then.value),
            );
            if let Some(because) = &rule.because {
                p.line(
                    because.span.start,
                    2,
                    2,
                    format!("because \"{}\"", because.value.raw),
                );
            }
            if let Some(within) = &rule.within {
                p.line(
                    within.span.start,
                    2,
                    2,
                    format!("within {}", within.value.raw),
                );
            }
            if let Some(notify) = &rule.notify {
                let addresses: Vec<String> = notify
                    .value
                    .iter()
                    .map(|a| format!("\"{}\"", a.raw))
                    .collect();
                p.line(
                    notify.span.start,
                    2,
                    2,
                    format!("notify {}", addresses.join(", ")),
                );
                p.end_line(notify.span.end);
            }
            p.line(rule.close.start, 0, 2, "}".to_owned());
        }
        Statement::Default(decl) => {
            p.line(
                decl.span.start,
                0,
                0,
                format!("default {} because \"{}\"", decl.tier, decl.because.raw),
            );
            p.end_line(decl.span.end);
        }
    }
}

fn list_lines(p: &mut Printer<'_>, anchor: usize, indent: usize, head: String, list: &List) {
    let one_line = format!("{head}{}", list_text(list));
    let commented = p.has_comment_within(list.span.start, list.span.end);
    if (indent + one_line.chars().count() <= WIDTH && !commented) || list.items.is_empty() {
        p.line(anchor, indent, indent, one_line);
        p.end_line(list.span.end);
        return;
    }
    p.line(anchor, indent, indent, format!("{head}["));
    for item in &list.items {
        p.line(
            item.span().start,
            indent + 2,
            indent + 2,
            format!("{},", literal_text(item)),
        );
    }
    p.line(
        list.span.end.saturating_sub(1),
        indent,
        indent + 2,
        "]".to_owned(),
    );
}

/// Prints a condition after `head`: on one line when it fits and holds no
/// comment, otherwise one top-level operand per line, so that a comment
/// stays beside the operand it was written next to.
fn expr_lines(p: &mut Printer<'_>, anchor: usize, indent: usize, head: String, expr: &Expr) {
    let span = expr.span();
    let (operands, joiner, prec) = match expr {
        Expr::Or(operands, _) => (operands, "or", OR),
        Expr::And(operands, _) => (operands, "and", AND),
        _ => {
            operand_lines(p, anchor, indent, head, expr, OR);
            return;
        }
    };
    // Broken at a comment before the last operand, or at a list with a
    // comment inside. A comment within the last operand moves to the end
    // of the line either way, so the choice is the same when the printed
    // text is printed again.
    let last_start = operands.last().map_or(span.end, |last| last.span().start);
    let commented = p.has_comment_within(span.start, last_start)
        || operands
            .iter()
            .any(|operand| commented_list(p, operand).is_some());
    let one_line = format!("{head}{}", expr_text(expr));
    if indent + one_line.chars().count() <= WIDTH && !commented {
        p.line(anchor, indent, indent, one_line);
        p.end_line(span.end);
        return;
    }
    for (i, operand) in operands.iter().enumerate() {
        if i == 0 {
            operand_lines(p, anchor, indent, head.clone(), operand, prec);
        } else {
            let start = operand.span().start;
            operand_lines(p, start, indent + 2, format!("{joiner} "), operand, prec);
        }
    }
}

/// Prints one operand of a condition after `head`. A test against a list
/// with a comment inside prints the list one item per line, as `values`
/// does; anything else is one line, its inner comments moved to its end.
fn operand_lines(
    p: &mut Printer<'_>,
    anchor: usize,
    indent: usize,
    head: String,
    operand: &Expr,
    prec: u8,
) {
    if let Some((value, keyword, list)) = commented_list(p, operand) {
        let head = format!("{head}{} {keyword} ", value_text(value));
        list_lines(p, anchor, indent, head, list);
        return;
    }
    p.line(
        anchor,
        indent,
        indent,
        format!("{head}{}", child_text(operand, prec)),
    );
    p.end_line(operand.span().end);
}

/// The value, keyword and list of an operand that tests against a list
/// with a comment inside.
fn commented_list<'e>(
    p: &Printer<'_>,
    operand: &'e Expr,
) -> Option<(&'e Value, &'static str, &'e List)> {
    let Expr::Test(test) = operand else {
        return None;
    };
    let (value, keyword, list) = match &test.kind {
        TestKind::In(value, list) => (value, "in", list),
        TestKind::ContainsAny(value, list) => (value, "contains any", list),
        TestKind::ContainsAll(value, list) => (value, "contains all", list),
        _ => return None,
    };
    p.has_comment_within(list.span.start, list.span.end)
        .then_some((value, keyword, list))
}

const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;

fn precedence(expr: &Expr) -> u8 {
    match expr {
        Expr::Or(..) => OR,
        Expr::And(..) => AND,
        Expr::Not(..) | Expr::Test(_) => NOT,
    }
}

/// A child printed inside a parent of precedence `parent`: parenthesised
/// when its own precedence is not higher, so the tree reads back the same.
fn child_text(expr: &Expr, parent: u8) -> String {
    let text = expr_text(expr);
    if precedence(expr) <= parent && !matches!(expr, Expr::Test(_) | Expr::Not(..)) {
        format!("({text})")
    } else {
        text
    }
}

/// The canonical one-line text of a condition.
pub fn expr_text(expr: &Expr) -> String {
    match expr {
        Expr::Or(operands, _) => operands
            .iter()
            .map(|e| child_text(e, OR))
            .collect::<Vec<_>>()
            .join(" or "),
        Expr::And(operands, _) => operands
            .iter()
            .map(|e| child_text(e, AND))
            .collect::<Vec<_>>()
            .join(" and "),
        Expr::Not(inner, _) => format!("not {}", child_text(inner, NOT)),
        Expr::Test(test) => test_text(test),
    }
}

fn test_text(test: &Test) -> String {
    match &test.kind {
        TestKind::Truthy(value) => value_text(value),
        TestKind::Compare(left, op, right) => {
            format!("{} {} {}", value_text(left), op.as_str(), value_text(right))
        }
        TestKind::In(value, list) => format!("{} in {}", value_text(value), list_text(list)),
        TestKind::Contains(value, item) => {
            format!("{} contains {}", value_text(value), value_text(item))
        }
        TestKind::ContainsAny(value, list) => {
            format!("{} contains any {}", value_text(value), list_text(list))
        }
        TestKind::ContainsAll(value, list) => {
            format!("{} contains all {}", value_text(value), list_text(list))
        }
        TestKind::Matches(value, pattern) => {
            format!("{} matches \"{}\"", value_text(value), pattern.raw)
        }
        TestKind::Exists(path) => format!("exists {}", path.text),
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Path(path) => path.text.clone(),
        Value::Literal(lit) => literal_text(lit),
    }
}

fn literal_text(lit: &Literal) -> String {
    match lit {
        Literal::Str(s) => format!("\"{}\"", s.raw),
        Literal::Int(n) => n.raw.clone(),
        Literal::Duration(d) => d.raw.clone(),
    }
}

fn list_text(list: &List) -> String {
    format!(
        "[{}]",
        list.items
            .iter()
            .map(literal_text)
            .collect::<Vec<_>>()
            .join(", ")
    )
}
