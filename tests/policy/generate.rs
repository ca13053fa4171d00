//! Deterministic generators of policies and cases, shared by the property
//! tests and the classification benchmark (`benches/classify.rs` includes
//! this file by path). A small xorshift generator keeps them reproducible
//! from a seed without any dependency.

#![allow(dead_code)]

use serde_json::{json, Value};

/// A small deterministic random number generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub const PRODUCTS: &[&str] = &[
    "m365",
    "azure",
    "dynamics365",
    "partner_center",
    "teams",
    "intune",
    "sharepoint",
    "power_bi",
];
pub const CATEGORIES: &[&str] = &[
    "how_to",
    "configuration",
    "service_availability",
    "defect",
    "subscription_change",
    "billing",
    "service_health",
    "mail_flow",
    "identity",
    "licensing",
];
pub const SEVERITIES: &[&str] = &["minimal", "moderate", "critical"];
pub const TIERS: &[&str] = &["self_service", "partner", "escalate"];
pub const ITEMS: &[&str] = &[
    "exchange-transport",
    "message-trace",
    "entra-sync",
    "azure-networking",
    "billing-portal",
    "teams-voice",
    "intune-enrollment",
    "sharepoint-migration",
    "power-bi-gateway",
    "dynamics-admin",
    "license-audit",
    "conditional-access",
];
pub const WORDS: &[&str] = &[
    "outage",
    "down for everyone",
    "cannot sign in",
    "mailbox",
    "latency",
    "error",
    "timeout",
    "password",
    "invoice",
    "refund",
    "license",
    "migration",
    "certificate",
    "dns",
    "mx record",
    "quota",
    "throttled",
    "sync",
    "gateway",
    "federation",
    "mfa",
    "token",
    "expired",
    "renewal",
    "upgrade",
    "downgrade",
    "crash",
    "slow",
    "missing",
    "deleted",
    "restore",
    "backup",
    "compliance",
    "retention",
    "audit",
    "spam",
    "phishing",
    "quarantine",
    "connector",
    "relay",
    "calendar",
    "meeting",
    "voice",
    "call quality",
    "device",
    "enrollment",
    "policy",
    "report",
    "dashboard",
    "refresh",
    "capacity",
    "storage",
    "permission",
    "sharing",
    "external",
    "guest",
    "tenant",
    "domain",
    "verification",
    "billing",
];
const FILLER: &[&str] = &[
    "the",
    "customer",
    "reports",
    "that",
    "since",
    "yesterday",
    "users",
    "see",
    "a",
    "problem",
    "with",
    "their",
    "service",
    "and",
    "we",
    "tried",
    "several",
    "steps",
    "without",
    "success",
    "please",
    "advise",
    "on",
    "next",
];

/// How a generated policy text is laid out.
#[derive(Clone, Copy)]
pub struct Shape {
    pub rules: usize,
    pub requirements: usize,
    pub lets: usize,
    /// Insert random whitespace, comments and redundant parentheses.
    pub noisy: bool,
    /// Whether lets may use earlier lets (breaks file-renaming properties).
    pub nested_lets: bool,
    /// Start every `when` with a test on product or category, as real policies do
    /// (otherwise conditions are arbitrary and match far more often).
    pub anchored: bool,
    /// Also draw the tests the benchmark's workload leaves out (`!=` on
    /// strings, `matches`, `contains all`, `in` on numbers and severities,
    /// `exists`, optional fields). Off, the generator draws exactly what it
    /// drew before the flag existed, so the benchmark's policy stays the same.
    pub wide: bool,
}

struct Writer<'a> {
    rng: &'a mut Rng,
    noisy: bool,
    anchored: bool,
    wide: bool,
    out: String,
}

impl Writer<'_> {
    fn gap(&mut self) {
        if !self.noisy {
            self.out.push(' ');
            return;
        }
        match self.rng.below(6) {
            0 => self.out.push_str("\n    "),
            1 => self.out.push_str("  "),
            2 => self.out.push_str(" # note\n"),
            _ => self.out.push(' '),
        }
    }

    fn push(&mut self, text: &str) {
        self.out.push_str(text);
    }

    fn word(&mut self, text: &str) {
        self.gap();
        self.out.push_str(text);
    }
}

fn quoted(items: &[&str]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn some<'a>(rng: &mut Rng, pool: &[&'a str], max: usize) -> Vec<&'a str> {
    let n = 1 + rng.below(max);
    let mut chosen: Vec<&str> = Vec::new();
    for _ in 0..n {
        let item = *rng.pick(pool);
        if !chosen.contains(&item) {
            chosen.push(item);
        }
    }
    chosen
}

/// One random test (a condition leaf); with `wide`, one time in three a
/// test of the kinds only [`wide_test`] draws.
fn test(rng: &mut Rng, lets: usize, allow_gaps: bool, wide: bool) -> String {
    if wide && rng.chance(33) {
        return wide_test(rng);
    }
    match rng.below(if allow_gaps { 12 } else { 10 }) {
        0 => format!("product == \"{}\"", rng.pick(PRODUCTS)),
        1 => format!("product in {}", quoted(&some(rng, PRODUCTS, 3))),
        2 => format!("category == \"{}\"", rng.pick(CATEGORIES)),
        3 => format!("category in {}", quoted(&some(rng, CATEGORIES, 3))),
        4 => format!(
            "severity {} \"{}\"",
            rng.pick(&[">=", "==", "<", "!="]),
            rng.pick(SEVERITIES)
        ),
        5 => format!(
            "affected_users {} {}",
            rng.pick(&[">=", ">", "<="]),
            rng.pick(&[10, 50, 100, 500, 1_000])
        ),
        6 => format!("text contains any {}", quoted(&some(rng, WORDS, 5))),
        7 if lets > 0 => format!("kw_{}", rng.below(lets)),
        7 => format!("subject contains \"{}\"", rng.pick(WORDS)),
        8 => format!("partner.training contains \"{}\"", rng.pick(ITEMS)),
        9 => format!(
            "attempted contains \"{}\"",
            rng.pick(&[
                "checked service health",
                "ran message trace",
                "reset password"
            ])
        ),
        10 => "gaps.any".to_owned(),
        _ => format!("gaps.tooling contains \"{}\"", rng.pick(ITEMS)),
    }
}

/// The tests the benchmark's workload does not draw.
fn wide_test(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => format!("product != \"{}\"", rng.pick(PRODUCTS)),
        1 => format!("category != \"{}\"", rng.pick(CATEGORIES)),
        2 => format!(
            "{} matches \"{}\"",
            rng.pick(&["subject", "description", "text"]),
            rng.pick(&["out(age)?", "^the", "down .* everyone", "mx\\\\s+record"])
        ),
        3 => format!("text contains all {}", quoted(&some(rng, WORDS, 2))),
        4 => format!("description contains \"{}\"", rng.pick(WORDS)),
        5 => format!(
            "affected_users in {}",
            rng.pick(&["[0, 5]", "[50, 99, 100]", "[5000]"])
        ),
        6 => format!("severity in {}", quoted(&some(rng, SEVERITIES, 2))),
        7 => "exists service_health.status".to_owned(),
        8 => format!(
            "service_health.status {} \"{}\"",
            rng.pick(&["==", "!="]),
            rng.pick(&["investigating", "service_restored"])
        ),
        _ => format!(
            "partner.tooling contains any {}",
            quoted(&some(rng, ITEMS, 3))
        ),
    }
}

/// A test on product or category, the way real rules start.
fn anchor(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("product == \"{}\"", rng.pick(PRODUCTS)),
        1 => format!("category == \"{}\"", rng.pick(CATEGORIES)),
        2 => format!("product in {}", quoted(&some(rng, PRODUCTS, 2))),
        _ => format!("category in {}", quoted(&some(rng, CATEGORIES, 2))),
    }
}

/// A realistic condition: an anchor on product or category, and up to two more tests.
fn anchored(w: &mut Writer<'_>, lets: usize, allow_gaps: bool) {
    let first = anchor(w.rng);
    w.word(&first);
    for _ in 0..w.rng.below(3) {
        w.word("and");
        if w.rng.chance(10) {
            w.word("not");
        }
        let leaf = test(w.rng, lets, allow_gaps, w.wide);
        w.word(&leaf);
    }
}

fn condition(w: &mut Writer<'_>, lets: usize, allow_gaps: bool, depth: usize) {
    if depth == 0 && w.anchored {
        anchored(w, lets, allow_gaps);
        return;
    }
    let parts = 1 + w.rng.below(3);
    for i in 0..parts {
        if i > 0 {
            let joiner = if w.rng.chance(70) { "and" } else { "or" };
            w.word(joiner);
        }
        if w.rng.chance(10) {
            w.word("not");
        }
        let nested = depth < 2 && w.rng.chance(15);
        let redundant = w.noisy && w.rng.chance(10);
        if nested || redundant {
            w.word("(");
            if nested {
                condition(w, lets, allow_gaps, depth + 1);
            } else {
                let leaf = test(w.rng, lets, allow_gaps, w.wide);
                w.word(&leaf);
            }
            w.word(")");
        } else {
            let leaf = test(w.rng, lets, allow_gaps, w.wide);
            w.word(&leaf);
        }
    }
}

/// A generated policy as files: `(name, text)`; every file ends with nothing
/// that depends on another file except lets (defined in `a_lets.rules`).
pub fn policy(seed: u64, shape: Shape) -> Vec<(String, String)> {
    let mut rng = Rng::new(seed);
    let mut files = Vec::new();
    files.push((
        "values.rules".to_owned(),
        format!(
            "values product = {}\nvalues category = {}\n",
            quoted(PRODUCTS),
            quoted(CATEGORIES)
        ),
    ));

    let mut w = Writer {
        rng: &mut rng,
        noisy: shape.noisy,
        anchored: shape.anchored,
        wide: shape.wide,
        out: String::new(),
    };
    for i in 0..shape.lets {
        w.push(&format!("let kw_{i} ="));
        if shape.nested_lets && i > 0 && w.rng.chance(30) {
            let earlier = w.rng.below(i);
            w.word(&format!("kw_{earlier} and"));
        }
        let words = quoted(&some(w.rng, WORDS, 5));
        w.word(&format!("text contains any {words}"));
        w.push("\n");
    }
    files.push(("a_lets.rules".to_owned(), std::mem::take(&mut w.out)));

    for i in 0..shape.requirements {
        w.push(&format!("requirement \"requirement {i}\" {{\n  when"));
        condition(&mut w, shape.lets, false, 0);
        w.push("\n  needs");
        let needs = 1 + w.rng.below(3);
        for n in 0..needs {
            if n > 0 {
                w.push(",");
            }
            let kind = *w.rng.pick(&["training", "documentation", "tooling"]);
            let item = *w.rng.pick(ITEMS);
            w.word(&format!("{kind} \"{item}\""));
        }
        w.push("\n}\n\n");
    }
    files.push(("requirements.rules".to_owned(), std::mem::take(&mut w.out)));

    let per_file = shape.rules.div_ceil(3).max(1);
    for chunk in 0..3 {
        for i in chunk * per_file..((chunk + 1) * per_file).min(shape.rules) {
            w.push(&format!("rule \"rule {i}\" {{\n  when"));
            condition(&mut w, shape.lets, true, 0);
            if w.rng.chance(25) {
                w.push("\n  unless");
                condition(&mut w, shape.lets, true, 1);
            }
            let tier = *w.rng.pick(TIERS);
            w.push(&format!("\n  then {tier}"));
            if w.rng.chance(80) {
                let template = *w.rng.pick(&[
                    "Rule {product} / {category} at {severity}.",
                    "The partner lacks {gaps}.",
                    "{affected_users} users; tried {attempted}.",
                    "Plain reason with {{braces}}.",
                ]);
                w.push(&format!("\n  because \"{template}\""));
            }
            if w.rng.chance(50) {
                let within = *w.rng.pick(&["30m", "1h", "4h", "1d", "2d"]);
                w.push(&format!("\n  within {within}"));
            }
            if w.rng.chance(20) {
                let address = w.rng.below(4);
                w.push(&format!("\n  notify \"desk{address}@escalations.example\""));
            }
            w.push("\n}\n\n");
        }
        files.push((format!("tier_{chunk}.rules"), std::mem::take(&mut w.out)));
    }
    files.push((
        "zz_default.rules".to_owned(),
        "default partner because \"The partner provides first-line support.\"\n".to_owned(),
    ));
    files
}

/// A generated case as intake JSON (with a `partner` object).
pub fn case(rng: &mut Rng, index: usize, description_words: usize) -> Value {
    let mut words = Vec::new();
    for _ in 0..description_words {
        if rng.chance(8) {
            words.push(*rng.pick(WORDS));
        } else {
            words.push(*rng.pick(FILLER));
        }
    }
    let subject: Vec<&str> = (0..6)
        .map(|_| {
            if rng.chance(20) {
                *rng.pick(WORDS)
            } else {
                *rng.pick(FILLER)
            }
        })
        .collect();
    let training = some(rng, ITEMS, 6);
    let tooling = some(rng, ITEMS, 6);
    let mut case = json!({
        "external_id": format!("CASE-{index}"),
        "customer": {"tenant": "contoso.partner.onmschina.cn"},
        "product": rng.pick(PRODUCTS),
        "category": rng.pick(CATEGORIES),
        "severity": rng.pick(&["minimal", "moderate", "critical", "A", "b"]),
        "subject": subject.join(" "),
        "description": words.join(" "),
        "affected_users": rng.pick(&[0, 5, 50, 99, 100, 250, 5_000]),
        "attempted": some(rng, &["checked service health", "ran message trace", "reset password"], 2),
        "partner": {"id": "p-1", "training": training, "documentation": [], "tooling": tooling},
    });
    if rng.chance(30) {
        case["service_health"] =
            json!({"status": rng.pick(&["investigating", "service_restored"])});
    }
    case
}

/// `count` cases with descriptions of about 500 characters.
pub fn cases(seed: u64, count: usize) -> Vec<Value> {
    let mut rng = Rng::new(seed);
    (0..count).map(|i| case(&mut rng, i, 75)).collect()
}
