//! Claims and leases: an expired claim is taken over by the same query and
//! the old owner can no longer record a result; a dispatcher told to stop
//! claims nothing; two dispatchers on one PostgreSQL database send each row
//! exactly once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::Timelike;

use escalator::config::Settings;
use escalator::mail::Dispatcher;
use escalator::store::{DeliveryOutcome, DeliveryResult, Scope, Store};
use escalator::telemetry::Metrics;
use escalator::workflow::{Actor, MoveRequest, Stage, Target};
use tokio_util::sync::CancellationToken;

use crate::fixtures::{
    add_partner, after, dispatcher, entry, escalated_case, events_of, mail_settings, t0,
};
use crate::smtp::SmtpServer;

contract_tests!(
    an_expired_lease_is_claimed_again_and_the_first_owner_cannot_record_a_result,
    results_recorded_together_answer_in_the_order_they_were_given,
    a_dispatcher_told_to_stop_claims_nothing_and_the_row_stays_pending,
    a_lease_past_the_last_date_a_clock_holds_ends_at_that_date,
    a_cases_emails_are_claimed_one_after_the_other,
);

/// A case's emails are tried in the order they were queued: the
/// acknowledgement waits while the escalation email has not been tried or
/// is being sent; once the escalation was tried (and waits for a retry), or
/// was sent, the acknowledgement goes. Another case's email never waits.
async fn a_cases_emails_are_claimed_one_after_the_other(store: Store) {
    add_partner(&store, "contoso").await;
    let vianet = Actor::Vianet {
        id: "desk-1".to_owned(),
    };
    // Two cases, each escalated then acknowledged: two rows each.
    let mut rows = Vec::new();
    for (n, external) in ["CASE-1", "CASE-2"].into_iter().enumerate() {
        let at = after(1_000 * n as i64);
        let (case, escalation) = escalated_case(&store, "contoso", external, &[], at).await;
        let ack = MoveRequest::to(Target::Stage(Stage::Acknowledged), case.version);
        store
            .change_stage(
                &case.id,
                &Scope::Vianet,
                &ack,
                &vianet,
                &Settings::default(),
                at,
            )
            .await
            .unwrap();
        let emails = store.case_emails(&case.id).await.unwrap();
        let acknowledgement = emails
            .iter()
            .find(|e| e.id != escalation)
            .unwrap()
            .id
            .clone();
        rows.push((escalation, acknowledgement));
    }
    let [(escalation_1, ack_1), (escalation_2, ack_2)] = [rows[0].clone(), rows[1].clone()];
    let lease = Duration::from_secs(10);
    let ids = |claimed: &[escalator::store::ClaimedEmail]| {
        let mut ids: Vec<String> = claimed.iter().map(|email| email.id.clone()).collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };

    // Not tried yet: only the escalations go.
    let first = store
        .claim_emails("a", after(5_000), lease, 10)
        .await
        .unwrap();
    assert_eq!(
        ids(&first),
        sorted(vec![escalation_1.clone(), escalation_2.clone()])
    );
    // Being sent (their leases run): the acknowledgements still wait.
    assert!(store
        .claim_emails("b", after(6_000), lease, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.next_email_due().await.unwrap(), Some(after(15_001)));

    // Case 1's escalation failed and waits for its retry; case 2's was sent.
    let held = |id: &str| first.iter().find(|email| email.id == id).unwrap().clone();
    assert!(store
        .reschedule_email(&held(&escalation_1), "a", after(600_000), "451 greylisted")
        .await
        .unwrap());
    assert!(store
        .mark_email_sent(&held(&escalation_2), "a", after(7_000))
        .await
        .unwrap());
    // Both acknowledgements go now: a retry to come holds nothing back.
    let second = store
        .claim_emails("a", after(8_000), lease, 10)
        .await
        .unwrap();
    assert_eq!(ids(&second), sorted(vec![ack_1, ack_2]));
}

/// An operator may configure any lease; one that would end after the last
/// date a clock can hold ends at that date, so that the claim reads back
/// as a date and the next due time stays computable.
async fn a_lease_past_the_last_date_a_clock_holds_ends_at_that_date(store: Store) {
    add_partner(&store, "contoso").await;
    let (_case, row) = escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;
    let last = chrono::DateTime::<chrono::Utc>::MAX_UTC
        .with_nanosecond(999_000_000)
        .unwrap();
    for years in [300_000u64, 300_000_000] {
        let lease = Duration::from_secs(years * 366 * 24 * 60 * 60);
        let claimed = store.claim_emails("a", after(10), lease, 10).await.unwrap();
        assert_eq!(claimed.len(), 1, "{years} years");
        assert_eq!(
            entry(&store, &row).await.lease_until,
            Some(last),
            "{years} years"
        );
        assert_eq!(
            store.next_email_due().await.unwrap(),
            Some(chrono::DateTime::<chrono::Utc>::MAX_UTC),
            "{years} years: the row is claimable again only at the last date"
        );
        // Release the claim for the next round.
        store
            .reschedule_email(&claimed[0], "a", after(10), "again")
            .await
            .unwrap();
    }
}

async fn an_expired_lease_is_claimed_again_and_the_first_owner_cannot_record_a_result(
    store: Store,
) {
    add_partner(&store, "contoso").await;
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;
    let lease = Duration::from_secs(10);

    let first = store.claim_emails("a", after(10), lease, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].id, row);
    let held = entry(&store, &row).await;
    assert_eq!(held.claimed_by.as_deref(), Some("a"));
    assert_eq!(held.lease_until, Some(after(10_010)));

    assert!(
        store
            .claim_emails("b", after(5_000), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "a live claim is not taken"
    );
    assert_eq!(
        store.next_email_due().await.unwrap(),
        Some(after(10_011)),
        "the row is next claimable just after the lease"
    );

    let second = store
        .claim_emails("b", after(10_011), lease, 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "the expired claim is taken over");

    assert!(!store
        .mark_email_sent(&first[0], "a", after(10_020))
        .await
        .unwrap());
    assert!(!store
        .reschedule_email(&first[0], "a", after(20_000), "late")
        .await
        .unwrap());
    assert!(!store
        .park_email(&first[0], "a", "late", after(10_020))
        .await
        .unwrap());
    assert_eq!(entry(&store, &row).await.claimed_by.as_deref(), Some("b"));
    assert!(store
        .mark_email_sent(&second[0], "b", after(10_030))
        .await
        .unwrap());
    assert_eq!(entry(&store, &row).await.status, "sent");
    assert_eq!(events_of(&store, &case.id, "email_sent").await.len(), 1);
    assert!(events_of(&store, &case.id, "email_failed").await.is_empty());
}

/// A batch is written in case order (so that two instances lock cases in
/// the same order), but whether each result was written is answered in the
/// order the results were given.
async fn results_recorded_together_answer_in_the_order_they_were_given(store: Store) {
    add_partner(&store, "contoso").await;
    let lease = Duration::from_secs(10);
    escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;
    let mine = store.claim_emails("a", after(10), lease, 10).await.unwrap();
    escalated_case(&store, "contoso", "CASE-2", &[], after(20)).await;
    let theirs = store.claim_emails("b", after(30), lease, 10).await.unwrap();
    assert_eq!((mine.len(), theirs.len()), (1, 1));

    // Both orders: one of them is not the order the rows are written in.
    for reversed in [false, true] {
        let mut emails = [(mine[0].clone(), true), (theirs[0].clone(), false)];
        if reversed {
            emails.reverse();
        }
        let results: Vec<DeliveryResult> = emails
            .iter()
            .map(|(email, _)| DeliveryResult {
                email: email.clone(),
                outcome: DeliveryOutcome::Retry {
                    next_attempt_at: after(100),
                    error: "451 try later".to_owned(),
                },
                at: after(40),
            })
            .collect();
        let written = store.record_deliveries("a", &results).await.unwrap();
        let expected: Vec<bool> = emails.iter().map(|(_, held)| *held).collect();
        assert_eq!(written, expected, "reversed: {reversed}");
        // Re-claim the retried row for the second round.
        if !reversed {
            let again = store
                .claim_emails("a", after(100), lease, 10)
                .await
                .unwrap();
            assert_eq!(again.len(), 1);
        }
    }
}

async fn a_dispatcher_told_to_stop_claims_nothing_and_the_row_stays_pending(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = mail_settings(None);
    settings.outbox_dir = dir.path().join("outbox");
    add_partner(&store, "contoso").await;
    let (_case, row) = escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;
    let shutdown = CancellationToken::new();
    shutdown.cancel();

    let next = dispatcher(&store, &settings, &Metrics::new())
        .with_shutdown(shutdown)
        .pass(after(10))
        .await
        .unwrap();

    let pending = entry(&store, &row).await;
    assert_eq!((pending.status.as_str(), pending.attempts), ("pending", 0));
    assert_eq!(pending.claimed_by, None);
    assert_eq!(next, Some(t0()), "the row is still due");
    assert!(!settings.outbox_dir.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_dispatchers_on_one_postgres_database_send_each_row_exactly_once() {
    crate::harness::on_postgres(two_dispatchers_send_each_row_once).await;
}

async fn two_dispatchers_send_each_row_once(store: Store) {
    let Some(server) = SmtpServer::start("two_dispatchers_on_one_postgres_database") else {
        return;
    };
    const ROWS: usize = 100;
    add_partner(&store, "contoso").await;
    for index in 0..ROWS {
        escalated_case(&store, "contoso", &format!("CASE-{index}"), &[], t0()).await;
    }
    let settings = mail_settings(Some(&server.url()));
    let metrics = Metrics::new();
    let first = dispatcher(&store, &settings, &metrics).with_instance("instance-a");
    let second = dispatcher(&store, &settings, &metrics).with_instance("instance-b");

    let drain = |dispatcher: Dispatcher| {
        let store = store.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                dispatcher.pass(after(60_000)).await.unwrap();
                if store
                    .list_emails(Some("pending"), 1)
                    .await
                    .unwrap()
                    .is_empty()
                {
                    return;
                }
                assert!(Instant::now() < deadline, "rows still pending after 60 s");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    tokio::join!(drain(first), drain(second));

    let received = server.wait_for(ROWS);
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    for mail in &received {
        *copies
            .entry(mail.header("Message-ID").unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(copies.len(), ROWS, "every row arrived");
    assert!(
        copies.values().all(|count| *count == 1),
        "some rows were sent twice: {copies:?}"
    );
    let sent = store.list_emails(Some("sent"), 200).await.unwrap();
    assert_eq!(sent.len(), ROWS);
    let mut by_instance: BTreeMap<String, usize> = BTreeMap::new();
    for row in &sent {
        assert_eq!(row.attempts, 1);
        *by_instance
            .entry(row.claimed_by.clone().unwrap_or_default())
            .or_default() += 1;
    }
    println!("rows sent per instance: {by_instance:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_during_a_send_lets_it_finish_and_records_the_result() {
    crate::harness::on_sqlite(shutdown_lets_the_send_in_flight_finish).await;
}

async fn shutdown_lets_the_send_in_flight_finish(store: Store) {
    let Some(server) = SmtpServer::start("shutdown_during_a_send_lets_it_finish") else {
        return;
    };
    add_partner(&store, "contoso").await;
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;
    let shutdown = CancellationToken::new();
    let dispatcher = dispatcher(&store, &mail_settings(Some(&server.url())), &Metrics::new())
        .with_shutdown(shutdown.clone());

    server.stall();
    let pass = tokio::spawn(async move { dispatcher.pass(after(10)).await });
    crate::fixtures::eventually("the row is claimed", Duration::from_secs(20), || {
        let store = store.clone();
        let row = row.clone();
        async move { entry(&store, &row).await.claimed_by }
    })
    .await;
    shutdown.cancel();
    server.unstall();
    pass.await.unwrap().unwrap();

    assert_eq!(entry(&store, &row).await.status, "sent");
    assert_eq!(events_of(&store, &case.id, "email_sent").await.len(), 1);
    assert_eq!(server.wait_for(1).len(), 1);
}
