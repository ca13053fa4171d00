//! The real `escalator serve` binary's log: requests refused for bad input
//! are the client's business and leave no ERROR line for an operator to be
//! alerted by.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::binary;
use crate::fixtures::{add_seats, mail_flow};
use crate::postgres::with_database;

/// A running `escalator serve` with its stderr read line by line; killed when dropped.
struct Serve {
    child: Child,
    /// The lines up to the one saying where it listens.
    startup: Vec<String>,
    lines: mpsc::Receiver<String>,
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn escalator(dir: &Path) -> Command {
    escalator_on(dir, "sqlite://escalator.db")
}

fn escalator_on(dir: &Path, database: &str) -> Command {
    let mut command = binary::escalator();
    command
        .current_dir(dir)
        .env("ESCALATOR_DATABASE_URL", database)
        .env(
            "ESCALATOR_RULES",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
        );
    command
}

/// Runs a token command and returns the token it prints.
fn token(dir: &Path, args: &[&str]) -> String {
    let output = escalator(dir).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn serve(dir: &Path) -> Serve {
    let mut command = escalator(dir);
    // The API's "answered" lines (debug) show that the log holds the
    // requests; everything else at the default level.
    command.env("RUST_LOG", "info,escalator::api=debug");
    serve_with(command)
}

/// Starts `serve` with `command`'s settings and waits until it listens.
fn serve_with(mut command: Command) -> Serve {
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut serve = Serve {
        child,
        startup: Vec::new(),
        lines,
        base: String::new(),
    };
    loop {
        let Ok(line) = serve.lines.recv_timeout(Duration::from_secs(60)) else {
            panic!("escalator serve did not say where it listens");
        };
        let entry: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        serve.startup.push(line);
        if entry["fields"]["message"] == "escalator is serving" {
            let address = entry["fields"]["address"].as_str().unwrap();
            serve.base = format!("http://{address}");
            return serve;
        }
    }
}

#[tokio::test]
async fn refused_requests_leave_no_error_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let add = |id: &str| {
        let email = format!("{id}@partner.example");
        token(
            dir.path(),
            &[
                "partners", "add", "--id", id, "--name", id, "--email", &email,
            ],
        )
    };
    let (pa, pb) = (add("pa"), add("pb"));
    let vianet = token(
        dir.path(),
        &["tokens", "add", "--role", "vianet", "--name", "desk"],
    );
    let mut server = serve(dir.path());
    let client = reqwest::Client::new();
    let send = |token: &str, path: &str, body: Value| {
        client
            .post(format!("{}{path}", server.base))
            .bearer_auth(token)
            .json(&body)
            .send()
    };

    let created = send(&pa, "/v1/cases", mail_flow("LOG-1")).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let moves = format!("/v1/cases/{id}/transitions");
    for (token, path, body, status) in [
        (&pa, "/v1/cases", add_seats("LOG-1"), StatusCode::CONFLICT),
        (
            &pa,
            moves.as_str(),
            json!({"to": "resolved", "version": 1}),
            StatusCode::CONFLICT,
        ),
        (
            &vianet,
            moves.as_str(),
            json!({"to": "acknowledged", "version": 7}),
            StatusCode::CONFLICT,
        ),
        (
            &pa,
            moves.as_str(),
            json!({"to": "closed", "version": 1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            &pb,
            moves.as_str(),
            json!({"to": "closed", "version": 1, "reason": "not mine"}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let answer = send(token, path, body.clone()).await.unwrap();
        assert_eq!(answer.status(), status, "{body}");
    }

    // Every line of those requests was written before its answer; once the
    // process is gone the reader sees the end of the log.
    let _ = server.child.kill();
    let _ = server.child.wait();
    let lines: Vec<String> = server.lines.iter().collect();
    let answered: Vec<u64> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|entry| entry["fields"]["message"] == "answered")
        .filter_map(|entry| entry["fields"]["status"].as_u64())
        .collect();
    assert_eq!(
        answered,
        [201, 409, 409, 409, 400, 404],
        "the log holds every request"
    );
    let errors: Vec<&String> = lines
        .iter()
        .filter(|line| {
            serde_json::from_str::<Value>(line).map_or(true, |entry| entry["level"] == "ERROR")
        })
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[tokio::test]
async fn a_start_on_postgres_logs_no_notice_of_postgresql_itself_by_default() {
    with_database("log_notices", |url| async move {
        let dir = tempfile::tempdir().unwrap();
        // The first start creates the migrations table; the second finds it,
        // and PostgreSQL says so in a notice ("already exists, skipping").
        for start in ["first", "second"] {
            let mut command = escalator_on(dir.path(), &url);
            command.env_remove("RUST_LOG");
            let mut server = serve_with(command);
            let _ = server.child.kill();
            let _ = server.child.wait();
            let mut lines = std::mem::take(&mut server.startup);
            lines.extend(server.lines.iter());
            assert!(
                !lines.iter().any(|line| line.contains("_sqlx_migrations")),
                "{start} start: {lines:#?}"
            );
        }
    })
    .await;
}
