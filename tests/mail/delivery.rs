//! Delivery through lettre to a real aiosmtpd server, read back from disk,
//! and how each kind of failure is classified.

use std::time::Duration;

use escalator::config::MailSettings;
use escalator::mail::{render, EmailEvent, EmailPayload, SendError, Transport};

use crate::fixtures::{escalated, follow_up, smtp_settings, FROM};
use crate::smtp::{SmtpServer, Tls};

#[tokio::test]
async fn a_message_arrives_with_its_recipients_parts_and_thread_headers() {
    let Some(server) =
        SmtpServer::start("a_message_arrives_with_its_recipients_parts_and_thread_headers")
    else {
        return;
    };
    let transport = Transport::from_settings(&smtp_settings(&server.url(), 2)).unwrap();
    let mut payload = follow_up(EmailEvent::DeadlineWarning);
    payload.case["subject"] = "Outbound mail stuck — 邮件卡住".into();

    transport
        .send(&render(&payload, FROM).unwrap())
        .await
        .unwrap();

    let received = server.wait_for(1);
    let mail = &received[0];
    assert_eq!(mail.mail_from, "escalator@vianet.test");
    assert_eq!(
        mail.rcpt_tos,
        [
            "escalations@vianet.test",
            "mail-team@vianet.test",
            "desk@csp.test"
        ]
    );
    assert_eq!(
        mail.header("Subject"),
        Some("[ESC-c_8f3k2m9x] Deadline warning: critical m365: Outbound mail stuck — 邮件卡住")
    );
    assert_eq!(
        mail.header("To"),
        Some("escalations@vianet.test, mail-team@vianet.test")
    );
    assert_eq!(mail.header("Cc"), Some("desk@csp.test"));
    assert_eq!(
        mail.header("Message-ID"),
        Some("<c_8f3k2m9x.2.deadline_warning@escalator.test>")
    );
    assert_eq!(
        mail.header("In-Reply-To"),
        Some("<c_8f3k2m9x.1.escalated@escalator.test>")
    );
    assert_eq!(
        mail.header("References"),
        Some("<c_8f3k2m9x.1.escalated@escalator.test>")
    );
    assert_eq!(mail.header("Auto-Submitted"), Some("auto-generated"));
    assert_eq!(mail.header("X-Escalator-Event"), Some("deadline_warning"));
    assert_eq!(mail.content_type, "multipart/alternative");

    let text = mail.part("text/plain").expect("a plain-text part");
    assert!(
        text.contains("The acknowledge deadline of case c_8f3k2m9x passes soon."),
        "{text}"
    );
    assert!(text.contains("Outbound mail stuck — 邮件卡住"), "{text}");
    assert!(
        text.contains("training `exchange-transport`, required by mail-flow-skills"),
        "{text}"
    );
    let html = mail.part("text/html").expect("an HTML part");
    assert!(
        html.contains("<code>message-trace-admin</code></td><td>mail-flow-tools</td>"),
        "{html}"
    );
    assert!(
        html.contains("2026-03-02 02:30 Beijing time (UTC+8)"),
        "{html}"
    );
}

/// A subject holding what looks like an encoded word (`=?utf-8?q?x?=`)
/// reaches a standard reader (Python's `email`) as it was written, not
/// decoded into something else; so does a long one with it.
#[tokio::test]
async fn a_subject_that_looks_encoded_arrives_as_written() {
    let Some(server) = SmtpServer::start("a_subject_that_looks_encoded_arrives_as_written") else {
        return;
    };
    let transport = Transport::from_settings(&smtp_settings(&server.url(), 1)).unwrap();
    let subjects = [
        "tab=?utf-8?q?x?= end".to_owned(),
        format!(
            "long {}=?utf-8?b?eA==?= 邮件 {}",
            "word ".repeat(20),
            "tail ".repeat(10)
        ),
    ];
    for (n, subject) in subjects.iter().enumerate() {
        let mut payload = escalated();
        payload.message_id = format!("c_8f3k2m9x.{}.escalated@escalator.test", n + 10);
        payload.case["subject"] = subject.as_str().into();
        transport
            .send(&render(&payload, FROM).unwrap())
            .await
            .unwrap();
    }
    let received = server.wait_for(2);
    for (mail, subject) in received.iter().zip(&subjects) {
        assert_eq!(
            mail.header("Subject"),
            Some(format!("[ESC-c_8f3k2m9x] critical m365: {}", subject.trim_end()).as_str())
        );
    }
}

#[tokio::test]
async fn a_451_reply_is_transient_and_the_next_attempt_goes_through() {
    let Some(server) =
        SmtpServer::start("a_451_reply_is_transient_and_the_next_attempt_goes_through")
    else {
        return;
    };
    let transport = Transport::from_settings(&smtp_settings(&server.url(), 2)).unwrap();
    let message = render(&escalated(), FROM).unwrap();

    server.reply_with("451 4.3.0 try later");
    let error = transport.send(&message).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert_eq!(error.code(), Some(451));
    assert!(error.to_string().contains("try later"), "{error}");
    assert!(server.messages().is_empty());

    server.clear_reply();
    transport.send(&message).await.unwrap();
    assert_eq!(
        server.wait_for(1)[0].header("Message-ID"),
        Some("<c_8f3k2m9x.1.escalated@escalator.test>")
    );
}

/// Sends `payload`, which must fail, and returns why.
async fn send_failing(transport: &Transport, payload: &EmailPayload) -> SendError {
    transport
        .send(&render(payload, FROM).unwrap())
        .await
        .unwrap_err()
}

/// The escalation, to the desk and to a mailbox the server refuses for good.
fn to_the_desk_and_an_unknown_mailbox() -> EmailPayload {
    let mut payload = escalated();
    payload.to = vec![
        "escalations@vianet.test".to_owned(),
        "fail550-nobody@vianet.test".to_owned(),
    ];
    payload
}

#[tokio::test]
async fn a_refused_recipient_does_not_keep_the_message_from_the_others() {
    let Some(server) = SmtpServer::start("a_refused_recipient_does_not_keep_the_message") else {
        return;
    };
    let transport = Transport::from_settings(&smtp_settings(&server.url(), 2)).unwrap();
    let payload = to_the_desk_and_an_unknown_mailbox();

    let refused = transport
        .send(&render(&payload, FROM).unwrap())
        .await
        .unwrap();

    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].recipient, "fail550-nobody@vianet.test");
    assert!(refused[0].error.contains("550"), "{}", refused[0].error);
    // One transaction: the desk and the partner (cc) got the message, whole,
    // with the headers naming every recipient.
    let received = server.wait_for(1);
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].rcpt_tos,
        ["escalations@vianet.test", "desk@csp.test"]
    );
    assert_eq!(
        received[0].header("To"),
        Some("escalations@vianet.test, fail550-nobody@vianet.test")
    );
    assert_eq!(
        received[0].header("Message-ID"),
        Some("<c_8f3k2m9x.1.escalated@escalator.test>")
    );
}

/// Over TLS (implicit, then STARTTLS), with the server's authority given by
/// `[mail] tls_ca_file`: the message arrives, one refused recipient set
/// aside, and a second message follows it.
#[tokio::test]
async fn tls_sessions_deliver_and_set_a_refused_recipient_aside() {
    for tls in [Tls::Implicit, Tls::StartTls] {
        let Some(server) = SmtpServer::start_tls("tls_sessions_deliver", tls) else {
            return;
        };
        let settings = MailSettings {
            tls_ca_file: Some(server.ca_file()),
            ..smtp_settings(&server.url(), 1)
        };
        let transport = Transport::from_settings(&settings).unwrap();

        let refused = transport
            .send(&render(&to_the_desk_and_an_unknown_mailbox(), FROM).unwrap())
            .await
            .unwrap();
        assert_eq!(refused.len(), 1, "{tls:?}: {refused:?}");
        assert_eq!(refused[0].recipient, "fail550-nobody@vianet.test");
        transport
            .send(&render(&escalated(), FROM).unwrap())
            .await
            .unwrap();

        let received = server.wait_for(2);
        assert_eq!(
            received[0].rcpt_tos,
            ["escalations@vianet.test", "desk@csp.test"],
            "{tls:?}"
        );
        assert_eq!(
            received[1].header("Message-ID"),
            Some("<c_8f3k2m9x.1.escalated@escalator.test>"),
            "{tls:?}"
        );
    }
}

/// Without the private authority the server's certificate is not trusted:
/// nothing is sent, and the error says why (a retry may find the server's
/// certificate fixed, so it is transient).
#[tokio::test]
async fn a_server_certificate_from_an_unknown_authority_is_refused() {
    let Some(server) = SmtpServer::start_tls("a_server_certificate_from_an_unknown", Tls::Implicit)
    else {
        return;
    };
    let transport = Transport::from_settings(&smtp_settings(&server.url(), 1)).unwrap();
    let error = send_failing(&transport, &escalated()).await;
    assert!(error.is_transient(), "{error}");
    assert!(
        error.to_string().to_lowercase().contains("certificate"),
        "{error}"
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn a_550_reply_is_permanent_with_the_servers_text() {
    let Some(server) = SmtpServer::start("a_550_reply_is_permanent_with_the_servers_text") else {
        return;
    };
    let transport = Transport::from_settings(&smtp_settings(&server.url(), 2)).unwrap();
    // One recipient, then two refused with different codes: when every
    // recipient is refused the message fails, with the first refusal.
    for cc in [Vec::new(), vec!["fail553-desk@csp.test".to_owned()]] {
        let mut payload = escalated();
        payload.to = vec!["fail550-escalations@vianet.test".to_owned()];
        payload.cc = cc;

        let error = send_failing(&transport, &payload).await;
        assert!(matches!(error, SendError::Permanent { .. }), "{error}");
        assert_eq!(error.code(), Some(550), "{error}");
        assert!(
            error
                .to_string()
                .contains("recipient fail550-escalations@vianet.test refused on request"),
            "{error}"
        );
        assert!(error.to_string().contains(&server.url()), "{error}");
    }
    assert!(server.messages().is_empty());

    // The connection that saw the refusal is not reused in a broken state.
    transport
        .send(&render(&escalated(), FROM).unwrap())
        .await
        .unwrap();
    assert_eq!(server.wait_for(1).len(), 1);
}

#[tokio::test]
async fn a_451_for_one_recipient_is_transient() {
    let Some(server) = SmtpServer::start("a_451_for_one_recipient_is_transient") else {
        return;
    };
    let transport = Transport::from_settings(&smtp_settings(&server.url(), 2)).unwrap();
    // Alone, and beside a recipient refused for good: either way the 451
    // ends the transaction before DATA, so each retry is the only copy.
    let mut beside_a_refusal = to_the_desk_and_an_unknown_mailbox();
    beside_a_refusal.cc = vec!["fail451-desk@csp.test".to_owned()];
    let mut alone = escalated();
    alone.cc = vec!["fail451-desk@csp.test".to_owned()];
    for payload in [alone, beside_a_refusal.clone(), beside_a_refusal] {
        let error = send_failing(&transport, &payload).await;
        assert!(error.is_transient(), "{error}");
        assert_eq!(error.code(), Some(451), "{error}");
    }
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn a_server_that_is_down_is_transient_and_delivery_resumes_when_it_is_back() {
    let Some(mut server) = SmtpServer::start(
        "a_server_that_is_down_is_transient_and_delivery_resumes_when_it_is_back",
    ) else {
        return;
    };
    let transport = Transport::from_settings(&smtp_settings(&server.url(), 2)).unwrap();
    transport
        .send(&render(&escalated(), FROM).unwrap())
        .await
        .unwrap();

    server.stop();
    let outage = render(&follow_up(EmailEvent::Acknowledged), FROM).unwrap();
    let error = transport.send(&outage).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert_eq!(error.code(), None);

    server.restart();
    transport.send(&outage).await.unwrap();
    let received = server.wait_for(2);
    assert_eq!(
        received[1].header("X-Escalator-Event"),
        Some("acknowledged")
    );
}

#[tokio::test]
async fn a_stalled_server_is_cut_off_by_the_send_timeout_and_the_next_send_is_not_confused() {
    let Some(server) = SmtpServer::start(
        "a_stalled_server_is_cut_off_by_the_send_timeout_and_the_next_send_is_not_confused",
    ) else {
        return;
    };
    let mut settings = smtp_settings(&server.url(), 1);
    settings.send_timeout = Duration::from_millis(500);
    let transport = Transport::from_settings(&settings).unwrap();
    // Warm the pool so the stalled send runs on a reused connection.
    transport
        .send(&render(&escalated(), FROM).unwrap())
        .await
        .unwrap();

    server.stall();
    let stalled = render(&follow_up(EmailEvent::Acknowledged), FROM).unwrap();
    let error = transport.send(&stalled).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(
        error.to_string().contains("no reply within 500ms"),
        "{error}"
    );

    server.unstall();
    let next = render(&follow_up(EmailEvent::Resolved), FROM).unwrap();
    transport.send(&next).await.unwrap();
    let received = server.wait_for(2);
    // The stalled message may arrive too once the server wakes (at least
    // once); the resolved one must be there whatever the order.
    assert!(
        received
            .iter()
            .any(|mail| mail.header("Message-ID") == Some("<c_8f3k2m9x.2.resolved@escalator.test>")),
        "{received:#?}"
    );
}

#[tokio::test]
async fn clones_of_one_transport_send_concurrently() {
    let Some(server) = SmtpServer::start("clones_of_one_transport_send_concurrently") else {
        return;
    };
    let transport = Transport::from_settings(&smtp_settings(&server.url(), 4)).unwrap();
    let mut tasks = Vec::new();
    for index in 0..12 {
        let transport = transport.clone();
        let mut payload = escalated();
        payload.message_id = format!("<c_8f3k2m9x.{index}.escalated@escalator.test>");
        tasks.push(tokio::spawn(async move {
            transport.send(&render(&payload, FROM).unwrap()).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut ids: Vec<String> = server
        .wait_for(12)
        .iter()
        .map(|mail| mail.header("Message-ID").unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12);
}
