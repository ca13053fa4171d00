//! Failed attempts: 4xx replies and outages are retried with backoff and
//! delivered once the server recovers, with the same Message-ID; 5xx replies
//! and exhausted attempts park the row as failed, visible on the case.

use std::time::Duration;

use chrono::Timelike;
use escalator::config::MailSettings;
use escalator::store::Store;
use escalator::telemetry::Metrics;

use crate::fixtures::{
    add_partner, after, dispatcher, entry, escalated_case, events_of, mail_settings, t0, NOTIFY,
};
use crate::smtp::SmtpServer;

contract_tests!(
    a_451_is_retried_with_backoff_and_delivered_once_with_the_same_message_id,
    a_server_that_is_down_is_retried_and_delivered_when_it_is_back,
    a_550_parks_the_row_as_failed_with_an_event_on_the_case_and_a_metric,
    a_refused_notify_address_leaves_the_email_sent_to_the_others_and_says_so,
    a_stalled_server_is_cut_off_by_the_send_timeout_and_the_email_delivered_afterwards,
    the_last_allowed_attempt_parks_a_transient_failure,
    a_retry_interval_past_the_last_date_a_clock_holds_retries_at_that_date,
);

async fn a_451_is_retried_with_backoff_and_delivered_once_with_the_same_message_id(store: Store) {
    let Some(server) = SmtpServer::start("a_451_is_retried_with_backoff") else {
        return;
    };
    add_partner(&store, "contoso").await;
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[NOTIFY], t0()).await;
    let settings = mail_settings(Some(&server.url()));
    let metrics = Metrics::new();
    let dispatcher = dispatcher(&store, &settings, &metrics);

    server.reply_with("451 4.3.0 try later");
    let next = dispatcher.pass(after(10)).await.unwrap();

    let failed = entry(&store, &row).await;
    assert_eq!(failed.status, "pending");
    assert_eq!(failed.attempts, 1);
    assert!(
        failed.last_error.as_deref().unwrap().contains("try later"),
        "{failed:?}"
    );
    assert_eq!(failed.lease_until, None, "the claim is released");
    assert_eq!(failed.claimed_by, None);
    // The first retry comes within `first_retry` of the attempt (the clock
    // of a pass moves on by the send's duration, at most `send_timeout`).
    let earliest = after(10) + chrono::Duration::from_std(settings.first_retry / 10).unwrap();
    let latest = after(10)
        + chrono::Duration::from_std(settings.first_retry + settings.send_timeout).unwrap();
    assert!(
        failed.next_attempt_at >= earliest && failed.next_attempt_at <= latest,
        "{} not within [{earliest}, {latest}]",
        failed.next_attempt_at
    );
    assert_eq!(
        next,
        Some(failed.next_attempt_at),
        "the pass says when to look again"
    );

    // Not due yet: nothing is attempted.
    dispatcher
        .pass(failed.next_attempt_at - chrono::Duration::milliseconds(1))
        .await
        .unwrap();
    assert_eq!(entry(&store, &row).await.attempts, 1);

    server.clear_reply();
    dispatcher.pass(failed.next_attempt_at).await.unwrap();

    let sent = entry(&store, &row).await;
    assert_eq!(sent.status, "sent");
    assert_eq!(sent.attempts, 2, "both attempts are counted");
    let received = server.wait_for(1);
    assert_eq!(received.len(), 1, "delivered exactly once");
    assert_eq!(
        received[0].header("Message-ID"),
        Some(failed.message_id.as_str())
    );
    assert_eq!(events_of(&store, &case.id, "email_sent").await.len(), 1);
    let text = metrics.encode();
    assert!(
        text.contains("escalator_email_attempts_total{result=\"retry\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("escalator_email_attempts_total{result=\"sent\"} 1"),
        "{text}"
    );
}

/// An operator may configure any interval; one that ends after the last
/// date a clock can hold reschedules the row at that date (in effect,
/// never), instead of overflowing the clock.
async fn a_retry_interval_past_the_last_date_a_clock_holds_retries_at_that_date(store: Store) {
    add_partner(&store, "contoso").await;
    let (_case, row) = escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;
    let three_million_years = Duration::from_secs(3_000_000 * 366 * 24 * 60 * 60);
    let settings = MailSettings {
        first_retry: three_million_years,
        max_retry_interval: three_million_years,
        // Nothing listens on port 1: the connection is refused, a transient failure.
        ..mail_settings(Some("smtp://127.0.0.1:1"))
    };
    let dispatcher = dispatcher(&store, &settings, &Metrics::new());

    dispatcher.pass(after(10)).await.unwrap();

    let failed = entry(&store, &row).await;
    assert_eq!((failed.status.as_str(), failed.attempts), ("pending", 1));
    assert_eq!(
        failed.next_attempt_at,
        chrono::DateTime::<chrono::Utc>::MAX_UTC
            .with_nanosecond(999_000_000)
            .unwrap()
    );
}

async fn a_server_that_is_down_is_retried_and_delivered_when_it_is_back(store: Store) {
    let Some(mut server) = SmtpServer::start("a_server_that_is_down_is_retried") else {
        return;
    };
    add_partner(&store, "contoso").await;
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;
    let dispatcher = dispatcher(&store, &mail_settings(Some(&server.url())), &Metrics::new());

    server.stop();
    let next = dispatcher.pass(after(10)).await.unwrap().unwrap();
    let failed = entry(&store, &row).await;
    assert_eq!((failed.status.as_str(), failed.attempts), ("pending", 1));
    assert!(failed.last_error.is_some());

    server.restart();
    dispatcher.pass(next).await.unwrap();

    assert_eq!(entry(&store, &row).await.status, "sent");
    let received = server.wait_for(1);
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].header("Message-ID"),
        Some(failed.message_id.as_str())
    );
    assert_eq!(events_of(&store, &case.id, "email_sent").await.len(), 1);
}

async fn a_550_parks_the_row_as_failed_with_an_event_on_the_case_and_a_metric(store: Store) {
    let Some(server) = SmtpServer::start("a_550_parks_the_row_as_failed") else {
        return;
    };
    add_partner(&store, "contoso").await;
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[NOTIFY], t0()).await;
    let metrics = Metrics::new();
    let dispatcher = dispatcher(&store, &mail_settings(Some(&server.url())), &metrics);

    // Refused for every recipient: the server refuses the sender.
    server.reply_with("550 5.7.1 sender refused");
    let next = dispatcher.pass(after(10)).await.unwrap();

    assert_eq!(next, None, "a parked row is not due again");
    let parked = entry(&store, &row).await;
    assert_eq!(parked.status, "failed");
    assert_eq!(parked.attempts, 1, "a permanent failure is not retried");
    let error = parked.last_error.clone().unwrap();
    assert!(error.contains("550"), "{error}");
    let failed = events_of(&store, &case.id, "email_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].data["outbox_id"], row.as_str());
    assert_eq!(failed[0].data["error"], error.as_str());
    assert!(metrics
        .encode()
        .contains("escalator_email_attempts_total{result=\"failed\"} 1"));
    let listed = store.list_emails(Some("failed"), 10).await.unwrap();
    assert_eq!(listed.len(), 1, "the row is kept");
    assert_eq!(listed[0].id, row);

    server.clear_reply();
    dispatcher.pass(after(3_600_000)).await.unwrap();
    assert!(server.messages().is_empty());
    assert_eq!(entry(&store, &row).await.attempts, 1);
}

async fn a_refused_notify_address_leaves_the_email_sent_to_the_others_and_says_so(store: Store) {
    let Some(server) = SmtpServer::start("a_refused_notify_address") else {
        return;
    };
    add_partner(&store, "contoso").await;
    let refused = "fail550-team@21vianet.example";
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[refused], t0()).await;
    let metrics = Metrics::new();
    let dispatcher = dispatcher(&store, &mail_settings(Some(&server.url())), &metrics);

    assert_eq!(dispatcher.pass(after(10)).await.unwrap(), None);

    let sent = entry(&store, &row).await;
    assert_eq!((sent.status.as_str(), sent.attempts), ("sent", 1));
    let note = sent.last_error.clone().unwrap_or_default();
    assert!(
        note.starts_with(&format!("sent, but refused for {refused}: ")) && note.contains("550"),
        "{note}"
    );
    // The escalation desk and the partner desk got it all the same, once.
    let received = server.wait_for(1);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_tos.len(), 2, "{:?}", received[0].rcpt_tos);
    assert!(!received[0].rcpt_tos.iter().any(|r| r == refused));
    let events = events_of(&store, &case.id, "email_sent").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data["refused"][0]["recipient"], refused);
    assert!(events[0].data["refused"][0]["error"]
        .as_str()
        .unwrap()
        .contains("550"));
    assert!(events_of(&store, &case.id, "email_failed").await.is_empty());
    let encoded = metrics.encode();
    assert!(encoded.contains("escalator_email_attempts_total{result=\"sent\"} 1"));
    assert!(
        encoded.contains("escalator_email_recipients_refused_total 1"),
        "{encoded}"
    );
}

async fn a_stalled_server_is_cut_off_by_the_send_timeout_and_the_email_delivered_afterwards(
    store: Store,
) {
    let Some(server) = SmtpServer::start("a_stalled_server_is_cut_off") else {
        return;
    };
    add_partner(&store, "contoso").await;
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;
    let mut settings = mail_settings(Some(&server.url()));
    settings.send_timeout = Duration::from_millis(500);
    let dispatcher = dispatcher(&store, &settings, &Metrics::new());

    server.stall();
    let next = dispatcher.pass(after(10)).await.unwrap().unwrap();
    let failed = entry(&store, &row).await;
    assert_eq!((failed.status.as_str(), failed.attempts), ("pending", 1));
    let error = failed.last_error.unwrap();
    assert!(error.contains("no reply within 500ms"), "{error}");

    server.unstall();
    dispatcher.pass(next).await.unwrap();

    assert_eq!(entry(&store, &row).await.status, "sent");
    let received = server.wait_for(1);
    // The stalled copy may still be accepted once the server wakes (the
    // client gave up, the server did not): at least once, never lost.
    assert!((1..=2).contains(&received.len()), "{received:#?}");
    assert!(received
        .iter()
        .all(|mail| mail.header("Message-ID") == Some(failed.message_id.as_str())));
    assert_eq!(events_of(&store, &case.id, "email_sent").await.len(), 1);
}

async fn the_last_allowed_attempt_parks_a_transient_failure(store: Store) {
    let Some(mut server) = SmtpServer::start("the_last_allowed_attempt_parks") else {
        return;
    };
    server.stop();
    add_partner(&store, "contoso").await;
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;
    let mut settings = mail_settings(Some(&server.url()));
    settings.max_attempts = 2;
    let dispatcher = dispatcher(&store, &settings, &Metrics::new());

    let next = dispatcher.pass(after(10)).await.unwrap().unwrap();
    assert_eq!(entry(&store, &row).await.status, "pending");
    dispatcher.pass(next).await.unwrap();

    let parked = entry(&store, &row).await;
    assert_eq!((parked.status.as_str(), parked.attempts), ("failed", 2));
    let error = parked.last_error.unwrap();
    assert!(error.starts_with("gave up after 2 attempts: "), "{error}");
    assert_eq!(events_of(&store, &case.id, "email_failed").await.len(), 1);
}
