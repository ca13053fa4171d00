//! Two real `escalator serve` processes on one PostgreSQL database act on
//! 200 passed deadlines exactly once between them; after one is killed, the
//! claims it left behind are taken over once their lease lapses.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use escalator::case::Tier;
use escalator::store::{Scope, Store};
use escalator::workflow::{Actor, MoveRequest, Stage, Target};
use sqlx::PgPool;

use crate::fixtures::{add_partner, case, outcome, settings};

/// How long the processes get to finish their work before the test fails.
const PATIENCE: StdDuration = StdDuration::from_secs(90);

/// A running `escalator serve`, killed when dropped.
struct Instance(Child);

impl Instance {
    fn start(database: &str, outbox: &Path) -> Instance {
        let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let child = Command::new(env!("CARGO_BIN_EXE_escalator"))
            .arg("serve")
            .args(["--database", database, "--listen", "127.0.0.1:0"])
            .arg("--rules")
            .arg(&rules)
            .current_dir(outbox)
            .env("ESCALATOR_OUTBOX_DIR", outbox)
            .env("ESCALATOR_WORKER_MAX_SLEEP", "200ms")
            .env("ESCALATOR_DEADLINE_LEASE", "5s")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Instance(child)
    }

    fn assert_running(&mut self) {
        if let Some(status) = self.0.try_wait().unwrap() {
            panic!("escalator serve exited early with {status}");
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh database on the test server, dropped afterwards (also on failure).
async fn with_database<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    crate::postgres::with_database("escalator_test", test).await;
}

/// Polls until `count` deadline events exist, while the instances keep running.
async fn wait_for_deadline_events(pool: &PgPool, count: i64, instances: &mut [&mut Instance]) {
    let started = Instant::now();
    loop {
        let (seen,): (i64,) = sqlx::query_as("select count(*) from events where kind = 'deadline'")
            .fetch_one(pool)
            .await
            .unwrap();
        if seen >= count {
            return;
        }
        for instance in instances.iter_mut() {
            instance.assert_running();
        }
        assert!(
            started.elapsed() < PATIENCE,
            "only {seen} of {count} deadline events after {PATIENCE:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

/// Cases with more than one deadline event (must be none).
async fn acted_on_twice(pool: &PgPool) -> Vec<(String, i64)> {
    sqlx::query_as(
        "select case_id, count(*) from events where kind = 'deadline' group by case_id having count(*) > 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn stages(pool: &PgPool) -> Vec<(String, i64)> {
    sqlx::query_as("select stage, count(*) from cases group by stage order by stage")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Stores `count` partner cases with a one-hour resolution deadline that
/// started `ago` before now.
async fn partner_deadlines(
    store: &Store,
    prefix: &str,
    count: usize,
    ago: Duration,
) -> Vec<String> {
    let submitted = Utc::now() - ago;
    let mut ids = Vec::new();
    for n in 0..count {
        let intake = store
            .intake(
                "pa",
                &case(&format!("{prefix}-{n}")),
                &outcome(Tier::Partner, Some(60)),
                &settings(),
                submitted,
            )
            .await
            .unwrap();
        ids.push(intake.case.id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_serve_processes_act_on_200_passed_deadlines_once_and_take_over_a_killed_ones_claims() {
    with_database(|url| async move {
        let store = Store::connect(&url).await.unwrap();
        add_partner(&store, "pa").await;
        let now = Utc::now();
        // 100 partner deadlines that escalate, 50 unacknowledged escalations
        // that get a reminder, 50 resolved cases that close.
        partner_deadlines(&store, "PW", 100, Duration::hours(2)).await;
        for n in 0..50 {
            store
                .intake(
                    "pa",
                    &case(&format!("ESC-{n}")),
                    &outcome(Tier::Escalate, Some(60)),
                    &settings(),
                    now - Duration::hours(2),
                )
                .await
                .unwrap();
        }
        for n in 0..50 {
            let resolved_at = now - Duration::days(8);
            let intake = store
                .intake(
                    "pa",
                    &case(&format!("RES-{n}")),
                    &outcome(Tier::Partner, None),
                    &settings(),
                    resolved_at,
                )
                .await
                .unwrap();
            let request = MoveRequest::to(Target::Stage(Stage::Resolved), intake.case.version);
            let actor = Actor::Partner {
                id: "pa".to_owned(),
            };
            store
                .change_stage(
                    &intake.case.id,
                    &Scope::of(&actor),
                    &request,
                    &actor,
                    &settings(),
                    resolved_at,
                )
                .await
                .unwrap();
        }
        let pool = PgPool::connect(&url).await.unwrap();
        let outbox = tempfile::tempdir().unwrap();
        let mut first = Instance::start(&url, outbox.path());
        let mut second = Instance::start(&url, outbox.path());

        wait_for_deadline_events(&pool, 200, &mut [&mut first, &mut second]).await;
        assert_eq!(acted_on_twice(&pool).await, vec![]);
        assert_eq!(
            stages(&pool).await,
            vec![("closed".to_owned(), 50), ("escalated".to_owned(), 150)]
        );
        let (notices,): (i64,) =
            sqlx::query_as("select count(*) from outbox where event = 'deadline_overdue'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(notices, 50, "one reminder per unacknowledged escalation");

        // The first instance dies holding claims: rows claimed by it whose
        // lease lapses shortly, as a killed process leaves them.
        first.0.kill().unwrap();
        first.0.wait().unwrap();
        // They are stored not yet due, then made passed and claimed in one
        // statement, so the live instance cannot act on them before.
        let orphans = partner_deadlines(&store, "ORPHAN", 30, Duration::zero()).await;
        let passed = (Utc::now() - Duration::minutes(5)).timestamp_millis();
        let lease_until = (Utc::now() + Duration::seconds(2)).timestamp_millis();
        let claimed = sqlx::query(
            "update deadlines set due_at = $1, next_action_at = $1, \
             claimed_by = 'dead-instance', lease_until = $2 \
             where case_id in (select id from cases where external_id like 'ORPHAN-%')",
        )
        .bind(passed)
        .bind(lease_until)
        .execute(&pool)
        .await
        .unwrap();
        assert_eq!(claimed.rows_affected(), 30);

        wait_for_deadline_events(&pool, 230, &mut [&mut second]).await;
        assert_eq!(acted_on_twice(&pool).await, vec![]);
        for id in &orphans {
            let case = store.case(id, &Scope::All).await.unwrap();
            assert_eq!(case.stage, Stage::Escalated, "case {id}");
        }
        let (still_claimed,): (i64,) =
            sqlx::query_as("select count(*) from deadlines where claimed_by is not null")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(still_claimed, 0, "every claim was released by its action");
        drop(second);
        pool.close().await;
        store.close().await;
    })
    .await;
}
