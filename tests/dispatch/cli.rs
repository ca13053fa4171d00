//! `escalator outbox list|retry` through the real binary, on a SQLite file.

use std::process::Output;

use escalator::store::Store;
use escalator::telemetry::Metrics;
use escalator::workflow::Role;
use serde_json::Value;

use crate::binary::{assert_stderr_has, run_in as escalator, stderr};
use crate::fixtures::{
    add_partner, after, dispatcher, entry, escalated_case, events_of, mail_settings, t0,
};

/// `escalator serve` on the shipped policy with `extra` flags, run to its
/// end: the tests that use it expect it to refuse to start.
fn serve_with_shipped_rules(dir: &std::path::Path, extra: &[&str]) -> Output {
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--rules", rules];
    args.extend_from_slice(extra);
    escalator(dir, &args)
}

/// The database the command line opens in `dir` (`cli.db`, see
/// `binary::run_in`), with partner `contoso`.
async fn cli_store(dir: &std::path::Path) -> Store {
    let store = Store::connect(&format!("sqlite://{}", dir.join("cli.db").display()))
        .await
        .unwrap();
    add_partner(&store, "contoso").await;
    store
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_list_pages_with_the_cursor_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let store = cli_store(dir.path()).await;
    let mut ids = Vec::new();
    for (n, external) in ["CASE-1", "CASE-2", "CASE-3"].into_iter().enumerate() {
        let (case, _row) =
            escalated_case(&store, "contoso", external, &[], after(1000 * n as i64)).await;
        ids.push(case.id.to_string());
    }
    ids.reverse(); // newest first

    let first = json(&escalator(dir.path(), &["cases", "list", "--limit", "2"]));
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_owned();
    let rest = json(&escalator(
        dir.path(),
        &["cases", "list", "--limit", "2", "--cursor", &cursor],
    ));
    assert!(rest["next_cursor"].is_null(), "{rest:#}");
    let listed: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|case| case["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids);

    let bad = escalator(dir.path(), &["cases", "list", "--cursor", "zz"]);
    assert_eq!(bad.status.code(), Some(1));
    assert_stderr_has(&bad, "cursor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_list_shows_rows_and_retry_queues_a_failed_one_again_with_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let store = cli_store(dir.path()).await;
    let (_sent_case, sent_row) = escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;
    let (failed_case, failed_row) = escalated_case(&store, "contoso", "CASE-2", &[], t0()).await;
    // One row delivered (as a file), the other parked as if refused.
    let claimed = store
        .claim_emails("test", after(10), std::time::Duration::from_secs(60), 10)
        .await
        .unwrap();
    for email in &claimed {
        if email.id == failed_row {
            assert!(store
                .park_email(email, "test", "550 recipient refused", after(20))
                .await
                .unwrap());
        } else {
            assert!(store
                .mark_email_sent(email, "test", after(20))
                .await
                .unwrap());
        }
    }

    let all = json(&escalator(dir.path(), &["outbox", "list"]));
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{all:#}");
    let failed = json(&escalator(
        dir.path(),
        &["outbox", "list", "--status", "failed"],
    ));
    assert_eq!(failed["items"].as_array().unwrap().len(), 1, "{failed:#}");
    assert_eq!(failed["items"][0]["id"], failed_row.as_str());
    assert_eq!(failed["items"][0]["last_error"], "550 recipient refused");
    assert_eq!(failed["items"][0]["attempts"], 1);

    let retried = json(&escalator(dir.path(), &["outbox", "retry", &failed_row]));
    assert_eq!(retried["status"], "pending");
    assert_eq!(retried["attempts"], 0);
    let events = events_of(&store, &failed_case.id, "email_retried").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor.role(), Role::Admin);
    assert_eq!(events[0].data["outbox_id"], failed_row.as_str());
    assert_eq!(events[0].data["error"], "550 recipient refused");

    // Pending and sent rows are refused, naming the row.
    let again = escalator(dir.path(), &["outbox", "retry", &failed_row]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains(&format!("`{failed_row}` is pending")),
        "{}",
        stderr(&again)
    );
    let sent = escalator(dir.path(), &["outbox", "retry", &sent_row]);
    assert_eq!(sent.status.code(), Some(1));
    assert!(
        stderr(&sent).contains(&format!("`{sent_row}` is sent")),
        "{}",
        stderr(&sent)
    );
    let missing = escalator(dir.path(), &["outbox", "retry", "m_nope"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_stderr_has(&missing, "no outbox row `m_nope`");
    let bad = escalator(dir.path(), &["outbox", "list", "--status", "lost"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_stderr_has(&bad, "`lost`");

    // The retried row is delivered by the next pass.
    let mut settings = mail_settings(None);
    settings.outbox_dir = dir.path().join("outbox");
    dispatcher(&store, &settings, &Metrics::new())
        .pass(chrono::Utc::now())
        .await
        .unwrap();
    let delivered = entry(&store, &failed_row).await;
    assert_eq!((delivered.status.as_str(), delivered.attempts), ("sent", 1));
    store.close().await;
}

/// `serve` checks the policy and the mail settings before it opens the
/// database: started in the wrong directory, or with an unusable SMTP URL,
/// it leaves no database file behind.
#[test]
fn serve_that_will_not_start_creates_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let no_policy = escalator(dir.path(), &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(no_policy.status.code(), Some(1));
    assert_stderr_has(&no_policy, "policy");
    assert!(
        !dir.path().join("cli.db").exists(),
        "{:?}",
        std::fs::read_dir(dir.path()).unwrap().collect::<Vec<_>>()
    );

    let bad_smtp = serve_with_shipped_rules(dir.path(), &["--smtp-url", "http://mail.example"]);
    assert_eq!(bad_smtp.status.code(), Some(1));
    assert_stderr_has(&bad_smtp, "smtp_url");
    assert!(!dir.path().join("cli.db").exists());
}

/// Without SMTP, `serve` makes sure it can write `.eml` files before it
/// starts, instead of serving and retrying every email against a directory
/// it cannot write.
#[test]
fn serve_refuses_an_outbox_directory_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file"), "x").unwrap();
    let output = serve_with_shipped_rules(dir.path(), &["--outbox-dir", "a-file/outbox"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("outbox_dir") && message.contains("a-file/outbox"),
        "{message}"
    );
    assert!(!dir.path().join("cli.db").exists());
}
