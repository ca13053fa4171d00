//! Classification throughput on a generated 100-rule policy over 10,000
//! generated cases (descriptions of about 500 characters), and the time
//! `rules check` needs for a generated 1,000-rule policy. Both are
//! deterministic: the generators are seeded.
//!
//! `cargo bench --bench classify` runs both; `cargo bench --bench classify -- --write DIR`
//! writes the generated policy and cases to DIR for `escalator rules bench`.
//!
//! Two modes outside criterion serve instruction counting and comparisons
//! between versions of the evaluator (run the built bench binary directly):
//! `--repeat N` classifies the 10,000 cases N times in `repeat` (give
//! callgrind `--toggle-collect='*classify::repeat*'` to count only that),
//! and `--dump FILE` writes every outcome as one JSON line.
//!
//! Two options of `--repeat` separate what distinct cases cost from the
//! work itself: `--cases N` keeps only the first N cases (few enough
//! cases, repeated, stay in the processor's caches and branch predictors),
//! and `--twice` classifies every case twice in a row. `--repeat` classifies
//! with `Policy::classify_each`, as criterion's first benchmark does;
//! `--one-by-one` calls `Policy::classify` once per case instead, as the
//! second does (and `--twice` twice per case). `docs/performance.md`
//! says what the difference turned out to be. `--copies K` classifies K
//! copies of those cases (each copy its own allocations, so K copies of 100
//! cases take as much memory as 100 × K distinct ones, while the processor
//! sees only 100 distinct paths through the evaluator). `--large` classifies
//! against the 1,000-rule policy instead, where a case asks about many more
//! keywords.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "benchmarks print their figures"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion, Throughput};
use escalator::case::{Capabilities, Case};
use escalator::policy::{Policy, SourceFile};

#[path = "../tests/policy/generate.rs"]
#[allow(dead_code, clippy::all)]
mod generate;

use generate::Shape;

/// The allocator the `escalator` binary runs on (see `src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The benchmark policy: 100 rules, 20 requirements, 10 keyword lets.
const BENCH: Shape = Shape {
    rules: 100,
    requirements: 20,
    lets: 10,
    noisy: false,
    nested_lets: false,
    anchored: true,
    wide: false,
};
/// How many cases the benchmark classifies.
const CASES: usize = 10_000;
/// The policy `rules check` must load in under 100 ms.
const LARGE: Shape = Shape {
    rules: 1_000,
    requirements: 100,
    lets: 50,
    noisy: false,
    nested_lets: false,
    anchored: true,
    wide: false,
};

fn sources(shape: Shape) -> Vec<SourceFile> {
    generate::policy(42, shape)
        .into_iter()
        .map(|(name, text)| SourceFile { name, text })
        .collect()
}

fn cases(count: usize) -> Vec<(Case, Capabilities)> {
    generate::cases(7, count)
        .iter()
        .filter_map(|value| Case::from_json_with_partner(value).ok())
        .map(|input| (input.case, input.partner.unwrap_or_default()))
        .collect()
}

fn classification(c: &mut Criterion) {
    let Some((policy, cases)) = workload() else {
        return;
    };
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(cases.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("100 rules x 10,000 cases", |b| {
        b.iter(|| {
            for outcome in policy.classify_each(black_box(&cases)) {
                black_box(outcome);
            }
        })
    });
    group.bench_function("100 rules x 10,000 cases, one call per case", |b| {
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
    let lines: Vec<String> = generate::cases(7, CASES)
        .iter()
        .map(|c| c.to_string())
        .collect();
    std::fs::write(root.join("cases.jsonl"), lines.join("\n"))
}

/// The benchmark policy and cases, as criterion's classification sees them.
fn workload() -> Option<(Policy, Vec<(Case, Capabilities)>)> {
    workload_of(CASES, BENCH)
}

/// The benchmark policy and the first `count` cases.
fn workload_of(count: usize, shape: Shape) -> Option<(Policy, Vec<(Case, Capabilities)>)> {
    match Policy::from_sources(sources(shape)) {
        Ok(loaded) => Some((loaded.policy, cases(count))),
        Err(diagnostics) => {
            eprintln!("the generated policy does not load:\n{diagnostics}");
            None
        }
    }
}

/// How `repeat` classifies the cases.
#[derive(Clone, Copy)]
enum Calls {
    /// `Policy::classify_each` over all of them, as criterion's first
    /// benchmark does.
    Each,
    /// `Policy::classify` for each case, this many times in a row.
    PerCase(usize),
}

impl Calls {
    /// How many classifications each case gets per pass.
    fn per_case(self) -> usize {
        match self {
            Calls::Each => 1,
            Calls::PerCase(times) => times,
        }
    }
}

/// Classifies every case `times` times; kept out of line so callgrind can
/// count it alone.
#[inline(never)]
fn repeat(policy: &Policy, cases: &[(Case, Capabilities)], times: usize, calls: Calls) {
    for _ in 0..times {
        match calls {
            Calls::Each => {
                for outcome in policy.classify_each(black_box(cases)) {
                    black_box(outcome);
                }
            }
            Calls::PerCase(per_case) => {
                for (case, partner) in cases {
                    for _ in 0..per_case {
                        black_box(policy.classify(black_box(case), black_box(partner)));
                    }
                }
            }
        }
    }
}

/// Writes one outcome per line, to compare two versions of the evaluator.
fn dump(path: &str) -> std::io::Result<()> {
    let Some((policy, cases)) = workload() else {
        return Ok(());
    };
    let mut out = String::new();
    for (case, partner) in &cases {
        out.push_str(&serde_json::to_string(&policy.classify(case, partner))?);
        out.push('\n');
    }
    std::fs::write(path, out)
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
    let number_after = |flag: &str| {
        let at = args.iter().position(|a| a == flag)?;
        args.get(at + 1).and_then(|n| n.parse::<usize>().ok())
    };
    if args.iter().any(|a| a == "--repeat") {
        let times = number_after("--repeat").unwrap_or(1);
        let count = number_after("--cases").unwrap_or(CASES).min(CASES);
        let calls = if args.iter().any(|a| a == "--twice") {
            Calls::PerCase(2)
        } else if args.iter().any(|a| a == "--one-by-one") {
            Calls::PerCase(1)
        } else {
            Calls::Each
        };
        // `--large`: the 1,000-rule policy, whose cases ask about many more keywords.
        let shape = if args.iter().any(|a| a == "--large") {
            LARGE
        } else {
            BENCH
        };
        if let Some((policy, cases)) = workload_of(count, shape) {
            let copies = number_after("--copies").unwrap_or(1).max(1);
            let cases: Vec<(Case, Capabilities)> =
                (0..copies).flat_map(|_| cases.iter().cloned()).collect();
            let start = std::time::Instant::now();
            repeat(&policy, &cases, times, calls);
            let seconds = start.elapsed().as_secs_f64();
            let count = (cases.len() * times * calls.per_case()) as f64;
            println!(
                "{count} classifications in {seconds:.3} s: {:.0} cases/s",
                count / seconds
            );
        }
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--dump") {
        let path = args.get(at + 1).map_or("outcomes.jsonl", String::as_str);
        if let Err(error) = dump(path) {
            eprintln!("cannot write {path}: {error}");
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
