//! The real server on port 0 with a fresh database per test: an SQLite file
//! in a temporary directory, or a PostgreSQL database created from
//! `ESCALATOR_TEST_POSTGRES_URL` and dropped afterwards (also when the test
//! fails). Partners and tokens are made through the store API; requests go
//! over real HTTP with reqwest.

use std::future::Future;
use std::path::{Path, PathBuf};

use chrono::Utc;
use escalator::case::{Capabilities, EmailAddress};
use escalator::config::Settings;
use escalator::server::{ServeOptions, Server};
use escalator::store::{NewPartner, Scope, Store};
use escalator::workflow::Role;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::net::TcpListener;

/// The shipped policy.
pub fn shipped_rules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub server: Option<Server>,
    /// Holds the database file and the outbox until the test ends.
    pub _dir: tempfile::TempDir,
}

/// An HTTP answer: status and JSON body (`Value::Null` when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The `field` of an error body.
    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or("")
    }

    /// The message of an error body.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

/// Settings for a test server: its database, the policy, outbox files in `dir`.
pub fn settings(database_url: String, rules: &Path, dir: &Path) -> Settings {
    let mut settings = Settings {
        database_url,
        rules_dir: rules.to_owned(),
        ..Settings::default()
    };
    settings.mail.outbox_dir = dir.join("outbox");
    settings
}

/// Starts the server on a fresh SQLite file with the policy in `rules`.
pub async fn spawn_sqlite_with(rules: &Path) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("escalator.db").display());
    spawn(settings(url, rules, dir.path()), dir).await
}

/// Starts the server on a fresh SQLite file with the shipped policy.
pub async fn spawn_sqlite() -> TestApp {
    spawn_sqlite_with(&shipped_rules()).await
}

async fn spawn(settings: Settings, dir: tempfile::TempDir) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Server::start_with(settings, listener, ServeOptions::default())
        .await
        .unwrap();
    TestApp {
        base: format!("http://{}", server.address),
        client: reqwest::Client::new(),
        store: server.state.store.clone(),
        server: Some(server),
        _dir: dir,
    }
}

/// Runs `test` against a server on a fresh SQLite file.
pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    test(spawn_sqlite().await).await;
}

/// Runs `test` against a server on a fresh PostgreSQL database, dropped afterwards.
pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    crate::postgres::with_database("escalator_api_test", |url| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut app = spawn(settings(url, &shipped_rules(), dir.path()), dir).await;
        let server = app.server.take();
        test(app).await;
        if let Some(server) = server {
            server.stop().await;
        }
    })
    .await;
}

impl TestApp {
    /// Registers partner `id` (desk `{id}@partner.example`, the given
    /// training) and returns its token.
    pub async fn partner_with(&self, id: &str, training: &[&str]) -> String {
        let partner = NewPartner {
            id: id.to_owned(),
            name: format!("Partner {id}"),
            email: EmailAddress::parse(&format!("{id}@partner.example"), "email").unwrap(),
            capabilities: Capabilities {
                training: training.iter().map(|t| (*t).to_owned()).collect(),
                ..Capabilities::default()
            },
        };
        let (_, token) = self.store.add_partner(&partner, Utc::now()).await.unwrap();
        token.token
    }

    /// Registers partner `id` with basic training only (mail flow escalates).
    pub async fn partner(&self, id: &str) -> String {
        self.partner_with(id, &["m365-fundamentals"]).await
    }

    /// A token of `role` (`Vianet` or `Admin`).
    pub async fn token(&self, role: Role) -> String {
        self.store
            .add_token(role, None, &format!("{role} desk"), Utc::now())
            .await
            .unwrap()
            .token
    }

    /// Sends a request with an optional token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        answer(request.send().await.unwrap()).await
    }

    /// Sends raw bytes as the body.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Moves a case: `{"to", "version", "reason"?}`.
    pub async fn transition(&self, id: &str, token: &str, body: Value) -> Answer {
        self.post(&format!("/v1/cases/{id}/transitions"), token, &body)
            .await
    }

    /// How many cases are stored (all partners).
    pub async fn case_count(&self) -> i64 {
        let stats = self.store.stats(Utc::now()).await.unwrap();
        stats.cases_by_stage.iter().map(|(_, count)| count).sum()
    }

    /// How many history events a case has (read as an operator). Email
    /// delivery events (`email_sent`, `email_failed`) are left out: the mail
    /// dispatcher runs beside the API and records them whenever it delivers.
    pub async fn event_count(&self, id: &str) -> usize {
        self.store
            .events(id, &Scope::All)
            .await
            .unwrap()
            .iter()
            .filter(|event| is_history(&event.kind))
            .count()
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// Whether an event of `kind` belongs to the case's stage history. Email
/// delivery events (`email_sent`, `email_failed`) do not: the mail dispatcher
/// running beside the API records them whenever it delivers.
pub fn is_history(kind: &str) -> bool {
    !kind.starts_with("email_")
}

/// The stage-history events of an events response body, oldest first.
pub fn history(events: &Value) -> Vec<&Value> {
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| is_history(event["kind"].as_str().unwrap()))
        .collect()
}
