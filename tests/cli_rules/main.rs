//! `escalator rules …` and `escalator classify` run as the real binary on
//! temporary policy directories: stdout, stderr and exit codes, including
//! every failure path.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests say which set-ups they skipped and what they measured"
)]
#![expect(
    clippy::expect_used,
    reason = "helpers fail the test when a fixture cannot be set up"
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/policy/samples/example");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_escalator"));
    command
        .arg("--rules")
        .arg(dir)
        .args(args)
        .env_remove("ESCALATOR_RULES")
        .env_remove("ESCALATOR_CONFIG")
        .current_dir(dir.parent().unwrap_or(dir))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.unwrap_or_default().as_bytes())
            .expect("stdin");
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("the binary ends");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A temporary copy of the example policy.
fn example_dir() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = temp.path().join("rules");
    std::fs::create_dir(&dir).expect("mkdir");
    for entry in std::fs::read_dir(EXAMPLE).expect("example") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
    }
    (temp, dir)
}

/// The example policy plus one more rules file, `name`, holding `text`.
fn example_dir_with(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let (temp, dir) = example_dir();
    std::fs::write(dir.join(name), text).expect("write");
    (temp, dir)
}

/// The case ids of `classify --format json` output, in order.
fn case_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["case"]
                .as_str()
                .expect("id")
                .to_owned()
        })
        .collect()
}

fn case(id: &str, changes: Value) -> Value {
    let mut base = json!({
        "external_id": id,
        "customer": {"tenant": "contoso"},
        "product": "m365",
        "category": "mail_flow",
        "severity": "moderate",
        "subject": "Outbound mail stuck",
        "description": "No outbound mail leaves the tenant.",
        "affected_users": 120
    });
    for (key, value) in changes.as_object().expect("object") {
        base[key] = value.clone();
    }
    base
}

#[test]
fn rules_check_accepts_a_valid_policy() {
    let (_temp, dir) = example_dir();
    let out = run(&dir, &["rules", "check"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("ok (3 files, 4 rules, 1 requirement, 0 warnings)"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_mistake_in_a_setting_only_serve_reads_does_not_stop_the_rules_commands() {
    let (temp, dir) = example_dir();
    // The binary runs in `temp`, where it finds this `escalator.toml`.
    std::fs::write(
        temp.path().join("escalator.toml"),
        "smtp_url = \"smtp://\"\nlisten = \"nonsense\"\n",
    )
    .expect("config");
    let out = run(&dir, &["rules", "check"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(
        &dir,
        &["classify"],
        Some(&case("CASE-1", json!({})).to_string()),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("CASE-1: escalate"), "{}", out.stdout);

    // `serve` reads them, and says which one is wrong and where.
    let out = run(&dir, &["serve"], None);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("setting `listen` (from escalator.toml:2:10)"),
        "{}",
        out.stderr
    );
}

#[test]
fn rules_check_reports_errors_with_location_and_caret_and_exits_1() {
    let (_temp, dir) = example_dir_with(
        "zz.rules",
        "rule \"typo\" {\n  when severty == \"critical\"\n  then escalate\n}\n",
    );
    let out = run(&dir, &["rules", "check"], None);
    assert_eq!(out.code, 1);
    // The file is named as a path in the directory given, one an editor opens.
    let located = format!(
        "{}:2:8: error: unknown field or let `severty`",
        dir.join("zz.rules").display()
    );
    assert!(out.stderr.starts_with(&located), "{}", out.stderr);
    // Given as a relative path, it stays relative.
    let relative = Command::new(env!("CARGO_BIN_EXE_escalator"))
        .args(["rules", "check", "--rules", "rules"])
        .env_remove("ESCALATOR_RULES")
        .env_remove("ESCALATOR_CONFIG")
        .current_dir(dir.parent().expect("parent"))
        .output()
        .expect("the binary runs");
    assert_eq!(relative.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&relative.stderr);
    assert!(
        stderr.starts_with("rules/zz.rules:2:8: error: unknown field or let `severty`"),
        "{stderr}"
    );
    assert!(
        out.stderr
            .contains("2 |   when severty == \"critical\"\n  |        ^^^^^^^\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("help: did you mean `severity`?"),
        "{}",
        out.stderr
    );
}

/// `rules check --error-format json` on `dir`, which must fail: its diagnostics.
fn check_json(dir: &Path) -> Value {
    let out = run(dir, &["rules", "check", "--error-format", "json"], None);
    assert_eq!(out.code, 1, "{}", out.stderr);
    serde_json::from_str(&out.stdout).expect("a JSON array")
}

#[test]
fn rules_check_speaks_json_on_request() {
    let (_temp, dir) = example_dir_with(
        "zz.rules",
        "let spare = gaps.any\nrule \"x\" {\n  when product == \"m356\"\n  then partner\n}\n",
    );
    let diagnostics = check_json(&dir);
    assert_eq!(
        diagnostics[1],
        json!({"file": dir.join("zz.rules").display().to_string(), "line": 3, "column": 19, "severity": "error", "message": "unknown product \"m356\"", "help": "did you mean \"m365\"?", "notes": []})
    );
    assert_eq!(diagnostics[0]["severity"], "warning");
    assert_eq!(
        diagnostics[0]["file"],
        dir.join("zz.rules").display().to_string()
    );
}

#[test]
fn json_diagnostics_carry_their_notes() {
    let (_temp, dir) = example_dir_with(
        "zz.rules",
        "let twice = gaps.any\nlet twice = gaps.any\nrule \"x\" {\n  when twice\n  then partner\n}\n",
    );
    let diagnostics = check_json(&dir);
    let duplicate = diagnostics
        .as_array()
        .expect("array")
        .iter()
        .find(|d| d["message"] == "duplicate let `twice`")
        .unwrap_or_else(|| panic!("{diagnostics:#}"));
    assert_eq!(duplicate["line"], 2);
    assert_eq!(
        duplicate["notes"],
        json!([{"file": dir.join("zz.rules").display().to_string(), "line": 1, "column": 5, "message": duplicate["notes"][0]["message"].clone()}])
    );
    assert!(duplicate["notes"][0]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

#[test]
fn an_unreadable_policy_directory_is_a_json_diagnostic_under_error_format_json() {
    let temp = tempfile::tempdir().expect("tempdir");
    let missing = temp.path().join("missing");
    let out = run(
        temp.path(),
        &[
            "rules",
            "check",
            "--rules",
            missing.to_str().expect("utf-8"),
            "--error-format",
            "json",
        ],
        None,
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let diagnostics: Value = serde_json::from_str(&out.stdout).expect("a JSON array");
    assert_eq!(
        diagnostics.as_array().map(Vec::len),
        Some(1),
        "{diagnostics:#}"
    );
    let only = &diagnostics[0];
    assert_eq!(only["file"], missing.display().to_string());
    assert_eq!(
        (only["line"].clone(), only["column"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(only["severity"], "error");
    assert!(
        only["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("cannot read the policy: ")),
        "{only}"
    );
    assert!(only["help"].as_str().is_some_and(|h| h.contains("--rules")));
}

#[test]
fn rules_check_passes_with_warnings_and_prints_them() {
    let (_temp, dir) = example_dir_with("zz.rules", "let spare = gaps.any\n");
    let out = run(&dir, &["rules", "check"], None);
    assert_eq!(out.code, 0);
    assert!(
        out.stderr
            .contains("zz.rules:1:5: warning: let `spare` is never used"),
        "{}",
        out.stderr
    );
}

#[test]
fn rules_check_names_a_missing_directory() {
    let temp = tempfile::tempdir().expect("tempdir");
    let out = run(&temp.path().join("nowhere"), &["rules", "check"], None);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("nowhere"), "{}", out.stderr);
}

#[test]
fn rules_check_says_a_directory_without_rule_files_has_none() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = temp.path().join("rules");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("notes.txt"), "not a policy").expect("write");
    for args in [&["rules", "check"][..], &["rules", "test"], &["classify"]] {
        let out = run(&dir, args, Some("{}"));
        assert_eq!(out.code, 1, "{args:?}");
        assert!(
            out.stderr
                .contains("rules: no `*.rules` file in this directory"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("default"), "{}", out.stderr);
    }
}

fn write_tests(dir: &Path, name: &str, tests: Value) {
    std::fs::create_dir_all(dir.join("tests")).expect("mkdir");
    std::fs::write(
        dir.join("tests").join(name),
        serde_json::to_string_pretty(&tests).expect("json"),
    )
    .expect("write");
}

#[test]
fn rules_test_without_test_files_says_nothing_was_tested() {
    let (_temp, dir) = example_dir();
    let out = run(&dir, &["rules", "test"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim_end(), "0 passed, 0 failed");
    assert!(
        out.stderr
            .starts_with("warning: no test file (`*.json`) in ")
            && out.stderr.trim_end().ends_with("; nothing was tested"),
        "{}",
        out.stderr
    );
}

#[test]
fn rules_test_counts_passes_and_failures_and_shows_expected_against_actual() {
    let (_temp, dir) = example_dir();
    write_tests(
        &dir,
        "mail.json",
        json!([
            {"name": "mail flow escalates", "case": case("T-1", json!({})), "expect": {"decision": "escalate", "deciding_rules": ["partner lacks what the case needs"], "gaps": {"training": ["exchange-transport"], "tooling": ["message-trace"]}}},
            {"name": "trained partner keeps it", "case": case("T-2", json!({"partner": {"training": ["exchange-transport"], "tooling": ["message-trace"]}})), "expect": {"decision": "partner"}},
            {"name": "wrong on purpose", "case": case("T-3", json!({})), "expect": {"decision": "self_service", "gaps": {"tooling": []}}}
        ]),
    );
    let out = run(&dir, &["rules", "test"], None);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("FAIL mail.json[2] \"wrong on purpose\"")
            || out.stdout.contains("[2] \"wrong on purpose\""),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("decision: expected self_service, actual escalate"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("gaps.tooling: expected [], actual [\"message-trace\"]"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().last(), Some("2 passed, 1 failed"));
}

#[test]
fn rules_test_passes_with_exit_0_and_lists_uncovered_rules_on_request() {
    let (_temp, dir) = example_dir();
    write_tests(
        &dir,
        "a.json",
        json!([{"name": "mail", "case": case("T-1", json!({})), "expect": {"decision": "escalate"}}]),
    );
    let out = run(&dir, &["rules", "test", "--coverage"], None);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("coverage: 1 of 4 rules and 1 of 1 requirements matched by a test"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("not matched: rule \"wide outage\""),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("not matched: requirement"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().last(), Some("1 passed, 0 failed"));
}

#[test]
fn rules_test_names_the_file_and_field_of_a_broken_test_file() {
    let (_temp, dir) = example_dir();
    write_tests(
        &dir,
        "bad.json",
        json!([{"name": "x", "case": case("T-1", json!({})), "expect": {"decison": "escalate"}}]),
    );
    let out = run(&dir, &["rules", "test"], None);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("bad.json: [0].expect.decison: unknown field"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout.lines().last(), Some("0 passed, 1 failed"));
}

#[test]
fn rules_test_reports_a_refused_case_as_a_failure_naming_the_field() {
    let (_temp, dir) = example_dir();
    write_tests(
        &dir,
        "a.json",
        json!([
            {"name": "typo", "case": case("T-1", json!({"category": "mailflow"})), "expect": {"decision": "partner"}},
            {"name": "misspelt field", "case": case("T-2", json!({"severty": "critical"})), "expect": {"decision": "partner"}}
        ]),
    );
    let out = run(&dir, &["rules", "test"], None);
    assert_eq!(out.code, 1);
    // Both named as paths in the test file, whichever check refused them.
    assert!(
        out.stdout.contains("the case is refused: `case.category`"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("the case is refused: `case.severty`"),
        "{}",
        out.stdout
    );
}

#[test]
fn rules_fmt_check_names_files_that_would_change_and_fmt_rewrites_them() {
    let (_temp, dir) = example_dir();
    let out = run(&dir, &["rules", "fmt", "--check"], None);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("values.rules"), "{}", out.stdout);
    assert!(!out.stdout.contains("tiers.rules"), "{}", out.stdout);
    let out = run(&dir, &["rules", "fmt"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(std::fs::read_to_string(dir.join("values.rules"))
        .expect("read")
        .contains("values category = [\n  \"how_to\",\n"));
    let out = run(&dir, &["rules", "fmt", "--check"], None);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn rules_fmt_leaves_everything_alone_when_a_file_has_a_syntax_error() {
    let (_temp, dir) = example_dir_with("broken.rules", "rule \"x\" { when }\n");
    let before = std::fs::read_to_string(dir.join("values.rules")).expect("read");
    let out = run(&dir, &["rules", "fmt"], None);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("broken.rules:1:17: error: expected a condition"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("values.rules")).expect("read"),
        before
    );
}

#[test]
fn a_rules_file_that_is_not_utf8_is_located_at_its_first_bad_byte() {
    let (_temp, dir) = example_dir();
    // "café" in Latin-1: the é is the single byte 0xE9.
    std::fs::write(
        dir.join("latin1.rules"),
        b"rule \"x\" {\n  when subject contains \"caf\xe9\"\n  then partner\n}\n",
    )
    .expect("write");
    let before = std::fs::read_to_string(dir.join("values.rules")).expect("read");
    for args in [&["rules", "check"][..], &["rules", "fmt"][..]] {
        let out = run(&dir, args, None);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("latin1.rules:2:29: error: this file is not UTF-8 text"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("help: save the file as UTF-8"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("values.rules")).expect("read"),
        before,
        "fmt formats nothing when a file cannot be read"
    );
    let errors = check_json(&dir);
    assert_eq!(
        errors[0]["file"],
        dir.join("latin1.rules").display().to_string()
    );
    assert_eq!(
        (errors[0]["line"].clone(), errors[0]["column"].clone()),
        (json!(2), json!(29))
    );
}

#[test]
fn rules_fmt_on_a_directory_without_rules_files_says_so() {
    let temp = tempfile::tempdir().expect("tempdir");
    let out = run(temp.path(), &["rules", "fmt"], None);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("no `*.rules` file in this directory"),
        "{}",
        out.stderr
    );
}

/// `rules bench` over the example policy and two cases, the second of this category.
fn bench_two_cases(category: &str) -> Run {
    let (temp, dir) = example_dir();
    let cases = temp.path().join("cases.json");
    let input = json!([
        case("B-1", json!({})),
        case("B-2", json!({ "category": category }))
    ]);
    std::fs::write(&cases, input.to_string()).expect("write");
    run(
        &dir,
        &["rules", "bench", cases.to_str().expect("utf-8")],
        None,
    )
}

#[test]
fn rules_bench_prints_cases_per_second_last() {
    let out = bench_two_cases("billing");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let last = out.stdout.lines().last().expect("output");
    let rate: f64 = last
        .strip_prefix("cases/s: ")
        .expect("last line")
        .parse()
        .expect("a number");
    assert!(rate > 0.0);
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("pass "))
            .count(),
        5
    );
}

#[test]
fn rules_bench_leaves_out_a_case_with_an_undeclared_value_and_says_so() {
    let out = bench_two_cases("billling");
    assert!(
        out.stderr
            .contains("cases.json[1]: case refused: `category`"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("cases: 1, "), "{}", out.stdout);
    assert!(out
        .stdout
        .lines()
        .last()
        .expect("output")
        .starts_with("cases/s: "));
    assert!(
        out.stderr
            .contains("cases.json: 1 of 2 inputs left out of the bench"),
        "{}",
        out.stderr
    );
    assert_eq!(out.code, 1, "a bench that left a case out fails");
}

#[test]
fn classify_prints_one_contract_shaped_outcome_per_line() {
    let (_temp, dir) = example_dir();
    let input = json!([
        case("C-1", json!({})),
        case("C-2", json!({"category": "subscription_change"}))
    ])
    .to_string();
    let out = run(&dir, &["classify", "--format", "json", "-"], Some(&input));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["case"], "C-1");
    assert_eq!(lines[0]["decision"], "escalate");
    assert_eq!(lines[0]["within_minutes"], 240);
    assert_eq!(lines[1]["decision"], "partner");
    assert_eq!(
        lines[1]["deciding_rules"],
        json!(["only partners change subscriptions"])
    );
    assert!(lines[1]["policy"]
        .as_str()
        .expect("hash")
        .starts_with("sha256:"));
}

#[test]
fn classify_reads_json_lines_from_files_and_reports_refused_cases_by_position() {
    let (temp, dir) = example_dir();
    let file = temp.path().join("cases.jsonl");
    let lines = [
        case("L-1", json!({})).to_string(),
        case("L-2", json!({"severity": "urgent"})).to_string(),
        case("L-3", json!({"category": "billing"})).to_string(),
    ];
    std::fs::write(&file, lines.join("\n")).expect("write");
    let out = run(
        &dir,
        &[
            "classify",
            "--format",
            "json",
            file.to_str().expect("utf-8"),
        ],
        None,
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("cases.jsonl:2: case refused: `severity`"),
        "{}",
        out.stderr
    );
    let ids = case_ids(&out.stdout);
    assert_eq!(ids, ["L-1", "L-3"]);
}

#[test]
fn classify_refuses_values_outside_the_declared_ones_with_the_allowed_list() {
    let (_temp, dir) = example_dir();
    let input = json!([
        case("V-1", json!({"product": "office"})),
        case("V-2", json!({}))
    ])
    .to_string();
    let out = run(&dir, &["classify", "--format", "json"], Some(&input));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("stdin[0]: case refused: `product`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("`m365`, `azure`, `dynamics365`, `partner_center`"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout.lines().count(), 1);
}

#[test]
fn classify_takes_the_partner_from_the_flag_over_the_case() {
    let (temp, dir) = example_dir();
    let partner = temp.path().join("partner.json");
    std::fs::write(
        &partner,
        json!({"id": "p-9", "training": ["exchange-transport"], "tooling": ["message-trace"]})
            .to_string(),
    )
    .expect("write");
    let input = case("P-1", json!({"partner": {"id": "p-1"}})).to_string();
    let with_flag = run(
        &dir,
        &[
            "classify",
            "--format",
            "json",
            "--partner",
            partner.to_str().expect("utf-8"),
        ],
        Some(&input),
    );
    let outcome: Value = serde_json::from_str(with_flag.stdout.trim()).expect("json");
    assert_eq!(outcome["decision"], "partner");
    let without = run(&dir, &["classify", "--format", "json"], Some(&input));
    let outcome: Value = serde_json::from_str(without.stdout.trim()).expect("json");
    assert_eq!(outcome["decision"], "escalate");
}

#[test]
fn classify_text_output_is_for_people() {
    let (_temp, dir) = example_dir();
    let out = run(
        &dir,
        &["classify"],
        Some(&case("H-1", json!({})).to_string()),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "H-1: escalate\n  reasons:\n    - The partner lacks training: exchange-transport; tooling: message-trace.\n  gaps:\n    - training exchange-transport (requirement \"exchange mail flow\")\n    - tooling message-trace (requirement \"exchange mail flow\")\n  deciding rules: \"partner lacks what the case needs\"\n  deadline: within 4h (240 minutes)\n"
    );
}

#[test]
fn classify_text_output_indents_the_later_lines_of_a_reason() {
    let (_temp, dir) = example_dir_with("quote.rules", "rule \"quote\" {\n  when subject contains \"quoted\"\n  then escalate\n  because \"The customer wrote: {text}\"\n}\n");
    let input = case(
        "Q-1",
        json!({"subject": "Quoted mail", "description": "First line.\nSecond line."}),
    );
    let out = run(&dir, &["classify"], Some(&input.to_string()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "    - The customer wrote: Quoted mail\n      First line.\n      Second line.\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn classify_reports_a_bad_policy_and_exits_1() {
    let (_temp, dir) = example_dir_with("zz.rules", "default escalate because \"again\"\n");
    let out = run(
        &dir,
        &["classify"],
        Some(&case("X-1", json!({})).to_string()),
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("zz.rules:1:1: error: the policy has more than one `default`"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn classify_reports_invalid_json_with_its_position() {
    let (_temp, dir) = example_dir();
    let out = run(&dir, &["classify"], Some("{\"external_id\": "));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("stdin:1:"), "{}", out.stderr);
}

#[test]
fn invalid_json_in_json_lines_is_located_by_line_and_column_once() {
    let (_temp, dir) = example_dir();
    let input = format!(
        "{}\n{{\"external_id\": \n{}\n",
        case("L-1", json!({})),
        case("L-3", json!({}))
    );
    let out = run(&dir, &["classify", "--format", "json", "-"], Some(&input));
    assert_eq!(out.code, 1);
    // Line 2 of the input, column 16 of that line; no second, line-relative position.
    assert_eq!(
        out.stderr.trim_end(),
        "stdin:2:16: invalid JSON: EOF while parsing a value",
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
}

#[test]
fn classify_warns_about_an_input_without_any_case_and_exits_0() {
    let (_temp, dir) = example_dir();
    for input in ["", "  \n", "[]"] {
        let out = run(&dir, &["classify", "-"], Some(input));
        assert_eq!(out.code, 0, "{input:?}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{input:?}");
        assert_eq!(
            out.stderr.trim_end(),
            "warning: stdin: no case in it",
            "{input:?}"
        );
    }
}

#[test]
fn classify_reports_a_missing_file_and_still_classifies_the_others_in_order() {
    let (temp, dir) = example_dir();
    let missing = temp.path().join("missing.json");
    let mixed = temp.path().join("mixed.jsonl");
    let lines = [
        case("M-1", json!({"severity": "urgent"})).to_string(),
        "{\"external_id\": ".to_owned(),
        case("M-3", json!({})).to_string(),
    ];
    std::fs::write(&mixed, lines.join("\n")).expect("write");
    let out = run(
        &dir,
        &[
            "classify",
            "--format",
            "json",
            missing.to_str().expect("utf-8"),
            mixed.to_str().expect("utf-8"),
        ],
        None,
    );
    assert_eq!(out.code, 1);
    let errors: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(errors.len(), 3, "{}", out.stderr);
    assert!(
        errors[0].starts_with("error: ") && errors[0].contains("missing.json: "),
        "{}",
        out.stderr
    );
    // The refused case on line 1 before the invalid JSON on line 2.
    assert!(
        errors[1].contains("mixed.jsonl:1: case refused: `severity`"),
        "{}",
        out.stderr
    );
    assert!(
        errors[2].contains("mixed.jsonl:2:16: invalid JSON"),
        "{}",
        out.stderr
    );
    let ids = case_ids(&out.stdout);
    assert_eq!(ids, ["M-3"]);
}

#[test]
fn classify_words_refusals_for_the_command_line_and_suggests_the_field_meant() {
    let (_temp, dir) = example_dir();
    let mut misspelt = case("R-1", json!({}));
    let severity = misspelt["severity"].take();
    misspelt["severty"] = severity;
    misspelt.as_object_mut().expect("object").remove("severity");
    let input = json!([misspelt, 7]).to_string();
    let out = run(&dir, &["classify", "-"], Some(&input));
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr.lines().collect::<Vec<_>>(),
        [
            "stdin[0]: case refused: `severty`: unknown field; did you mean `severity`?",
            "stdin[1]: case refused: the case must be an object, found a number",
        ],
        "{}",
        out.stderr
    );
}

#[test]
fn invalid_json_at_the_end_of_a_test_file_has_a_column_from_1() {
    let (_temp, dir) = example_dir();
    std::fs::create_dir_all(dir.join("tests")).expect("mkdir");
    std::fs::write(dir.join("tests").join("cut.json"), "[{\"name\": \"x\",\n").expect("write");
    let out = run(&dir, &["rules", "test"], None);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("cut.json:2:1: invalid JSON: EOF while parsing a value\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let (_temp, dir) = example_dir();
    let out = run(&dir, &["rules", "check", "--bogus"], None);
    assert_eq!(out.code, 2);
}

/// Runs the binary with stdout and stderr on pipes nobody reads, as
/// `escalator … | head -1` leaves them once `head` has its line: every
/// write fails with a broken pipe. Returns the exit code.
fn run_with_readers_gone(dir: &Path, args: &[&str], stdin: &str) -> i32 {
    let (out_reader, out_writer) = std::io::pipe().expect("pipe");
    let (err_reader, err_writer) = std::io::pipe().expect("pipe");
    drop((out_reader, err_reader));
    let mut child = Command::new(env!("CARGO_BIN_EXE_escalator"))
        .arg("--rules")
        .arg(dir)
        .args(args)
        .env_remove("ESCALATOR_RULES")
        .env_remove("ESCALATOR_CONFIG")
        .stdin(Stdio::piped())
        .stdout(out_writer)
        .stderr(err_writer)
        .spawn()
        .expect("the binary starts");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.as_bytes()).expect("stdin");
    }
    child.wait().expect("the binary ends").code().unwrap_or(-1)
}

#[test]
fn a_reader_that_went_away_ends_the_output_not_the_command() {
    // Exit codes stay the command's own, never a panic's 101.
    let (_temp, dir) = example_dir_with(
        "broken.rules",
        "rule \"b\" {\n  when severty == \"A\"\n  then partner\n}\n",
    );
    assert_eq!(run_with_readers_gone(&dir, &["rules", "check"], ""), 1);

    let (_temp, dir) = example_dir();
    assert_eq!(run_with_readers_gone(&dir, &["rules", "check"], ""), 0);
    assert_eq!(
        run_with_readers_gone(&dir, &["rules", "test", "--coverage"], ""),
        0
    );
    let cases: Vec<Value> = (0..200)
        .map(|i| case(&format!("C-{i}"), json!({})))
        .collect();
    let input = Value::from(cases.clone()).to_string();
    assert_eq!(run_with_readers_gone(&dir, &["classify", "-"], &input), 0);
    assert_eq!(
        run_with_readers_gone(&dir, &["classify", "--format", "text", "-"], &input),
        0
    );
    // A refused case late in the input still sets the exit code, although
    // nobody reads the outcomes before it.
    let mut refused = cases;
    refused.push(case("C-bad", json!({"severity": "urgent"})));
    let input = Value::from(refused).to_string();
    assert_eq!(run_with_readers_gone(&dir, &["classify", "-"], &input), 1);

    // `fmt` still formats every file it would have named: two here.
    std::fs::write(
        dir.join("extra.rules"),
        "rule \"extra\" { when severity == \"critical\"   then escalate }\n",
    )
    .expect("write");
    let out = run(&dir, &["rules", "fmt", "--check"], None);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    assert_eq!(run_with_readers_gone(&dir, &["rules", "fmt"], ""), 0);
    let out = run(&dir, &["rules", "fmt", "--check"], None);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn output_that_cannot_be_written_is_an_error_naming_the_stream() {
    // /dev/full refuses every write with "no space left on device".
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
    let (_temp, dir) = example_dir();
    let output = Command::new(env!("CARGO_BIN_EXE_escalator"))
        .arg("--rules")
        .arg(&dir)
        .args(["rules", "check"])
        .env_remove("ESCALATOR_RULES")
        .env_remove("ESCALATOR_CONFIG")
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error: stdout: "), "{stderr}");
}
