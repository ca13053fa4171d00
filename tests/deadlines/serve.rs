//! The deadline worker as `serve` runs it: started with the server, acting
//! on a passed deadline without being driven, and stopped with it.

use std::path::Path;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use escalator::case::Tier;
use escalator::config::Settings;
use escalator::server::Server;
use escalator::store::{Scope, Store};
use escalator::workflow::Stage;
use tokio::net::TcpListener;

use crate::fixtures::{add_partner, case, outcome, settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_the_deadline_worker_and_stops_it_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("escalator.db").display());
    let store = Store::connect(&url).await.unwrap();
    add_partner(&store, "pa").await;
    let intake = store
        .intake(
            "pa",
            &case("CASE-1"),
            &outcome(Tier::Partner, Some(60)),
            &settings(),
            Utc::now() - Duration::hours(2),
        )
        .await
        .unwrap();

    let mut server_settings = Settings {
        database_url: url,
        rules_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
        ..Settings::default()
    };
    server_settings.mail.outbox_dir = dir.path().join("outbox");
    server_settings.deadlines.max_sleep = StdDuration::from_millis(100);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Server::start(server_settings, listener).await.unwrap();

    let started = Instant::now();
    loop {
        let case = store.case(&intake.case.id, &Scope::All).await.unwrap();
        if case.stage == Stage::Escalated {
            break;
        }
        assert!(
            started.elapsed() < StdDuration::from_secs(30),
            "the passed deadline was not acted on"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    tokio::time::timeout(StdDuration::from_secs(30), server.stop())
        .await
        .expect("the server and its workers stop on shutdown");
    store.close().await;
}
