//! The `.eml` file transport used when no SMTP server is configured.

use escalator::config::MailSettings;
use escalator::mail::{render, Transport};

use crate::fixtures::{escalated, FROM};

#[tokio::test]
async fn a_message_becomes_one_readable_eml_file_named_after_its_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let settings = MailSettings {
        outbox_dir: outbox.clone(),
        ..MailSettings::default()
    };
    let transport = Transport::from_settings(&settings).unwrap();
    let message = render(&escalated(), FROM).unwrap();

    transport.send(&message).await.unwrap();
    // A retry of the same row replaces the file instead of adding one.
    transport.send(&message).await.unwrap();

    let names: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["c_8f3k2m9x.1.escalated@escalator.test.eml"]);
    let text = std::fs::read_to_string(outbox.join(&names[0])).unwrap();
    assert_eq!(text.as_bytes(), message.formatted().as_slice());
    assert!(
        text.contains("Subject: [ESC-c_8f3k2m9x] critical m365: Outbound mail stuck in queue"),
        "{text}"
    );
    assert!(
        text.contains("Message-ID: <c_8f3k2m9x.1.escalated@escalator.test>"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unwritable_directory_is_a_transient_failure_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-directory");
    std::fs::write(&blocker, "x").unwrap();
    let settings = MailSettings {
        outbox_dir: blocker.join("outbox"),
        ..MailSettings::default()
    };
    let transport = Transport::from_settings(&settings).unwrap();
    let error = transport
        .send(&render(&escalated(), FROM).unwrap())
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(error.to_string().contains("not-a-directory"), "{error}");
}
