//! Opening the store: the health check answers on both backends.

use escalator::store::Store;

async fn the_database_answers_a_ping(store: Store) {
    assert!(
        store.ping().await,
        "a working {} database must answer",
        store.backend()
    );
}

contract_tests!(the_database_answers_a_ping);
