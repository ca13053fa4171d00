//! Fresh databases for each test: an SQLite file in a temporary directory,
//! or a PostgreSQL database created from `ESCALATOR_TEST_POSTGRES_URL` and
//! dropped afterwards (also when the test fails).

use std::future::Future;
use std::panic::AssertUnwindSafe;

use escalator::store::Store;
use futures::FutureExt;
use sqlx::{Connection, PgConnection};

/// Instantiates each contract test once per backend: `sqlite::NAME` and `postgres::NAME`.
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::harness::on_sqlite(super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::harness::on_postgres(super::$name).await;
                }
            )*
        }
    };
}

/// Runs `test` against a store on a fresh SQLite file.
pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("escalator.db").display());
    let store = Store::connect(&url).await.unwrap();
    test(store.clone()).await;
    store.close().await;
}

/// The PostgreSQL server URL, or `None` (printed as skipped) when unset.
/// Under `CI=true` a missing variable fails the test.
pub fn postgres_url() -> Option<String> {
    match std::env::var("ESCALATOR_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "ESCALATOR_TEST_POSTGRES_URL is not set and CI=true: PostgreSQL tests cannot be skipped"
            );
            eprintln!(
                "skipped: ESCALATOR_TEST_POSTGRES_URL is not set, PostgreSQL tests did not run"
            );
            None
        }
    }
}

/// Runs `test` against a store on a fresh PostgreSQL database, dropped afterwards.
pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(server) = postgres_url() else { return };
    let name = format!("escalator_test_{}", rand_suffix());
    let mut admin = PgConnection::connect(&server)
        .await
        .unwrap_or_else(|error| {
            panic!("cannot reach PostgreSQL at ESCALATOR_TEST_POSTGRES_URL: {error}")
        });
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    let store = Store::connect(url.as_str()).await.unwrap();
    let outcome = AssertUnwindSafe(test(store.clone())).catch_unwind().await;
    store.close().await;
    sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn rand_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| char::from(b'a' + rng.gen_range(0..26)))
        .collect()
}
