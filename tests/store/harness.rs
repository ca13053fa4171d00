//! Fresh databases for each test: an SQLite file in a temporary directory,
//! or a PostgreSQL database created from `ESCALATOR_TEST_POSTGRES_URL` and
//! dropped afterwards (also when the test fails).

use std::future::Future;

use escalator::store::Store;

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

/// Runs `test` against a store on a fresh PostgreSQL database, dropped afterwards.
pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    crate::postgres::with_database("escalator_test", |url| async move {
        let store = Store::connect(&url).await.unwrap();
        test(store.clone()).await;
        store.close().await;
    })
    .await;
}
