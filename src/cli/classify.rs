//! `escalator classify`: classify cases offline, storing nothing. Also owns
//! what `rules` shares with it: loading the policy with its diagnostics
//! printed, and reading cases from a JSON object, an array or JSON lines,
//! each with its position so a refused case can be named.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

use super::output::{self, eout, eoutln, outln};
use super::{ClassifyArgs, CliError, ErrorFormat, OutputFormat};
use crate::case::{Capabilities, Case, CaseError, CaseInput};
use crate::config::{Settings, SettingsArgs};
use crate::policy::{LoadError, Loaded, Outcome, Policy};

/// The policy directory the settings name.
pub(super) fn rules_dir(settings: &SettingsArgs) -> Result<PathBuf, CliError> {
    Ok(Settings::resolve_offline(settings)?.rules_dir)
}

/// The policy in `dir`, its warnings and errors naming their files as
/// paths in `dir`, as the command line prints them (see
/// [`Diagnostic::in_dir`](crate::policy::diagnostics::Diagnostic::in_dir)).
pub(super) fn load_dir(dir: &Path) -> Result<Loaded, LoadError> {
    match Policy::load_dir(dir) {
        Ok(mut loaded) => {
            loaded.warnings = loaded.warnings.into_iter().map(|w| w.in_dir(dir)).collect();
            Ok(loaded)
        }
        Err(LoadError::Diagnostics(diagnostics)) => {
            Err(LoadError::Diagnostics(diagnostics.in_dir(dir)))
        }
        Err(error) => Err(error),
    }
}

/// Loads the policy; on errors prints them on stderr (as text or JSON) and returns `None`.
pub(super) fn load_policy(dir: &Path, format: ErrorFormat) -> Result<Option<Policy>, CliError> {
    match load_dir(dir) {
        Ok(loaded) => Ok(Some(loaded.policy)),
        Err(error) => {
            report_load_error(error, format, Stream::Stderr)?;
            Ok(None)
        }
    }
}

/// Where `--error-format json` prints: `rules check` answers on stdout,
/// the commands that go on to other work on stderr.
pub(super) enum Stream {
    Stdout,
    Stderr,
}

/// Prints why the policy did not load: diagnostics as text on stderr, or
/// every error as one JSON array on `json_to`. A directory that cannot be
/// read is, as text, the command's own error (`Err`).
pub(super) fn report_load_error(
    error: LoadError,
    format: ErrorFormat,
    json_to: Stream,
) -> Result<(), CliError> {
    match (error, format) {
        (error, ErrorFormat::Json) => {
            let array = Value::Array(error.to_json());
            match json_to {
                Stream::Stdout => outln!("{array}"),
                Stream::Stderr => eoutln!("{array}"),
            }
        }
        (LoadError::Diagnostics(diagnostics), ErrorFormat::Text) => {
            eout!("{}", diagnostics.render())
        }
        (LoadError::Io { path, source }, ErrorFormat::Text) => Err(CliError::Io { path, source }),
    }
}

/// One case read from an input, with where it was found.
struct Entry {
    /// `FILE[3]` in an array, `FILE:4` in JSON lines, `FILE` for a single object.
    pub position: String,
    /// The parsed case, or why it was refused.
    pub result: Result<CaseInput, CaseError>,
}

/// One item of an input, in the order it was written: a case, or a part
/// that is not JSON at all.
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every item is a case; boxing each would only add an allocation"
)]
enum Parsed {
    /// A case, admitted or refused.
    Case(Entry),
    /// Invalid JSON.
    Invalid(InputError),
}

/// Why an input could not be read as cases at all.
pub(super) struct InputError {
    /// `FILE:LINE:COL` (or the position of the line in JSON lines).
    pub position: String,
    /// What was wrong.
    pub message: String,
}

/// Reads cases from one input: a JSON object, an array of objects, or JSON
/// lines, each case or invalid part in the order it was written.
fn parse_cases(name: &str, text: &str) -> Vec<Parsed> {
    let case = |position: String, value: &Value| {
        Parsed::Case(Entry {
            position,
            result: Case::from_json_with_partner(value),
        })
    };
    if text.trim().is_empty() {
        return Vec::new();
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| case(format!("{name}[{index}]"), item))
            .collect(),
        Ok(value) => vec![case(name.to_owned(), &value)],
        Err(error) => {
            let first_line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default();
            if error.line() > 1 && serde_json::from_str::<Value>(first_line).is_ok() {
                text.lines()
                    .enumerate()
                    .filter(|(_, line)| !line.trim().is_empty())
                    .map(|(number, line)| match serde_json::from_str::<Value>(line) {
                        Ok(value) => case(format!("{name}:{}", number + 1), &value),
                        Err(error) => {
                            Parsed::Invalid(InputError::invalid_json(name, number + 1, &error))
                        }
                    })
                    .collect()
            } else {
                vec![Parsed::Invalid(InputError::invalid_json(
                    name,
                    error.line(),
                    &error,
                ))]
            }
        }
    }
}

impl InputError {
    /// Invalid JSON on line `line` of input `name`: the position is
    /// `NAME:LINE:COL` (serde's column, from 1: serde says 0 right after a
    /// newline at the end of the input), the message serde's without its own
    /// " at line L column C", which the position already says.
    pub(super) fn invalid_json(name: &str, line: usize, error: &serde_json::Error) -> Self {
        let message = error.to_string();
        let suffix = format!(" at line {} column {}", error.line(), error.column());
        let message = message.strip_suffix(&suffix).unwrap_or(&message);
        InputError {
            position: format!("{name}:{line}:{}", error.column().max(1)),
            message: format!("invalid JSON: {message}"),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.position, self.message)
    }
}

/// The cases of one input as intake would take them, in order, and how
/// many parts were left out: invalid JSON and refused cases, each reported
/// on stderr as it comes (`POSITION: case refused: …`).
pub(super) fn admitted_cases(
    policy: &Policy,
    name: &str,
    text: &str,
) -> Result<(Vec<CaseInput>, usize), CliError> {
    let mut cases = Vec::new();
    let mut left_out = 0;
    for parsed in parse_cases(name, text) {
        match parsed {
            Parsed::Invalid(error) => {
                left_out += 1;
                eoutln!("{error}")?;
            }
            Parsed::Case(entry) => match admitted(policy, entry.result) {
                Ok(input) => cases.push(input),
                Err(error) => {
                    left_out += 1;
                    eoutln!("{}: case refused: {}", entry.position, refusal(&error))?;
                }
            },
        }
    }
    Ok((cases, left_out))
}

/// Why a case was refused, as the command line words it: a case that is
/// not a JSON object is "the case", where the HTTP API names the body.
fn refusal(error: &CaseError) -> String {
    if error.field == crate::case::WHOLE_BODY {
        format!("the case {}", error.message)
    } else {
        error.to_string()
    }
}

/// A parsed case as intake would take it: also refused when a string field
/// holds a value outside the policy's declared `values`.
pub(super) fn admitted(
    policy: &Policy,
    parsed: Result<CaseInput, CaseError>,
) -> Result<CaseInput, CaseError> {
    let input = parsed?;
    policy.check_declared_values(&input.case)?;
    Ok(input)
}

/// Reads a file, or stdin for `-`.
pub(super) fn read_input(path: &Path) -> Result<(String, String), CliError> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| CliError::Io {
                path: path.to_owned(),
                source,
            })?;
        return Ok(("stdin".to_owned(), text));
    }
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok((path.display().to_string(), text))
}

/// Reads a stand-alone partner file.
pub(super) fn read_partner(path: &Path) -> Result<Capabilities, CliError> {
    let (name, text) = read_input(path)?;
    let value: Value = serde_json::from_str(&text).map_err(|error| {
        CliError::Failure(InputError::invalid_json(&name, error.line(), &error).to_string())
    })?;
    Capabilities::from_json(&value, "")
        .map_err(|error| CliError::Failure(format!("{name}: {error}")))
}

/// Classifies the given cases and prints one outcome per case.
pub fn run(settings: &SettingsArgs, args: &ClassifyArgs) -> Result<ExitCode, CliError> {
    let dir = rules_dir(settings)?;
    let partner_override = args.partner.as_deref().map(read_partner).transpose()?;
    let Some(policy) = load_policy(&dir, args.error_format)? else {
        return Ok(ExitCode::from(1));
    };
    let inputs: Vec<PathBuf> = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    };
    let mut failed = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut first = true;
    // Set once stdout's reader has gone away (`| head`): cases are then
    // only checked, no longer classified or written.
    let mut reader_gone = false;
    for input in &inputs {
        // An input that cannot be read is reported like a case that is
        // refused: the other inputs are still classified.
        let (name, text) = match read_input(input) {
            Ok(read) => read,
            Err(error) => {
                failed = true;
                eoutln!("error: {error}")?;
                continue;
            }
        };
        // Every case is checked, even once the reader is gone, so that the
        // exit code still says whether every case was admitted.
        let (cases, left_out) = admitted_cases(&policy, &name, &text)?;
        failed |= left_out > 0;
        if cases.is_empty() && left_out == 0 {
            // Most likely a pipe that gave nothing, or the wrong file: say
            // so, though no case is not an error (`[]` is a valid batch).
            eoutln!("warning: {name}: no case in it")?;
        }
        for input in cases {
            if reader_gone {
                break;
            }
            let partner = partner_override
                .clone()
                .or(input.partner)
                .unwrap_or_default();
            let outcome = policy.classify(&input.case, &partner);
            let text = match args.format {
                OutputFormat::Json => serde_json::to_string(&outcome).unwrap_or_default(),
                OutputFormat::Text => {
                    let block = render_text(&outcome);
                    if first {
                        block
                    } else {
                        format!("\n{block}")
                    }
                }
            };
            first = false;
            reader_gone = !output::write(
                &mut out,
                format_args!("{}\n", text.trim_end_matches('\n')),
                "stdout",
            )?;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// An outcome for people: decision, reasons, gaps, deciding rules, deadline.
pub fn render_text(outcome: &Outcome) -> String {
    let mut out = format!("{}: {}\n", outcome.case, outcome.decision);
    out.push_str("  reasons:\n");
    for reason in &outcome.reasons {
        // A reason may span lines (one that quotes `{text}` does); its
        // later lines are indented under its first, so each reason still
        // reads as one item of the list.
        let mut lines = reason.lines();
        out.push_str(&format!("    - {}\n", lines.next().unwrap_or_default()));
        for line in lines {
            out.push_str(&format!("      {line}\n"));
        }
    }
    let gaps: Vec<(&str, &crate::policy::Gap)> = outcome
        .gaps
        .kinds()
        .flat_map(|(kind, list)| list.iter().map(move |gap| (kind, gap)))
        .collect();
    if gaps.is_empty() {
        out.push_str("  gaps: none\n");
    } else {
        out.push_str("  gaps:\n");
        for (kind, gap) in gaps {
            out.push_str(&format!(
                "    - {kind} {} (requirement \"{}\")\n",
                gap.item, gap.requirement
            ));
        }
    }
    if outcome.deciding_rules.is_empty() {
        out.push_str("  deciding rules: none (the default decided)\n");
    } else {
        let names: Vec<String> = outcome
            .deciding_rules
            .iter()
            .map(|r| format!("\"{r}\""))
            .collect();
        out.push_str(&format!("  deciding rules: {}\n", names.join(", ")));
    }
    match outcome.within_minutes {
        Some(minutes) => out.push_str(&format!(
            "  deadline: within {} ({minutes} minutes)\n",
            human_minutes(minutes)
        )),
        None => out.push_str("  deadline: none\n"),
    }
    if !outcome.notify.is_empty() {
        out.push_str(&format!(
            "  notify: {}\n",
            outcome
                .notify
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

/// `1d`, `4h`, `90m`: the largest unit that divides the minutes.
pub fn human_minutes(minutes: u64) -> String {
    if minutes > 0 && minutes.is_multiple_of(24 * 60) {
        format!("{}d", minutes / (24 * 60))
    } else if minutes > 0 && minutes.is_multiple_of(60) {
        format!("{}h", minutes / 60)
    } else {
        format!("{minutes}m")
    }
}
