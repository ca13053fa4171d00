//! The database commands of the real binary against a temporary SQLite file.

use crate::binary::{assert_stderr_has, run_in as escalator, stderr, stdout};

#[test]
fn migrate_creates_the_database_relative_to_the_working_directory_and_runs_twice() {
    let dir = tempfile::tempdir().unwrap();
    let first = escalator(dir.path(), &["migrate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(dir.path().join("cli.db").exists());
    let second = escalator(dir.path(), &["migrate"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(stdout(&second), "");
}

#[test]
fn commands_started_at_once_on_a_fresh_file_all_succeed() {
    // Every command puts the file it opens in WAL mode and migrates it;
    // started together on a new file, each must wait for the others or find
    // their work done, never fail with "database is locked" or half-way
    // through another's migration.
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let children: Vec<_> = (0..6)
            .map(|n| {
                let mut command = crate::binary::escalator();
                command
                    .current_dir(dir.path())
                    .env("ESCALATOR_DATABASE_URL", "sqlite://cli.db")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                if n % 2 == 0 {
                    command.arg("migrate");
                } else {
                    let id = format!("p{n}");
                    command.args(["partners", "add", "--id", &id, "--name", "P"]);
                    command.args(["--email", "desk@p.example"]);
                }
                command.spawn().unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                stderr(&output)
            );
        }
        let listed = escalator(dir.path(), &["partners", "list"]);
        let json: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
        assert_eq!(json["items"].as_array().unwrap().len(), 3, "{json}");
    }
}

#[test]
fn partners_add_prints_only_the_token_and_partners_set_replaces_capabilities() {
    let dir = tempfile::tempdir().unwrap();
    let added = escalator(
        dir.path(),
        &[
            "partners",
            "add",
            "--id",
            "pa",
            "--name",
            "Partner A",
            "--email",
            "desk@pa.example",
            "--training",
            "exchange",
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let out = stdout(&added);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with("esc_") && lines[0].len() == 68,
        "{out}"
    );
    assert!(
        !stderr(&added).contains(lines[0]),
        "the token goes to stdout only"
    );

    let set = escalator(
        dir.path(),
        &[
            "partners",
            "set",
            "--id",
            "pa",
            "--tooling",
            "message-trace",
        ],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let listed = escalator(dir.path(), &["partners", "list"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(json["items"][0]["id"], "pa");
    assert_eq!(
        json["items"][0]["tooling"],
        serde_json::json!(["message-trace"])
    );
    assert_eq!(json["items"][0]["training"], serde_json::json!([]));

    let again = escalator(
        dir.path(),
        &[
            "partners",
            "add",
            "--id",
            "pa",
            "--name",
            "A",
            "--email",
            "a@pa.example",
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert_stderr_has(&again, "already exists");
}

#[test]
fn tokens_add_prints_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = escalator(
        dir.path(),
        &["tokens", "add", "--role", "vianet", "--name", "desk-1"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 1);
    let usage = escalator(
        dir.path(),
        &["tokens", "add", "--role", "partner", "--name", "x"],
    );
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn a_bad_email_or_id_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let email = escalator(
        dir.path(),
        &[
            "partners",
            "add",
            "--id",
            "pa",
            "--name",
            "A",
            "--email",
            "not-an-address",
        ],
    );
    assert_eq!(email.status.code(), Some(1));
    assert!(
        stderr(&email).contains("--email") && stderr(&email).contains("not-an-address"),
        "{}",
        stderr(&email)
    );
    assert_eq!(stdout(&email), "");
    let id = escalator(
        dir.path(),
        &[
            "partners",
            "add",
            "--id",
            "Partner A",
            "--name",
            "A",
            "--email",
            "a@pa.example",
        ],
    );
    assert_eq!(id.status.code(), Some(1));
    assert_stderr_has(&id, "--id");
    let unknown = escalator(dir.path(), &["partners", "set", "--id", "nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_stderr_has(&unknown, "nobody");
}

#[test]
fn cases_list_on_an_empty_database_is_an_empty_list() {
    let dir = tempfile::tempdir().unwrap();
    let output = escalator(dir.path(), &["cases", "list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json, serde_json::json!({"items": [], "next_cursor": null}));
    let missing = escalator(dir.path(), &["cases", "show", "c_nothere"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("c_nothere"));
    let bad_stage = escalator(dir.path(), &["cases", "list", "--stage", "open"]);
    assert_eq!(bad_stage.status.code(), Some(2));
}

#[test]
fn an_in_memory_database_is_refused_before_a_token_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let output = escalator(
        dir.path(),
        &[
            "partners",
            "add",
            "--database",
            "sqlite::memory:",
            "--id",
            "pa",
            "--name",
            "A",
            "--email",
            "a@pa.example",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stdout(&output), "", "no token for a partner kept nowhere");
    assert!(
        stderr(&output).contains("--database") && stderr(&output).contains("names no file"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_database_that_cannot_be_opened_is_named_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let missing = escalator(
        dir.path(),
        &["migrate", "--database", "sqlite://no/such/dir/x.db"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert_stderr_has(&missing, "`sqlite://no/such/dir/x.db`");

    std::fs::write(dir.path().join("notes.db"), "not a database\n").unwrap();
    let not_db = escalator(
        dir.path(),
        &["partners", "list", "--database", "sqlite://notes.db"],
    );
    assert_eq!(not_db.status.code(), Some(1));
    assert!(
        stderr(&not_db).contains("`sqlite://notes.db`")
            && stderr(&not_db).contains("not a database"),
        "{}",
        stderr(&not_db)
    );

    // A port nothing listens on: the reason comes at once, not a pool timeout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://escalator:secret@127.0.0.1:{port}/escalator");
    let down = escalator(dir.path(), &["migrate", "--database", &url]);
    assert_eq!(down.status.code(), Some(1));
    let message = stderr(&down);
    assert!(
        message.contains(&format!("127.0.0.1:{port}/escalator"))
            && message.to_lowercase().contains("refused")
            && !message.contains("timed out"),
        "{message}"
    );
    assert!(
        !message.contains("secret"),
        "the password is not shown: {message}"
    );
}

#[test]
fn a_database_of_a_newer_escalator_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let first = escalator(dir.path(), &["migrate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", dir.path().join("cli.db").display());
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(
            "insert into _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
             select 2, 'later', installed_on, success, checksum, execution_time from _sqlx_migrations where version = 1",
        )
        .execute(&mut connection)
        .await
        .unwrap();
        connection.close().await.unwrap();
    });
    let output = escalator(dir.path(), &["partners", "list"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("`sqlite://cli.db`")
            && stderr(&output).contains("newer escalator"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_name_the_store_refuses_is_named_by_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    let long = "n".repeat(300);
    let partner = escalator(
        dir.path(),
        &[
            "partners",
            "add",
            "--id",
            "pa",
            "--name",
            &long,
            "--email",
            "a@pa.example",
        ],
    );
    let token = escalator(
        dir.path(),
        &["tokens", "add", "--role", "admin", "--name", &long],
    );
    for output in [partner, token] {
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stderr(&output).starts_with("error: `--name`: has more than 256 characters"),
            "{}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "");
    }
}

#[test]
fn a_token_nobody_reads_is_a_failure_that_says_to_issue_a_new_one() {
    // `tokens add … | cmd` where cmd has already exited: the token, shown
    // only once, would be lost, so the command must not say it succeeded.
    let dir = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = crate::binary::escalator()
        .current_dir(dir.path())
        .env("ESCALATOR_DATABASE_URL", "sqlite://cli.db")
        .args(["tokens", "add", "--role", "vianet", "--name", "desk-1"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_stderr_has(&output, "issue a new one");
}
