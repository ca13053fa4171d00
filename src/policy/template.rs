//! Reason templates: `{PATH}` and `{gaps}` placeholders, `{{`/`}}` for
//! braces. Parsed from the literal's raw text so that an error points at
//! the exact placeholder, and rendered against one case after evaluation.

use super::ast::{Span, StringLit};
use super::diagnostics::Raw;
use super::schema::{Field, PATHS};
use crate::suggest::suggest;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Pieces in order.
    pub segments: Vec<Segment>,
    /// The bytes a rendering usually takes: the literal text plus a typical
    /// value per placeholder. A reason is rendered straight into a string of
    /// this capacity, so most reasons are written once and never copied.
    pub size_hint: usize,
}

/// The bytes reserved for one field's value: a product, a category, a
/// severity or a number fits, and so do most sets.
const FIELD_HINT: usize = 32;
/// The bytes reserved for `{gaps}`: a kind or two with a few items each.
const GAPS_HINT: usize = 96;

impl Template {
    /// A template of these pieces.
    pub fn new(segments: Vec<Segment>) -> Self {
        let size_hint = segments
            .iter()
            .map(|segment| match segment {
                Segment::Lit(text) => text.len(),
                Segment::Field(_) => FIELD_HINT,
                Segment::Gaps => GAPS_HINT,
            })
            .sum();
        Template {
            segments,
            size_hint,
        }
    }
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text.
    Lit(String),
    /// `{PATH}`.
    Field(Field),
    /// `{gaps}`.
    Gaps,
}

/// Parses a template literal; every error found is returned. `is_let` tells
/// a let's name (which a template cannot show) from an unknown name.
pub fn parse(lit: &StringLit, is_let: impl Fn(&str) -> bool) -> Result<Template, Vec<Raw>> {
    let base = lit.span.start + 1;
    let file = lit.span.file;
    let raw = &lit.raw;
    let mut segments = Vec::new();
    let mut text = String::new();
    let mut errors = Vec::new();
    let mut chars = raw.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, other)) => text.push(other),
                None => {}
            },
            '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                chars.next();
                text.push('}');
            }
            '}' => errors.push(
                Raw::error(
                    Span {
                        file,
                        start: base + at,
                        end: base + at + 1,
                    },
                    "unmatched `}` in template",
                )
                .help("write `}}` for a literal brace"),
            ),
            '{' => {
                let mut name = String::new();
                let mut end = None;
                for (inner_at, inner) in chars.by_ref() {
                    if inner == '}' {
                        end = Some(inner_at);
                        break;
                    }
                    name.push(inner);
                }
                let Some(end) = end else {
                    errors.push(
                        Raw::error(
                            Span {
                                file,
                                start: base + at,
                                end: base + raw.len(),
                            },
                            "unclosed `{` in template",
                        )
                        .help("close the placeholder with `}`, or write `{{` for a literal brace"),
                    );
                    break;
                };
                let span = Span {
                    file,
                    start: base + at,
                    end: base + end + 1,
                };
                if !text.is_empty() {
                    segments.push(Segment::Lit(std::mem::take(&mut text)));
                }
                if name == "gaps" {
                    segments.push(Segment::Gaps);
                } else if let Some(field) = Field::resolve(&name) {
                    segments.push(Segment::Field(field));
                } else if name.trim().is_empty() {
                    errors.push(Raw::error(span, "empty placeholder `{}` in template").help(
                        "name a field, e.g. `{product}`, or write `{{}}` for literal braces",
                    ));
                } else if is_let(&name) {
                    errors.push(
                        Raw::error(span, format!("let `{name}` cannot be shown in a template"))
                            .help("a let is a condition; a template shows fields and `{gaps}`"),
                    );
                } else {
                    let mut candidates: Vec<&str> = PATHS.to_vec();
                    candidates.push("gaps");
                    errors.push(
                        Raw::error(span, format!("unknown field `{name}` in template")).maybe_help(
                            suggest(&name, candidates).map(|s| format!("did you mean `{{{s}}}`?")),
                        ),
                    );
                }
            }
            other => text.push(other),
        }
    }
    if !text.is_empty() {
        segments.push(Segment::Lit(text));
    }
    if errors.is_empty() {
        Ok(Template::new(segments))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_hint_is_the_literal_text_and_a_typical_value_per_placeholder() {
        let template = Template::new(vec![
            Segment::Lit("Rule ".to_owned()),
            Segment::Field(Field::Product),
            Segment::Lit(": ".to_owned()),
            Segment::Gaps,
        ]);
        assert_eq!(template.size_hint, 5 + FIELD_HINT + 2 + GAPS_HINT);
        assert_eq!(Template::new(Vec::new()).size_hint, 0);
    }
}
