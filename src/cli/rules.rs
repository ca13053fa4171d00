//! `escalator rules check|test|bench|fmt`: the rule author's tools. Each
//! prints results to stdout and problems to stderr, and returns 0 on
//! success, 1 on anything the author must fix.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde_json::{Map, Value};

use super::classify::{
    admitted, admitted_cases, load_dir, load_policy, read_input, report_load_error, rules_dir,
    InputError, Stream,
};
use super::output::{eout, eoutln, outln};
use super::{CliError, ErrorFormat, RulesCommand};
use crate::case::{Case, Tier};
use crate::config::SettingsArgs;
use crate::policy::diagnostics::counted;
use crate::policy::{format_source, read_sources, LoadError, Outcome};

/// Runs one `rules` subcommand.
pub fn run(settings: &SettingsArgs, command: RulesCommand) -> Result<ExitCode, CliError> {
    let dir = rules_dir(settings)?;
    match command {
        RulesCommand::Check { error_format } => check(&dir, error_format),
        RulesCommand::Test {
            coverage,
            error_format,
        } => test(&dir, coverage, error_format),
        RulesCommand::Bench { file } => bench(&dir, &file),
        RulesCommand::Fmt { check } => fmt(&dir, check),
    }
}

fn check(dir: &Path, format: ErrorFormat) -> Result<ExitCode, CliError> {
    match load_dir(dir) {
        Ok(loaded) => {
            match format {
                ErrorFormat::Json => {
                    outln!(
                        "{}",
                        Value::Array(loaded.warnings.iter().map(|w| w.to_json()).collect())
                    )?;
                }
                ErrorFormat::Text => {
                    for warning in &loaded.warnings {
                        eoutln!("{warning}")?;
                    }
                    let policy = &loaded.policy;
                    outln!(
                        "{}: ok ({}, {}, {}, {})",
                        dir.display(),
                        counted(policy.sources().len(), "file"),
                        counted(policy.rule_names().len(), "rule"),
                        counted(policy.requirement_names().len(), "requirement"),
                        counted(loaded.warnings.len(), "warning")
                    )?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            report_load_error(error, format, Stream::Stdout)?;
            Ok(ExitCode::from(1))
        }
    }
}

/// One test case of a `tests/*.json` file.
struct TestCase {
    position: String,
    name: String,
    case: Result<crate::case::CaseInput, crate::case::CaseError>,
    decision: Tier,
    deciding_rules: Option<Vec<String>>,
    gaps: Vec<(&'static str, Vec<String>)>,
}

fn test(dir: &Path, coverage: bool, format: ErrorFormat) -> Result<ExitCode, CliError> {
    let Some(policy) = load_policy(dir, format)? else {
        return Ok(ExitCode::from(1));
    };
    let tests_dir = dir.join("tests");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&tests_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
            .collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(CliError::Io {
                path: tests_dir,
                source,
            })
        }
    };
    files.sort();
    if files.is_empty() {
        eoutln!(
            "warning: no test file (`*.json`) in {}; nothing was tested",
            tests_dir.display()
        )?;
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut matched_rules: BTreeSet<String> = BTreeSet::new();
    let mut matched_requirements: BTreeSet<String> = BTreeSet::new();
    for file in &files {
        let (name, text) = read_input(file)?;
        let tests = match parse_test_file(&name, &text) {
            Ok(tests) => tests,
            Err(message) => {
                eoutln!("error: {message}")?;
                failed += 1;
                continue;
            }
        };
        for mut test in tests {
            let case = std::mem::replace(
                &mut test.case,
                Err(crate::case::CaseError::invalid("case", "already taken")),
            );
            let input = match admitted(&policy, case) {
                Ok(input) => input,
                Err(mut error) => {
                    // Named as in the test file, whether the case's own
                    // shape or the policy's `values` refused it.
                    error.field = if error.field == crate::case::WHOLE_BODY {
                        "case".to_owned()
                    } else {
                        format!("case.{}", error.field)
                    };
                    outln!(
                        "FAIL {} \"{}\"\n  the case is refused: {error}",
                        test.position,
                        test.name
                    )?;
                    failed += 1;
                    continue;
                }
            };
            let partner = input.partner.clone().unwrap_or_default();
            let (outcome, requirements) = policy.classify_traced(&input.case, &partner);
            matched_rules.extend(outcome.matched_rules.iter().map(|m| m.rule.to_string()));
            matched_requirements.extend(requirements.into_iter().map(str::to_owned));
            let problems = compare(&test, &outcome);
            if problems.is_empty() {
                passed += 1;
            } else {
                failed += 1;
                outln!("FAIL {} \"{}\"", test.position, test.name)?;
                for problem in problems {
                    outln!("  {problem}")?;
                }
            }
        }
    }
    if coverage {
        let rules = policy.rule_names();
        let requirements = policy.requirement_names();
        let rules_hit = rules.iter().filter(|r| matched_rules.contains(**r)).count();
        let requirements_hit = requirements
            .iter()
            .filter(|r| matched_requirements.contains(**r))
            .count();
        outln!(
            "coverage: {rules_hit} of {} rules and {requirements_hit} of {} requirements matched by a test",
            rules.len(),
            requirements.len()
        )?;
        for rule in rules.iter().filter(|r| !matched_rules.contains(**r)) {
            outln!("  not matched: rule \"{rule}\"")?;
        }
        for requirement in requirements
            .iter()
            .filter(|r| !matched_requirements.contains(**r))
        {
            outln!("  not matched: requirement \"{requirement}\"")?;
        }
    }
    outln!("{passed} passed, {failed} failed")?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn compare(test: &TestCase, outcome: &Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    if outcome.decision != test.decision {
        problems.push(format!(
            "decision: expected {}, actual {}",
            test.decision, outcome.decision
        ));
    }
    if let Some(expected) = &test.deciding_rules {
        let want: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
        let got: BTreeSet<&str> = outcome.deciding_rules.iter().map(|n| n.as_str()).collect();
        if want != got {
            problems.push(format!(
                "deciding_rules: expected {}, actual {}",
                json_list(expected.iter().map(String::as_str)),
                json_list(outcome.deciding_rules.iter().map(|n| n.as_str()))
            ));
        }
    }
    for (kind, expected) in &test.gaps {
        let actual_list = match *kind {
            "training" => &outcome.gaps.training,
            "documentation" => &outcome.gaps.documentation,
            _ => &outcome.gaps.tooling,
        };
        let want: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
        let got: BTreeSet<&str> = actual_list.iter().map(|g| g.item.as_str()).collect();
        if want != got {
            problems.push(format!(
                "gaps.{kind}: expected {}, actual {}",
                json_list(want.into_iter()),
                json_list(got.into_iter())
            ));
        }
    }
    problems
}

fn json_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    Value::Array(items.map(|s| Value::String(s.to_owned())).collect()).to_string()
}

/// Parses a rule test file strictly: every shape error names the file and the field.
fn parse_test_file(name: &str, text: &str) -> Result<Vec<TestCase>, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|error| InputError::invalid_json(name, error.line(), &error).to_string())?;
    let Value::Array(items) = value else {
        return Err(format!("{name}: must be an array of tests"));
    };
    let mut tests = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let at = |field: &str| format!("{name}: [{index}].{field}");
        let object = item
            .as_object()
            .ok_or_else(|| format!("{name}: [{index}] must be an object"))?;
        only_keys(object, &["name", "case", "expect"], &at(""))?;
        let test_name = object
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{}: is required and must be a string", at("name")))?
            .to_owned();
        let case_value = object
            .get("case")
            .ok_or_else(|| format!("{}: is required", at("case")))?;
        let case = Case::from_json_with_partner(case_value);
        let expect = object
            .get("expect")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{}: is required and must be an object", at("expect")))?;
        only_keys(
            expect,
            &["decision", "deciding_rules", "gaps"],
            &at("expect."),
        )?;
        let decision = expect
            .get("decision")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                format!(
                    "{}: is required and must be a string",
                    at("expect.decision")
                )
            })?;
        let decision: Tier = decision
            .parse()
            .map_err(|message| format!("{}: {message}", at("expect.decision")))?;
        let deciding_rules = match expect.get("deciding_rules") {
            None => None,
            Some(value) => Some(string_list(value).ok_or_else(|| {
                format!("{}: must be a list of strings", at("expect.deciding_rules"))
            })?),
        };
        let mut gaps = Vec::new();
        if let Some(value) = expect.get("gaps") {
            let object = value
                .as_object()
                .ok_or_else(|| format!("{}: must be an object", at("expect.gaps")))?;
            only_keys(
                object,
                &["training", "documentation", "tooling"],
                &at("expect.gaps."),
            )?;
            for kind in ["training", "documentation", "tooling"] {
                if let Some(list) = object.get(kind) {
                    let items = string_list(list).ok_or_else(|| {
                        format!(
                            "{}: must be a list of strings",
                            at(&format!("expect.gaps.{kind}"))
                        )
                    })?;
                    gaps.push((kind, items));
                }
            }
        }
        tests.push(TestCase {
            position: format!("{name}[{index}]"),
            name: test_name,
            case,
            decision,
            deciding_rules,
            gaps,
        });
    }
    Ok(tests)
}

fn only_keys(object: &Map<String, Value>, known: &[&str], prefix: &str) -> Result<(), String> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "{prefix}{key}: unknown field; expected one of {}",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn fmt(dir: &Path, check_only: bool) -> Result<ExitCode, CliError> {
    let files = match read_sources(dir) {
        Ok(files) => files,
        Err(LoadError::Io { path, source }) => return Err(CliError::Io { path, source }),
        Err(LoadError::Diagnostics(diagnostics)) => {
            eout!("{}", diagnostics.in_dir(dir).render())?;
            eoutln!("error: nothing was formatted; fix the errors first")?;
            return Ok(ExitCode::from(1));
        }
    };
    let mut changes = Vec::new();
    let mut broken = false;
    for file in &files {
        match format_source(file) {
            Ok(formatted) if formatted != file.text => {
                changes.push((dir.join(&file.name), formatted));
            }
            Ok(_) => {}
            Err(diagnostics) => {
                broken = true;
                eout!("{}", diagnostics.in_dir(dir).render())?;
            }
        }
    }
    if broken {
        eoutln!("error: nothing was formatted; fix the syntax errors first")?;
        return Ok(ExitCode::from(1));
    }
    if check_only {
        for (path, _) in &changes {
            outln!("would reformat {}", path.display())?;
        }
        return Ok(if changes.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    for (path, formatted) in &changes {
        std::fs::write(path, formatted).map_err(|source| CliError::Io {
            path: path.clone(),
            source,
        })?;
        outln!("formatted {}", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn bench(dir: &Path, file: &Path) -> Result<ExitCode, CliError> {
    let Some(policy) = load_policy(dir, ErrorFormat::Text)? else {
        return Ok(ExitCode::from(1));
    };
    let (name, text) = read_input(file)?;
    let (inputs, left_out) = admitted_cases(&policy, &name, &text)?;
    let cases: Vec<_> = inputs
        .into_iter()
        .map(|input| (input.case, input.partner.unwrap_or_default()))
        .collect();
    if cases.is_empty() {
        return Err(CliError::Failure(format!("{name}: no case to classify")));
    }
    // Enough repetitions per pass for a stable figure, at least one.
    let repeat = (100_000 / cases.len()).max(1);
    let run_pass = || {
        let start = Instant::now();
        let mut decided = 0usize;
        for _ in 0..repeat {
            for outcome in policy.classify_each(&cases) {
                decided += usize::from(!outcome.reasons.is_empty());
            }
        }
        (start.elapsed(), decided)
    };
    let _ = run_pass();
    let mut rates = Vec::new();
    for pass in 1..=5 {
        let (elapsed, _) = run_pass();
        let classified = (cases.len() * repeat) as f64;
        let rate = classified / elapsed.as_secs_f64().max(1e-9);
        outln!(
            "pass {pass}: {classified} cases in {:.3} s ({rate:.0} cases/s)",
            elapsed.as_secs_f64()
        )?;
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    outln!("cases: {}, repeated {repeat} times per pass", cases.len())?;
    outln!("cases/s: {:.0}", rates[2])?;
    // The figure stands for the cases that were read; the exit code says
    // that some were not, as `classify` would.
    if left_out > 0 {
        eoutln!(
            "error: {name}: {left_out} of {} inputs left out of the bench (see above)",
            left_out + cases.len()
        )?;
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
