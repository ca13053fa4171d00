//! What a successful delivery looks like: the message the server received,
//! the row marked sent, the `email_sent` event, and `.eml` files without SMTP.

use escalator::store::Store;
use escalator::telemetry::Metrics;

use crate::fixtures::{
    add_partner, after, dispatcher, entry, escalated_case, events_of, mail_settings, t0, DESK,
    NOTIFY,
};
use crate::smtp::SmtpServer;

contract_tests!(
    an_escalation_leaves_with_its_recipients_and_thread_headers_and_is_recorded_as_sent,
    without_smtp_the_eml_file_appears_in_the_outbox_directory_and_the_row_is_sent,
);

async fn an_escalation_leaves_with_its_recipients_and_thread_headers_and_is_recorded_as_sent(
    store: Store,
) {
    let Some(server) = SmtpServer::start("an_escalation_leaves_with_its_recipients") else {
        return;
    };
    add_partner(&store, "contoso").await;
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[NOTIFY], t0()).await;
    let metrics = Metrics::new();
    let dispatcher = dispatcher(&store, &mail_settings(Some(&server.url())), &metrics);

    let next = dispatcher.pass(after(10)).await.unwrap();

    assert_eq!(next, None, "nothing else is pending");
    let received = server.wait_for(1);
    assert_eq!(received.len(), 1, "exactly one message: {received:#?}");
    let mail = &received[0];
    assert_eq!(mail.rcpt_tos, [DESK, NOTIFY, "contoso@partner.example"]);
    assert_eq!(
        mail.header("To"),
        Some(format!("{DESK}, {NOTIFY}").as_str())
    );
    assert_eq!(mail.header("Cc"), Some("contoso@partner.example"));
    assert_eq!(
        mail.header("Subject"),
        Some(
            format!(
                "[ESC-{}] critical m365: Outbound mail stuck in queue",
                case.id
            )
            .as_str()
        )
    );
    let stored = entry(&store, &row).await;
    assert_eq!(mail.header("Message-ID"), Some(stored.message_id.as_str()));
    assert!(
        mail.header("In-Reply-To").is_none(),
        "the first email starts the thread"
    );
    assert_eq!(mail.header("Auto-Submitted"), Some("auto-generated"));
    assert_eq!(mail.header("X-Escalator-Event"), Some("escalated"));
    assert_eq!(mail.content_type, "multipart/alternative");
    assert!(mail.part("text/plain").unwrap().contains(&case.id));
    assert!(mail
        .part("text/html")
        .unwrap()
        .contains("mail flow is down"));

    assert_eq!(stored.status, "sent");
    assert_eq!(stored.attempts, 1);
    assert!(stored.sent_at.is_some_and(|at| at >= after(10)));
    assert_eq!(stored.lease_until, None, "the claim is released");
    let sent = events_of(&store, &case.id, "email_sent").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].data["outbox_id"], row.as_str());
    assert_eq!(sent[0].data["message_id"], stored.message_id.as_str());
    assert_eq!(sent[0].data["email"], "escalated");
    assert!(metrics
        .encode()
        .contains("escalator_email_attempts_total{result=\"sent\"} 1"));

    // A second pass finds nothing more to send.
    assert_eq!(dispatcher.pass(after(20)).await.unwrap(), None);
    assert_eq!(server.messages().len(), 1);
}

async fn without_smtp_the_eml_file_appears_in_the_outbox_directory_and_the_row_is_sent(
    store: Store,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = mail_settings(None);
    settings.outbox_dir = dir.path().join("outbox");
    add_partner(&store, "contoso").await;
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[], t0()).await;

    dispatcher(&store, &settings, &Metrics::new())
        .pass(after(10))
        .await
        .unwrap();

    let stored = entry(&store, &row).await;
    assert_eq!(stored.status, "sent");
    let file = settings.outbox_dir.join(format!(
        "{}.eml",
        stored.message_id.trim_matches(|c| c == '<' || c == '>')
    ));
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
    assert!(text.contains(&format!("[ESC-{}]", case.id)), "{text}");
    assert!(text.contains("X-Escalator-Event: escalated"), "{text}");
    assert_eq!(events_of(&store, &case.id, "email_sent").await.len(), 1);
}
