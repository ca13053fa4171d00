//! The real `escalator serve` process: a sender killed mid-send is taken
//! over by the next one after its lease, and the shipped quickstart (no SMTP
//! configured) writes `.eml` files to `outbox/` and clears the temporary
//! files killed writers left there.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use chrono::Utc;
use escalator::store::{CaseRecord, OutboxEntry, Store};

use crate::binary;
use crate::fixtures::{add_partner, entry, escalated_case, events_of, eventually, rules_dir};
use crate::smtp::SmtpServer;

/// A running `escalator serve`, killed when dropped.
struct Serve {
    child: Child,
    log: PathBuf,
}

impl Serve {
    /// Starts `escalator serve` in `dir` on a free port, with a short lease
    /// so that a takeover happens within seconds.
    fn start(dir: &Path, database: &str, smtp_url: Option<&str>, name: &str) -> Serve {
        Serve::start_with(dir, database, smtp_url, name, &[])
    }

    /// [`Serve::start`] with more arguments for `serve`.
    fn start_with(
        dir: &Path,
        database: &str,
        smtp_url: Option<&str>,
        name: &str,
        extra: &[&str],
    ) -> Serve {
        let log = dir.join(format!("{name}.log"));
        let mut command = binary::escalator();
        command
            .current_dir(dir)
            .arg("serve")
            .arg("--database")
            .arg(database)
            .arg("--rules")
            .arg(rules_dir())
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env("ESCALATOR_MAIL_LEASE", "4s")
            .env("ESCALATOR_MAIL_SEND_TIMEOUT", "3s")
            .env("RUST_LOG", "escalator=debug,info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(url) = smtp_url {
            command.arg("--smtp-url").arg(url);
        }
        command.args(extra);
        let child = command.spawn().unwrap();
        Serve { child, log }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no shutdown, no cleanup, claims left behind.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_mid_send_is_taken_over_after_its_lease_and_the_email_delivered() {
    let Some(server) = SmtpServer::start("a_sender_killed_mid_send_is_taken_over") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (database, store, case, row) = database_with_an_escalation(dir.path()).await;

    // The first process claims the row and starts sending; the server holds
    // its reply, so the send is in flight when the process dies.
    server.stall();
    let first = Serve::start(dir.path(), &database, Some(&server.url()), "first");
    let claimed_by = eventually(
        "the first process claims the row",
        Duration::from_secs(30),
        || {
            let store = store.clone();
            let row = row.clone();
            async move { entry(&store, &row).await.claimed_by }
        },
    )
    .await;
    assert!(
        claimed_by.contains(&format!("/{}/", first.pid())),
        "{claimed_by}\n{}",
        first.log()
    );
    first.kill();
    server.unstall();

    // The row stays claimed by the dead process until its lease runs out;
    // then the second process's claim query takes it over.
    let second = Serve::start(dir.path(), &database, Some(&server.url()), "second");
    let sent = sent_row(&store, &row, "the second process sends the row").await;
    assert!(
        sent.claimed_by
            .as_deref()
            .is_some_and(|owner| owner.contains(&format!("/{}/", second.pid()))),
        "{sent:?}\n{}",
        second.log()
    );
    // The killed attempt was never recorded: only the second one counts.
    assert_eq!(sent.attempts, 1);
    assert_eq!(events_of(&store, &case.id, "email_sent").await.len(), 1);

    // The server may have accepted the first process's copy after it woke
    // (it already held the whole message when the client died); the second
    // process delivers one more. Either way every copy carries the same
    // Message-ID, so mail clients show one message.
    let received = server.wait_for(1);
    assert!(
        (1..=2).contains(&received.len()),
        "one copy from the second process, at most one from the first: {received:#?}"
    );
    assert!(received
        .iter()
        .all(|mail| mail.header("Message-ID") == Some(sent.message_id.as_str())));
    drop(second);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_without_smtp_writes_the_eml_file_to_outbox_and_marks_the_row_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (database, store, case, row) = database_with_an_escalation(dir.path()).await;

    let serve = Serve::start(dir.path(), &database, None, "serve");

    let sent = sent_row(&store, &row, "the row is sent").await;
    let file = dir.path().join("outbox").join(format!(
        "{}.eml",
        sent.message_id.trim_matches(|c| c == '<' || c == '>')
    ));
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|error| panic!("{}: {error}\n{}", file.display(), serve.log()));
    assert!(text.contains(&format!("[ESC-{}]", case.id)), "{text}");
    assert_eq!(events_of(&store, &case.id, "email_sent").await.len(), 1);
    drop(serve);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_removes_the_temporary_files_that_killed_writers_left_in_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let (database, store, _, row) = database_with_an_escalation(dir.path()).await;

    // What a writer killed between creating its temporary file and renaming
    // it leaves behind (an empty file, as `kill -9` mid-write leaves it),
    // under the current name and the name earlier versions used; and a file
    // of the operator's that is not ours.
    let outbox = dir.path().join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    let long_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for name in [".tmp-4000000-0", ".tmp-4000000-1.eml"] {
        let file = std::fs::File::create(outbox.join(name)).unwrap();
        file.set_modified(long_ago).unwrap();
    }
    std::fs::write(outbox.join("notes.txt"), "kept").unwrap();

    let serve = Serve::start(dir.path(), &database, None, "serve");
    let sent = sent_row(&store, &row, "the row is sent").await;
    let mut names: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let message = format!(
        "{}.eml",
        sent.message_id.trim_matches(|c| c == '<' || c == '>')
    );
    assert_eq!(
        names,
        [message, "notes.txt".to_owned()],
        "only the message and the operator's file are left\n{}",
        serve.log()
    );
    drop(serve);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_address_with_a_display_name_is_accepted_and_shown_in_from() {
    let Some(server) = SmtpServer::start("a_sender_address_with_a_display_name") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (database, store, case, row) = database_with_an_escalation(dir.path()).await;

    // docs/email.md: "a display name is allowed: `Escalator <escalator@example.com>`".
    let serve = Serve::start_with(
        dir.path(),
        &database,
        Some(&server.url()),
        "serve",
        &["--mail-from", "Escalator 升级 <escalator@vianet.test>"],
    );
    let sent = sent_row(&store, &row, "the row is sent").await;
    let received = server.wait_for(1);
    assert_eq!(received.len(), 1, "{received:#?}\n{}", serve.log());
    let mail = &received[0];
    assert_eq!(
        mail.header("From"),
        Some("Escalator 升级 <escalator@vianet.test>"),
        "{mail:#?}"
    );
    assert_eq!(mail.mail_from, "escalator@vianet.test");
    assert_eq!(mail.header("Message-ID"), Some(sent.message_id.as_str()));
    assert!(
        mail.header("Subject")
            .is_some_and(|subject| subject.starts_with(&format!("[ESC-{}]", case.id))),
        "{mail:#?}"
    );
    drop(serve);
    store.close().await;
}

/// A fresh SQLite database in `dir` (its URL and an open store) holding one
/// case escalated at intake, and that case's outbox row.
async fn database_with_an_escalation(dir: &Path) -> (String, Store, CaseRecord, String) {
    let database = format!("sqlite://{}", dir.join("escalator.db").display());
    let store = Store::connect(&database).await.unwrap();
    add_partner(&store, "contoso").await;
    let (case, row) = escalated_case(&store, "contoso", "CASE-1", &[], Utc::now()).await;
    (database, store, case, row)
}

/// The outbox row once it is `sent` (waiting up to 30 s for it).
async fn sent_row(store: &Store, row: &str, what: &str) -> OutboxEntry {
    eventually(what, Duration::from_secs(30), || {
        let store = store.clone();
        let row = row.to_owned();
        async move { Some(entry(&store, &row).await).filter(|entry| entry.status == "sent") }
    })
    .await
}
