//! The rule language: text → syntax tree with spans (`syntax`, the only
//! module that sees pest) → checked, compiled program (`check`, `compile`)
//! → outcomes (`eval`). `format` prints the canonical layout; `diagnostics`
//! turns findings into `FILE:LINE:COL` text and JSON. The loaded [`Policy`]
//! is immutable and pure, cheap to share behind an `Arc` and swap whole.

pub mod ast;
mod check;
mod compile;
pub mod diagnostics;
mod eval;
pub mod format;
mod index;
mod keywords;
mod outcome;
mod program;
mod render;
mod schema;
pub mod syntax;
mod template;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use diagnostics::{Diagnostic, Diagnostics, Note, Severity as DiagnosticSeverity};
pub use outcome::{Gap, Gaps, MatchedRule, Name, Outcome};
pub use render::render_gaps;

use crate::case::{Capabilities, Case, CaseError};
use diagnostics::Raw;
use program::Program;
use schema::Field;

/// One policy file: its base name and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The base file name, e.g. `tiers.rules`.
    pub name: String,
    /// The file's content.
    pub text: String,
}

/// A loaded policy and the warnings its check produced.
#[derive(Debug)]
pub struct Loaded {
    /// The policy.
    pub policy: Policy,
    /// Warnings (unused lets, rules that can never decide).
    pub warnings: Vec<Diagnostic>,
}

/// Why a policy directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The directory or a file in it could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The policy has errors.
    #[error("{0}")]
    Diagnostics(#[from] Diagnostics),
}

impl LoadError {
    /// Every error as the JSON objects of `--error-format json` and the
    /// reload answer ([`Diagnostic::to_json`]); a directory or file that
    /// cannot be read is one such object too
    /// ([`Diagnostic::unreadable_policy`]).
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        match self {
            LoadError::Io { path, source } => {
                vec![Diagnostic::unreadable_policy(path, source).to_json()]
            }
            LoadError::Diagnostics(diagnostics) => {
                diagnostics.all().iter().map(Diagnostic::to_json).collect()
            }
        }
    }
}

/// Reads every `*.rules` file of `dir` (not recursive), sorted by name. A
/// directory without any, or a file that is not UTF-8 (located at its first
/// bad byte), is an error.
pub fn read_sources(dir: &Path) -> Result<Vec<SourceFile>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rules") || !path.is_file() {
            continue;
        }
        // `rules fmt` writes back to `dir/name`, so the name must be exact.
        let name = entry.file_name().into_string().map_err(|_| LoadError::Io {
            path: path.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the file name is not UTF-8; rename the file",
            ),
        })?;
        let bytes = std::fs::read(&path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        files.push(match String::from_utf8(bytes) {
            Ok(text) => (SourceFile { name, text }, None),
            Err(error) => {
                let valid = error.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
                (SourceFile { name, text }, Some(valid))
            }
        });
    }
    if files.is_empty() {
        // Most likely the wrong directory: say so, rather than "no default".
        return Err(LoadError::Io {
            path: dir.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no `*.rules` file in this directory",
            ),
        });
    }
    files.sort_by(|(a, _), (b, _)| policy_order(a, b));
    let not_utf8: Vec<Raw> = files
        .iter()
        .enumerate()
        .filter_map(|(file, (_, invalid))| {
            // The first bad sequence became U+FFFD (3 bytes) in the lossy text.
            let start = (*invalid)?;
            let span = ast::Span {
                file,
                start,
                end: start + '\u{fffd}'.len_utf8(),
            };
            Some(Raw::error(span, "this file is not UTF-8 text").help(
                "save the file as UTF-8 (an editor's \"save with encoding\"); \
                 policies are read as UTF-8 only",
            ))
        })
        .collect();
    let files: Vec<SourceFile> = files.into_iter().map(|(file, _)| file).collect();
    if !not_utf8.is_empty() {
        let items = not_utf8.iter().map(|r| r.resolve(&files)).collect();
        return Err(Diagnostics::new(items, files).into());
    }
    Ok(files)
}

/// The order of a policy's files: by the bytes of their names.
fn policy_order(a: &SourceFile, b: &SourceFile) -> std::cmp::Ordering {
    a.name.as_bytes().cmp(b.name.as_bytes())
}

/// How many cases ahead [`Policy::classify_each`] asks for the data a
/// case points to (and twice as far for the cases themselves). One
/// classification takes longer than a fetch from memory, so one would do;
/// two leave room for a faster processor or a slower memory.
const PREFETCH_AHEAD: usize = 2;

/// Asks the processor for the data of a case and its partner that
/// classification reads, so that the fetches of a case that has left the
/// caches overlap; see `Case::prefetch`.
#[inline]
fn prefetch(case: &Case, partner: &Capabilities) {
    case.prefetch();
    partner.prefetch();
}

/// A checked, compiled escalation policy. Immutable once loaded.
#[derive(Debug)]
pub struct Policy {
    program: Program,
    hash: Name,
    sources: Vec<SourceFile>,
}

impl Policy {
    /// Loads every `*.rules` file of `dir` (not recursive).
    pub fn load_dir(dir: &Path) -> Result<Loaded, LoadError> {
        Ok(Self::from_sources(read_sources(dir)?)?)
    }

    /// Checks and compiles a policy from its files (any order; they are sorted by name).
    pub fn from_sources(mut files: Vec<SourceFile>) -> Result<Loaded, Diagnostics> {
        files.sort_by(policy_order);
        let mut raws = Vec::new();
        let mut parsed = Vec::with_capacity(files.len());
        for (index, file) in files.iter().enumerate() {
            match syntax::parse_file(&file.text, index) {
                Ok(tree) => parsed.push(Some(tree)),
                Err(error) => {
                    raws.push(Raw::error(error.span, error.message).maybe_help(error.help));
                    parsed.push(None);
                }
            }
        }
        match check::check(&parsed, raws) {
            Ok(checked) => {
                let mut warnings: Vec<Diagnostic> =
                    checked.warnings.iter().map(|w| w.resolve(&files)).collect();
                diagnostics::sort(&mut warnings);
                let hash = policy_hash(&files);
                Ok(Loaded {
                    policy: Policy {
                        program: checked.program,
                        hash: Name::from(hash.as_str()),
                        sources: files,
                    },
                    warnings,
                })
            }
            Err(raws) => {
                let items = raws.iter().map(|r| r.resolve(&files)).collect();
                Err(Diagnostics::new(items, files))
            }
        }
    }

    /// Classifies one case for a partner with the given capabilities.
    #[inline]
    pub fn classify(&self, case: &Case, partner: &Capabilities) -> Outcome {
        prefetch(case, partner);
        eval::classify(&self.program, self.hash, case, partner, None)
    }

    /// Classifies each case for its partner, in order, one outcome at a time
    /// (each outcome is the caller's to keep or drop before the next).
    ///
    /// The same outcomes as [`Policy::classify`] case by case, sooner when
    /// the cases have left the processor's caches, as a batch read back or
    /// loaded from a file has: while one case is classified, the processor
    /// is already fetching the next cases' data, first the cases themselves
    /// (`2 × PREFETCH_AHEAD` places on), then what they point to
    /// (`PREFETCH_AHEAD` places on, by which time their pointers are in
    /// cache).
    pub fn classify_each<'a>(
        &'a self,
        cases: &'a [(Case, Capabilities)],
    ) -> impl Iterator<Item = Outcome> + 'a {
        for (case, partner) in cases.iter().take(PREFETCH_AHEAD) {
            prefetch(case, partner);
        }
        cases.iter().enumerate().map(move |(at, (case, partner))| {
            if let Some(far) = cases.get(at + 2 * PREFETCH_AHEAD) {
                crate::prefetch::object(far);
            }
            if let Some((near, its_partner)) = cases.get(at + PREFETCH_AHEAD) {
                prefetch(near, its_partner);
            }
            eval::classify(&self.program, self.hash, case, partner, None)
        })
    }

    /// Classifies one case and also names the requirements whose `when` held
    /// (for `rules test --coverage`).
    pub fn classify_traced(&self, case: &Case, partner: &Capabilities) -> (Outcome, Vec<&str>) {
        prefetch(case, partner);
        let mut matched = Vec::new();
        let outcome = eval::classify(&self.program, self.hash, case, partner, Some(&mut matched));
        let names = matched
            .iter()
            .filter_map(|i| self.program.requirements.get(*i).map(|r| r.name.as_str()))
            .collect();
        (outcome, names)
    }

    /// Refuses a case whose string fields hold values outside the policy's
    /// `values` declarations, naming the field and listing the allowed values.
    pub fn check_declared_values(&self, case: &Case) -> Result<(), CaseError> {
        let nobody = Capabilities::default();
        for (field, allowed) in &self.program.declared {
            if *field == Field::PartnerId {
                continue;
            }
            let Some(value) = field.string_value(case, &nobody) else {
                continue;
            };
            if !allowed.iter().any(|a| a == value) {
                let hint = crate::suggest::suggest(value, allowed.iter().map(String::as_str))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                let list = allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let detail = if allowed.is_empty() {
                    format!("`{value}` is not an allowed value; the policy's `values` declaration for this field lists none")
                } else {
                    format!("`{value}` is not an allowed value{hint}; allowed: {list}")
                };
                return Err(CaseError::invalid(field_path(field), detail));
            }
        }
        Ok(())
    }

    /// `sha256:` + hex SHA-256 over each file (sorted by name): name, NUL, content, NUL.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Rule names in policy order.
    pub fn rule_names(&self) -> Vec<&str> {
        self.program.rules.iter().map(|r| r.name.as_str()).collect()
    }

    /// Requirement names in policy order.
    pub fn requirement_names(&self) -> Vec<&str> {
        self.program
            .requirements
            .iter()
            .map(|r| r.name.as_str())
            .collect()
    }

    /// The files the policy was loaded from, sorted by name.
    pub fn sources(&self) -> &[SourceFile] {
        &self.sources
    }
}

fn field_path(field: &Field) -> String {
    match field {
        Field::Product => "product".to_owned(),
        Field::Category => "category".to_owned(),
        Field::CustomerTenant => "customer.tenant".to_owned(),
        Field::CustomerName => "customer.name".to_owned(),
        Field::Attribute(name) => format!("attributes.{name}"),
        Field::HealthIncident => "service_health.incident".to_owned(),
        Field::HealthStatus => "service_health.status".to_owned(),
        Field::PartnerId => "partner.id".to_owned(),
        other => format!("{other:?}"),
    }
}

/// The policy hash of a set of files (sorted by name here).
pub fn policy_hash(files: &[SourceFile]) -> String {
    let mut sorted: Vec<&SourceFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut hasher = Sha256::new();
    for file in sorted {
        hasher.update(file.name.as_bytes());
        hasher.update([0u8]);
        hasher.update(file.text.as_bytes());
        hasher.update([0u8]);
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// Parses and prints one file in the canonical layout; a syntax error is
/// returned as diagnostics of that file alone.
pub fn format_source(file: &SourceFile) -> Result<String, Diagnostics> {
    match syntax::parse_file(&file.text, 0) {
        Ok(tree) => Ok(format::format_file(&file.text, &tree)),
        Err(error) => {
            let sources = vec![file.clone()];
            let item = Raw::error(error.span, error.message)
                .maybe_help(error.help)
                .resolve(&sources);
            Err(Diagnostics::new(vec![item], sources))
        }
    }
}

#[cfg(test)]
mod send_sync {
    #[test]
    fn a_policy_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Policy>();
    }
}
