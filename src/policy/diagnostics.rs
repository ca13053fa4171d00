//! Diagnostics are data: severity, location, the underlined source text,
//! message, help and notes. The checker produces them with byte spans; this
//! module resolves spans into lines and columns (counted in characters from 1)
//! once, so a [`Diagnostic`] renders on its own, as `FILE:LINE:COL` text with a
//! caret line for people and as a JSON object for the API.

use std::fmt;
use std::path::Path;

use serde_json::{json, Value};
use unicode_width::UnicodeWidthChar;

use super::ast::Span;
use super::SourceFile;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Stops the load.
    Error,
    /// Reported; the policy still loads.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A secondary location, e.g. where a duplicate was first defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The file, when the note has a location.
    pub file: Option<String>,
    /// Line, from 1 (0 without a location).
    pub line: usize,
    /// Column in characters, from 1 (0 without a location).
    pub column: usize,
    /// What the note says.
    pub message: String,
}

/// One finding of the parser or the checker, resolved against its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file's base name; `None` for policy-wide findings (no `default`).
    pub file: Option<String>,
    /// Line of the span's start, from 1 (0 without a location).
    pub line: usize,
    /// Column of the span's start in characters, from 1 (0 without a location).
    pub column: usize,
    /// Line of the span's end.
    pub end_line: usize,
    /// Column just past the span's end, in characters.
    pub end_column: usize,
    /// The exact source text the span covers.
    pub span_text: String,
    /// The whole source line where the span starts, without its newline.
    pub source_line: String,
    /// What is wrong, short and lowercase.
    pub message: String,
    /// How to fix it, when a fix is likely.
    pub help: Option<String>,
    /// Other places that explain the finding.
    pub notes: Vec<Note>,
}

impl Diagnostic {
    /// The same finding with its file, and its notes' files, named as a
    /// path in `dir`: the command line prints `rules/tiers.rules:3:7`, a
    /// path the reader can open from where they ran the command, where the
    /// policy itself knows only `tiers.rules`.
    pub fn in_dir(mut self, dir: &Path) -> Self {
        let qualify = |file: &mut Option<String>| {
            if let Some(name) = file {
                *name = dir.join(&*name).display().to_string();
            }
        };
        qualify(&mut self.file);
        for note in &mut self.notes {
            qualify(&mut note.file);
        }
        self
    }

    /// Whether this diagnostic stops the load.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// A policy directory or file that cannot be read, as a diagnostic of
    /// its own, for the JSON forms (`--error-format json`, the reload
    /// answer) that have no other place for it. Line and column are 0.
    pub fn unreadable_policy(path: &Path, source: &std::io::Error) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: Some(path.display().to_string()),
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
            span_text: String::new(),
            source_line: String::new(),
            message: format!("cannot read the policy: {source}"),
            help: Some(
                "check the policy directory (`--rules`, `ESCALATOR_RULES`) and its permissions"
                    .to_owned(),
            ),
            notes: Vec::new(),
        }
    }

    /// The JSON object the HTTP API and `--error-format json` use:
    /// `{"file", "line", "column", "severity", "message", "help", "notes"}`,
    /// each note `{"file", "line", "column", "message"}` (the place that
    /// explains the finding: the first of two duplicates, the stronger rule).
    pub fn to_json(&self) -> Value {
        let notes: Vec<Value> = self
            .notes
            .iter()
            .map(|note| {
                json!({
                    "file": note.file,
                    "line": note.line,
                    "column": note.column,
                    "message": note.message,
                })
            })
            .collect();
        json!({
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity.as_str(),
            "message": self.message,
            "help": self.help,
            "notes": notes,
        })
    }

    /// Text for people: the location line, the source line with a caret
    /// line under the span, then help and notes.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let level = self.severity.as_str();
        match &self.file {
            Some(file) => out.push_str(&format!(
                "{file}:{}:{}: {level}: {}\n",
                self.line, self.column, self.message
            )),
            None => out.push_str(&format!("{level}: {}\n", self.message)),
        }
        let gutter = " ".repeat(self.line.to_string().len());
        if self.file.is_some() && self.line > 0 {
            // Pad and underline by display width, so the carets stay under
            // the span after wide (CJK) characters; a tab pads as a tab.
            let prefix: String = self
                .source_line
                .chars()
                .take(self.column.saturating_sub(1))
                .map(|c| {
                    if c == '\t' {
                        "\t".to_owned()
                    } else {
                        " ".repeat(display_width(c))
                    }
                })
                .collect();
            let same_line = self.end_line == self.line;
            let span_chars = if same_line {
                self.end_column.saturating_sub(self.column)
            } else {
                usize::MAX
            };
            let underlined: Vec<char> = self
                .source_line
                .chars()
                .skip(self.column.saturating_sub(1))
                .take(span_chars)
                .collect();
            // A span reaching past its line (the newline, the end of the
            // file) gets one caret per position past it, as one before.
            let past_line = if same_line {
                span_chars.saturating_sub(underlined.len())
            } else {
                1
            };
            let width = underlined.iter().copied().map(display_width).sum::<usize>() + past_line;
            out.push_str(&format!("{gutter} |\n"));
            out.push_str(&format!("{} | {}\n", self.line, self.source_line));
            out.push_str(&format!(
                "{gutter} | {prefix}{}\n",
                "^".repeat(width.max(1))
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("{gutter} = help: {help}\n"));
        }
        for note in &self.notes {
            match &note.file {
                Some(file) => out.push_str(&format!(
                    "{gutter} = note: {}:{}:{}: {}\n",
                    file, note.line, note.column, note.message
                )),
                None => out.push_str(&format!("{gutter} = note: {}\n", note.message)),
            }
        }
        out
    }
}

/// Columns a terminal gives `c`: 2 for East Asian wide characters, 0 for
/// combining marks and zero-width characters, else 1.
fn display_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Every diagnostic of one load (errors and warnings, sorted by file, line,
/// column) together with the sources they point into. The checker's error type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    sources: Vec<SourceFile>,
}

impl Diagnostics {
    /// Wraps resolved diagnostics; they are sorted here.
    pub fn new(mut items: Vec<Diagnostic>, sources: Vec<SourceFile>) -> Self {
        sort(&mut items);
        Self { items, sources }
    }

    /// Every diagnostic, sorted.
    pub fn all(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.is_error())
    }

    /// Only the warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| !d.is_error())
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// The sources the diagnostics point into.
    pub fn sources(&self) -> &[SourceFile] {
        &self.sources
    }

    /// All diagnostics as text, one block each, then a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            out.push_str(&item.render());
            out.push('\n');
        }
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        out.push_str(&format!(
            "{}, {}\n",
            counted(errors, "error"),
            counted(warnings, "warning")
        ));
        out
    }

    /// All diagnostics as a JSON array of [`Diagnostic::to_json`] objects.
    pub fn to_json(&self) -> Value {
        Value::Array(self.items.iter().map(Diagnostic::to_json).collect())
    }

    /// Every diagnostic with its file named as a path in `dir` (see
    /// [`Diagnostic::in_dir`]); the order stays the same.
    pub fn in_dir(mut self, dir: &Path) -> Self {
        self.items = self.items.into_iter().map(|d| d.in_dir(dir)).collect();
        self
    }

    /// Takes the diagnostics out.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

/// `1 error`, `2 errors`: a count and its noun, for summaries.
pub fn counted(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Sorts by file, line, column; policy-wide findings (no file) last.
pub fn sort(items: &mut [Diagnostic]) {
    items.sort_by(|a, b| {
        (a.file.is_none(), &a.file, a.line, a.column).cmp(&(
            b.file.is_none(),
            &b.file,
            b.line,
            b.column,
        ))
    });
}

/// A diagnostic with byte spans, before it is resolved against its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    /// Error or warning.
    pub severity: Severity,
    /// Where; `None` for policy-wide findings.
    pub span: Option<Span>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places.
    pub notes: Vec<(Option<Span>, String)>,
}

impl Raw {
    /// An error at `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            span: Some(span),
            message: message.into(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// A warning at `span`.
    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            span: Some(span),
            message: message.into(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// An error without a location.
    pub fn global(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            span: None,
            message: message.into(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Adds help.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds help when there is some.
    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Adds a note pointing at `span`.
    pub fn note(mut self, span: Span, message: impl Into<String>) -> Self {
        self.notes.push((Some(span), message.into()));
        self
    }

    /// Resolves spans into lines and columns against `sources`.
    pub fn resolve(&self, sources: &[SourceFile]) -> Diagnostic {
        let located = self.span.and_then(|span| locate(span, sources));
        let notes = self
            .notes
            .iter()
            .map(
                |(span, message)| match span.and_then(|s| locate(s, sources)) {
                    Some(at) => Note {
                        file: Some(at.file),
                        line: at.line,
                        column: at.column,
                        message: message.clone(),
                    },
                    None => Note {
                        file: None,
                        line: 0,
                        column: 0,
                        message: message.clone(),
                    },
                },
            )
            .collect();
        let (file, line, column, end_line, end_column, span_text, source_line) = match located {
            Some(at) => (
                Some(at.file),
                at.line,
                at.column,
                at.end_line,
                at.end_column,
                at.text,
                at.source_line,
            ),
            None => (None, 0, 0, 0, 0, String::new(), String::new()),
        };
        Diagnostic {
            severity: self.severity,
            file,
            line,
            column,
            end_line,
            end_column,
            span_text,
            source_line,
            message: self.message.clone(),
            help: self.help.clone(),
            notes,
        }
    }
}

struct Located {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    text: String,
    source_line: String,
}

fn locate(span: Span, sources: &[SourceFile]) -> Option<Located> {
    let source = sources.get(span.file)?;
    let text = &source.text;
    let start = floor_char(text, span.start.min(text.len()));
    let end = floor_char(text, span.end.min(text.len())).max(start);
    let (line, column) = line_column(text, start);
    let (end_line, end_column) = line_column(text, end);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    Some(Located {
        file: source.name.clone(),
        line,
        column,
        end_line,
        end_column,
        text: text[start..end].to_owned(),
        source_line: text[line_start..line_end].trim_end_matches('\r').to_owned(),
    })
}

fn floor_char(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Line and column (characters, from 1) of a byte offset.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..floor_char(text, at.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}
