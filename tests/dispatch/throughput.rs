//! Dispatcher throughput end to end: rows already committed in a SQLite
//! file, the dispatcher with the default settings, until every message is
//! in aiosmtpd's directory. Ignored by default; run with
//! `cargo test --release --test dispatch -- --ignored throughput --nocapture`.
//! Figures are printed, not asserted (see docs/performance.md).

use std::time::Instant;

use escalator::config::MailSettings;
use escalator::store::Store;
use escalator::telemetry::Metrics;

use crate::fixtures::{add_partner, after, dispatcher, escalated_case, t0};
use crate::smtp::SmtpServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run on demand with --release --ignored throughput --nocapture"]
async fn throughput_of_the_dispatcher_from_committed_rows_to_the_servers_directory() {
    let Some(server) = SmtpServer::start("throughput_of_the_dispatcher") else {
        return;
    };
    let rows: usize = std::env::var("ESCALATOR_BENCH_ROWS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("escalator.db").display()
    ))
    .await
    .unwrap();
    add_partner(&store, "contoso").await;
    for index in 0..rows {
        escalated_case(&store, "contoso", &format!("CASE-{index}"), &[], t0()).await;
    }
    let settings = MailSettings {
        smtp_url: Some(server.url()),
        ..MailSettings::default()
    };
    let dispatcher = dispatcher(&store, &settings, &Metrics::new());

    let started = Instant::now();
    let mut passes = 0;
    while dispatcher.pass(after(60_000)).await.unwrap().is_some() {
        passes += 1;
    }
    let dispatched = started.elapsed().as_secs_f64();
    let received = server.wait_for(rows).len();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(received, rows);
    println!(
        "rows {rows}  connections {}  passes {}  seconds {seconds:.2}  emails/s {:.0}  (dispatcher done after {dispatched:.2} s)",
        settings.connections,
        passes + 1,
        rows as f64 / seconds
    );
    store.close().await;
}
