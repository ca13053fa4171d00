//! A fresh PostgreSQL database per test, on the server named by
//! `ESCALATOR_TEST_POSTGRES_URL` (else the local one on 127.0.0.1:5432),
//! dropped afterwards even when the test fails. Without a server the test
//! says it was skipped — unless `CI=true`, where that is a failure.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use sqlx::{Connection, PgConnection};

/// The server tried when `ESCALATOR_TEST_POSTGRES_URL` is unset.
const LOCAL_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The PostgreSQL server URL: `ESCALATOR_TEST_POSTGRES_URL`, else the local
/// server when something listens on 127.0.0.1:5432, else `None` (printed as
/// skipped). Under `CI=true` a missing server fails the test.
pub fn postgres_url() -> Option<String> {
    if let Ok(url) = std::env::var("ESCALATOR_TEST_POSTGRES_URL") {
        if !url.is_empty() {
            return Some(url);
        }
    }
    let local = std::net::SocketAddr::from(([127, 0, 0, 1], 5432));
    if std::net::TcpStream::connect_timeout(&local, std::time::Duration::from_secs(1)).is_ok() {
        return Some(LOCAL_SERVER.to_owned());
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "no PostgreSQL (ESCALATOR_TEST_POSTGRES_URL unset, nothing on 127.0.0.1:5432) and CI=true: PostgreSQL tests cannot be skipped"
    );
    eprintln!(
        "skipped: no PostgreSQL (set ESCALATOR_TEST_POSTGRES_URL), PostgreSQL tests did not run"
    );
    None
}

/// Runs `test` with the URL of a fresh database named `{prefix}_{random}`,
/// and drops the database afterwards (also when `test` panics).
pub async fn with_database<F, Fut>(prefix: &str, test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(server) = postgres_url() else { return };
    let name = format!("{prefix}_{}", random_suffix());
    let mut admin = PgConnection::connect(&server)
        .await
        .unwrap_or_else(|error| panic!("cannot reach PostgreSQL at {server}: {error}"));
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    let outcome = AssertUnwindSafe(test(url.to_string())).catch_unwind().await;
    sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn random_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| char::from(b'a' + rng.gen_range(0..26)))
        .collect()
}
