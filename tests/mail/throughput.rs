//! Delivery rate to a loopback aiosmtpd server. Ignored by default; run with
//! `cargo test --release --test mail -- --ignored throughput --nocapture`.
//! Figures are printed, not asserted (see docs/performance.md).

use std::time::Instant;

use escalator::mail::{render, Transport};
use futures::stream::{self, StreamExt};

use crate::fixtures::{escalated, smtp_settings, FROM};
use crate::smtp::SmtpServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run on demand with --release --ignored throughput --nocapture"]
async fn throughput_to_a_loopback_server_over_pooled_connections() {
    let Some(server) = SmtpServer::start("throughput_to_a_loopback_server_over_pooled_connections")
    else {
        return;
    };
    let runs: [(u32, usize); 5] = [(1, 100), (4, 400), (8, 800), (16, 1600), (32, 2000)];
    let mut total = 0;
    println!("connections  messages  seconds  messages/s  ms/message/connection");
    for (connections, count) in runs {
        let transport =
            Transport::from_settings(&smtp_settings(&server.url(), connections)).unwrap();
        // Open the connections first so the figure is the steady state.
        warm_up(&transport, connections, total).await;
        total += connections as usize;
        let started = Instant::now();
        let results: Vec<_> = stream::iter(0..count)
            .map(|index| {
                let transport = transport.clone();
                let mut payload = escalated();
                payload.message_id = format!("<c_{connections}.{index}.escalated@throughput.test>");
                async move { transport.send(&render(&payload, FROM).unwrap()).await }
            })
            .buffer_unordered(connections as usize)
            .collect()
            .await;
        let seconds = started.elapsed().as_secs_f64();
        total += count;
        assert!(
            results.iter().all(Result::is_ok),
            "{:?}",
            results.iter().find(|result| result.is_err())
        );
        println!(
            "{connections:>11}  {count:>8}  {seconds:>7.2}  {:>10.0}  {:>21.1}",
            count as f64 / seconds,
            seconds * 1000.0 * f64::from(connections) / count as f64
        );
    }
    assert_eq!(server.wait_for(total).len(), total);
}

async fn warm_up(transport: &Transport, connections: u32, offset: usize) {
    let sends = (0..connections as usize).map(|index| {
        let transport = transport.clone();
        let mut payload = escalated();
        payload.message_id = format!("<warm.{}@throughput.test>", offset + index);
        async move { transport.send(&render(&payload, FROM).unwrap()).await }
    });
    for result in futures::future::join_all(sends).await {
        result.unwrap();
    }
}
