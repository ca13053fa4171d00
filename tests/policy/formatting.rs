//! `rules fmt`: snapshots of the canonical layout over the sample policies
//! and over every shipped `rules/*.rules` file, and the formatter's promises
//! (idempotent, comments kept, meaning unchanged) on each of them.

use std::path::{Path, PathBuf};

use escalator::policy::{format_source, Policy, SourceFile};

fn rules_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    files
}

fn source(path: &Path) -> SourceFile {
    SourceFile {
        name: path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned(),
        text: std::fs::read_to_string(path).expect("readable"),
    }
}

/// Formats a file and checks the promises; returns the formatted text.
fn format_checked(file: &SourceFile) -> String {
    let formatted =
        format_source(file).unwrap_or_else(|d| panic!("{} should parse:\n{d}", file.name));
    let again = format_source(&SourceFile {
        name: file.name.clone(),
        text: formatted.clone(),
    })
    .expect("formatted text parses");
    assert_eq!(
        again, formatted,
        "formatting {} twice must give the same text",
        file.name
    );
    // Every comment is kept, and in the order it was written.
    let mut after = 0;
    for line in file.text.lines() {
        if let Some(at) = line.find("# ") {
            let comment = line[at..].trim_end();
            if !line[..at].contains('"') {
                let found = formatted[after..].find(comment).unwrap_or_else(|| {
                    panic!(
                        "comment {comment:?} of {} must be kept, after the ones before it",
                        file.name
                    )
                });
                after += found + comment.len();
            }
        }
    }
    formatted
}

#[test]
fn the_sample_policies_format_to_their_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policy/samples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("samples")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let files = rules_files(&dir);
        let mut formatted_sources = Vec::new();
        for path in &files {
            let file = source(path);
            let formatted = format_checked(&file);
            let sample = dir
                .file_name()
                .expect("dir name")
                .to_string_lossy()
                .into_owned();
            insta::assert_snapshot!(format!("fmt_{sample}_{}", file.name), formatted);
            formatted_sources.push(SourceFile {
                name: file.name.clone(),
                text: formatted,
            });
        }
        let original = Policy::load_dir(&dir).expect("sample loads");
        let reformatted = Policy::from_sources(formatted_sources).expect("formatted sample loads");
        assert_eq!(
            original.policy.rule_names(),
            reformatted.policy.rule_names()
        );
        assert_eq!(original.warnings.len(), reformatted.warnings.len());
    }
}

#[test]
fn every_shipped_rules_file_formats_to_its_snapshot() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for path in rules_files(&dir) {
        let file = source(&path);
        let formatted = format_checked(&file);
        insta::assert_snapshot!(format!("fmt_shipped_{}", file.name), formatted);
    }
}

#[test]
fn comments_stay_where_they_were() {
    let text = "# header\n\nlet a = gaps.any # why a\n\n# before the rule\nrule \"r\" { when a # inline\n  # before then\n  then escalate\n  # before the end\n}\n# trailing\n";
    let formatted = format_checked(&SourceFile {
        name: "c.rules".to_owned(),
        text: text.to_owned(),
    });
    assert_eq!(
        formatted,
        "# header\n\nlet a = gaps.any  # why a\n\n# before the rule\nrule \"r\" {\n  when a  # inline\n  # before then\n  then escalate\n  # before the end\n}\n# trailing\n"
    );
}

#[test]
fn comments_inside_conditions_and_lists_stay_beside_their_code() {
    let text = "let c1 = category in [\n  \"fraud\",  # the fraud one\n  \"quota\",  # the quota one\n]\n\
                let c2 = c1\n  # own line inside condition\n  and product == \"m365\"\n\
                let c3 = not (c1 # nested\n or c2)\n\
                rule \"c\" {\n  when c2 or text contains any [\"x\", # why x\n \"y\"]\n  then escalate\n\
                notify \"a@example.com\", # first\n \"b@example.com\"\n}\n\
                requirement \"q\" {\n  when c3\n  needs training \"a\",  # why a\n    tooling \"b\"\n}\n\
                default partner because \"d\" # last\n";
    let formatted = format_checked(&SourceFile {
        name: "c.rules".to_owned(),
        text: text.to_owned(),
    });
    assert_eq!(
        formatted,
        "let c1 = category in [\n  \"fraud\",  # the fraud one\n  \"quota\",  # the quota one\n]\n\
         let c2 = c1\n  # own line inside condition\n  and product == \"m365\"\n\
         let c3 = not (c1 or c2)  # nested\n\
         \n\
         rule \"c\" {\n  when c2\n    or text contains any [\n      \"x\",  # why x\n      \"y\",\n    ]\n\
         \x20 then escalate\n  notify \"a@example.com\", \"b@example.com\"  # first\n}\n\
         \n\
         requirement \"q\" {\n  when c3\n  needs training \"a\", tooling \"b\"  # why a\n}\n\
         \n\
         default partner because \"d\"  # last\n"
    );
}

#[test]
fn long_conditions_and_lists_break_one_item_per_line() {
    let words: Vec<String> = (0..12).map(|i| format!("\"keyword number {i}\"")).collect();
    let text = format!(
        "values category = [{}]\nrule \"r\" {{ when text contains any [\"a\"] and severity >= \"moderate\" and affected_users >= 100 and product == \"m365\" or gaps.any\n then partner }}",
        words.join(",")
    );
    let formatted = format_checked(&SourceFile {
        name: "l.rules".to_owned(),
        text,
    });
    insta::assert_snapshot!("fmt_long_lines", formatted);
}

#[test]
fn parentheses_are_kept_only_where_the_tree_needs_them() {
    let text = "let a = ((gaps.any)) and (product == \"x\" or not (severity == \"A\" and gaps.any)) and (gaps.count > 1)\n";
    let formatted = format_checked(&SourceFile {
        name: "p.rules".to_owned(),
        text: text.to_owned(),
    });
    assert_eq!(
        formatted,
        "let a = gaps.any and (product == \"x\" or not (severity == \"A\" and gaps.any)) and gaps.count > 1\n"
    );
}
