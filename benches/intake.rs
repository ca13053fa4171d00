//! Intake over HTTP, end to end: starts the real server in-process on an
//! SQLite file (WAL, synchronous=FULL) with the shipped policy, and sends
//! escalating cases over loopback. Two runs per mode, each bounded in time:
//!
//! - closed loop: `CONCURRENCY` clients send back-to-back for `SECONDS`;
//!   reports intakes per second and p50/p99 latency;
//! - fixed rate: 500 requests per second for `SECONDS`, each timed from
//!   its scheduled start (so a stall counts against every request it
//!   delays); reports p50/p99/max.
//!
//! Modes: group commit (the server's default) and one transaction per
//! intake (the serial baseline).
//!
//! `cargo bench --bench intake` (release build). Environment:
//! `INTAKE_SECONDS` (default 10), `INTAKE_CONCURRENCY` (default 64),
//! `INTAKE_RATE` (default 500), `INTAKE_MODES` (default `batched,serial`).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "benchmarks print their figures"
)]
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark: a failed step ends it with the value"
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use escalator::case::{Capabilities, EmailAddress};
use escalator::config::Settings;
use escalator::server::{ServeOptions, Server, DEFAULT_INTAKE_BATCH};
use escalator::store::NewPartner;
use serde_json::{json, Value};
use tokio::net::TcpListener;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn case(external_id: &str) -> Value {
    json!({
        "external_id": external_id,
        "customer": {"tenant": "contoso.partner.onmschina.cn", "name": "Contoso Ltd"},
        "product": "m365",
        "category": "mail_flow",
        "severity": "moderate",
        "subject": "Outbound mail to a supplier rejected with 550 5.7.1",
        "description": "Since Monday mail from Contoso to supplier.example is rejected with 550 5.7.1. Other destinations work.",
        "affected_users": 600
    })
}

struct Target {
    url: String,
    token: String,
    client: reqwest::Client,
    next: AtomicU64,
    failures: AtomicU64,
}

impl Target {
    async fn send(&self) -> bool {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&case(&format!("LOAD-{n}")))
            .send()
            .await;
        let ok = matches!(&response, Ok(r) if r.status() == reqwest::StatusCode::CREATED);
        if let Ok(response) = response {
            let _ = response.bytes().await;
        }
        if !ok {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }
}

/// CPU seconds this process has used (user + system), from `/proc/self/stat`;
/// `None` off Linux. With the machine shared, intakes per CPU second say more
/// than intakes per wall second.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the line (utime, stime) are 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn percentile(sorted: &[Duration], share: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

async fn closed_loop(
    target: Arc<Target>,
    concurrency: usize,
    seconds: u64,
) -> (f64, Vec<Duration>) {
    let end = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let clients = (0..concurrency).map(|_| {
        let target = target.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < end {
                let sent = Instant::now();
                if target.send().await {
                    latencies.push(sent.elapsed());
                }
            }
            latencies
        })
    });
    let mut latencies = Vec::new();
    for client in futures::future::join_all(clients).await {
        latencies.extend(client.unwrap());
    }
    let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    (rate, latencies)
}

async fn fixed_rate(target: Arc<Target>, rate: u64, seconds: u64) -> Vec<Duration> {
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now();
    let total = rate * seconds;
    let mut requests = Vec::with_capacity(total as usize);
    for n in 0..total {
        let scheduled = start + interval * n as u32;
        tokio::time::sleep_until(scheduled).await;
        let target = target.clone();
        requests.push(tokio::spawn(async move {
            target.send().await.then(|| scheduled.elapsed())
        }));
    }
    let mut latencies: Vec<Duration> = futures::future::join_all(requests)
        .await
        .into_iter()
        .filter_map(|result| result.unwrap())
        .collect();
    latencies.sort();
    latencies
}

async fn run(mode: &str, seconds: u64, concurrency: usize, rate: u64) {
    let dir = tempfile::tempdir().unwrap();
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("escalator.db").display()),
        rules_dir: rules,
        ..Settings::default()
    };
    settings.mail.outbox_dir = dir.path().join("outbox");
    let options = ServeOptions {
        intake_batch: if mode == "serial" {
            1
        } else {
            DEFAULT_INTAKE_BATCH
        },
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Server::start_with(settings, listener, options)
        .await
        .unwrap();
    let partner = NewPartner {
        id: "load".to_owned(),
        name: "Load test desk".to_owned(),
        email: EmailAddress::parse("load@partner.example", "email").unwrap(),
        capabilities: Capabilities::default(),
    };
    let (_, token) = server
        .state
        .store
        .add_partner(&partner, Utc::now())
        .await
        .unwrap();
    let target = Arc::new(Target {
        url: format!("http://{}/v1/cases", server.address),
        token: token.token,
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .build()
            .unwrap(),
        next: AtomicU64::new(0),
        failures: AtomicU64::new(0),
    });
    // Warm up connections and caches.
    closed_loop(target.clone(), concurrency, 1).await;

    let cpu_before = cpu_seconds();
    let (throughput, latencies) = closed_loop(target.clone(), concurrency, seconds).await;
    let per_cpu_second = match (cpu_before, cpu_seconds()) {
        (Some(before), Some(after)) if after > before => {
            format!(
                ", {:.0} intakes per CPU second",
                latencies.len() as f64 / (after - before)
            )
        }
        _ => String::new(),
    };
    println!(
        "{mode:>8} closed loop, {concurrency} clients, {seconds} s: {throughput:.0} intakes/s, \
         p50 {:.1} ms, p99 {:.1} ms ({} intakes{per_cpu_second})",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.len()
    );
    let latencies = fixed_rate(target.clone(), rate, seconds).await;
    println!(
        "{mode:>8} fixed rate {rate}/s, {seconds} s: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} of {} answered 201)",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        latencies.len(),
        rate * seconds
    );
    let failures = target.failures.load(Ordering::Relaxed);
    if failures > 0 {
        println!("{mode:>8} {failures} requests did not answer 201");
    }
    server.stop().await;
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    // `cargo test --all-targets` runs bench binaries without it: the load
    // test is for measuring, not for the test suite, so it stops here.
    if !std::env::args().any(|argument| argument == "--bench") {
        println!("intake load test: run it with `cargo bench --bench intake`");
        return;
    }
    let seconds = env_or("INTAKE_SECONDS", 10u64);
    let concurrency = env_or("INTAKE_CONCURRENCY", 64usize);
    let rate = env_or("INTAKE_RATE", 500u64);
    let modes = std::env::var("INTAKE_MODES").unwrap_or_else(|_| "batched,serial".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(async {
        for mode in modes.split(',') {
            run(mode.trim(), seconds, concurrency, rate).await;
        }
    });
}
