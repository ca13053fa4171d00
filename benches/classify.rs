//! Classification throughput on a generated 100-rule policy over 10,000
//! generated cases (descriptions of about 500 characters), and the time
//! `rules check` needs for a generated 1,000-rule policy. Both are
//! deterministic: the generators are seeded.
//!
//! `cargo bench --bench classify` runs both; `cargo bench --bench classify -- --write DIR`
//! writes the generated policy and cases to DIR for `escalator rules bench`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion, Throughput};
use escalator::case::{Capabilities, Case};
use escalator::policy::{Policy, SourceFile};

#[path = "../tests/policy/generate.rs"]
#[allow(dead_code, clippy::all)]
mod generate;

use generate::Shape;

/// The benchmark policy: 100 rules, 20 requirements, 10 keyword lets.
const BENCH: Shape = Shape {
    rules: 100,
    requirements: 20,
    lets: 10,
    noisy: false,
    nested_lets: false,
    anchored: true,
};
/// The policy `rules check` must load in under 100 ms.
const LARGE: Shape = Shape {
    rules: 1_000,
    requirements: 100,
    lets: 50,
    noisy: false,
    nested_lets: false,
    anchored: true,
};

fn sources(shape: Shape) -> Vec<SourceFile> {
    generate::policy(42, shape)
        .into_iter()
        .map(|(name, text)| SourceFile { name, text })
        .collect()
}

fn cases() -> Vec<(Case, Capabilities)> {
    generate::cases(7, 10_000)
        .iter()
        .filter_map(|value| Case::from_json_with_partner(value).ok())
        .map(|input| (input.case, input.partner.unwrap_or_default()))
        .collect()
}

fn classification(c: &mut Criterion) {
    let policy = match Policy::from_sources(sources(BENCH)) {
        Ok(loaded) => loaded.policy,
        Err(diagnostics) => {
            eprintln!("the generated policy does not load:\n{diagnostics}");
            return;
        }
    };
    let cases = cases();
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(cases.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("100 rules x 10,000 cases", |b| {
        b.iter(|| {
            for (case, partner) in &cases {
                black_box(policy.classify(black_box(case), black_box(partner)));
            }
        })
    });
    group.finish();
}

fn check(c: &mut Criterion) {
    let files = sources(LARGE);
    let mut group = c.benchmark_group("check");
    group.sample_size(10);
    group.bench_function("1,000 rules", |b| {
        b.iter(|| black_box(Policy::from_sources(black_box(files.clone())).is_ok()))
    });
    group.finish();
}

/// Writes the benchmark policy, the large policy and the cases to a directory.
fn write(dir: &str) -> std::io::Result<()> {
    let root = std::path::Path::new(dir);
    for (sub, shape) in [("policy-100", BENCH), ("policy-1000", LARGE)] {
        let target = root.join(sub);
        std::fs::create_dir_all(&target)?;
        for file in sources(shape) {
            std::fs::write(target.join(&file.name), file.text)?;
        }
    }
    let lines: Vec<String> = generate::cases(7, 10_000)
        .iter()
        .map(|c| c.to_string())
        .collect();
    std::fs::write(root.join("cases.jsonl"), lines.join("\n"))
}

criterion_group!(benches, classification, check);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--write") {
        let dir = args
            .get(at + 1)
            .map_or("target/bench-policy", String::as_str);
        match write(dir) {
            Ok(()) => println!("wrote {dir}/policy-100, {dir}/policy-1000 and {dir}/cases.jsonl"),
            Err(error) => eprintln!("cannot write {dir}: {error}"),
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
