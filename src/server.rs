//! `escalator serve` as a library function: load the policy (refusing to
//! start on errors), check the mail settings, connect and migrate the store,
//! serve the API, run the background workers, and shut everything down
//! cleanly when told to.
//! Tests call [`Server::start`] with a listener on port 0.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState};
use crate::config::Settings;
use crate::deadlines::{self, DeadlineWorker};
use crate::mail::{Dispatcher, SendError, Transport};
use crate::policy::{LoadError, Loaded, Policy};
use crate::store::{Store, StoreError};
use crate::telemetry::{Metrics, ResultLabel};
use crate::worker::{self, Nudge, Pacing};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The policy did not load; the text holds the rendered diagnostics.
    #[error("the policy in {dir} does not load:\n{rendered}")]
    Policy {
        /// The policy directory.
        dir: String,
        /// The diagnostics, rendered for people.
        rendered: String,
    },
    /// The mail transport's settings are unusable (e.g. an unknown URL scheme).
    #[error("mail: {0}")]
    Mail(#[from] SendError),
    /// The listen address could not be bound or the server failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// A running server: its address, and a handle to stop it.
pub struct Server {
    /// The address the API listens on.
    pub address: std::net::SocketAddr,
    /// The shared state (tests read the store and metrics through it).
    pub state: AppState,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

/// How the server runs, beyond the settings (benchmarks compare these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// Most intakes written in one SQLite transaction (group commit); `1`
    /// writes each intake in its own transaction, as the CLI does.
    pub intake_batch: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            intake_batch: DEFAULT_INTAKE_BATCH,
        }
    }
}

/// Default [`ServeOptions::intake_batch`].
pub const DEFAULT_INTAKE_BATCH: usize = 256;

impl Server {
    /// Starts the API on `listener` and the background workers.
    pub async fn start(settings: Settings, listener: TcpListener) -> Result<Server, ServeError> {
        Self::start_with(settings, listener, ServeOptions::default()).await
    }

    /// [`Server::start`] with explicit options.
    pub async fn start_with(
        settings: Settings,
        listener: TcpListener,
        options: ServeOptions,
    ) -> Result<Server, ServeError> {
        let address = listener.local_addr().map_err(|source| ServeError::Io {
            context: "reading the listen address".to_owned(),
            source,
        })?;
        // The policy and the mail settings are checked before the database
        // is opened: a server that will not start creates no database file.
        let metrics = Metrics::new();
        let policy = load_policy(&settings, &metrics)?;
        let transport = Transport::from_settings(&settings.mail)?;
        transport.prepare().await?;
        let mut store = Store::connect(&settings.database_url).await?;
        if options.intake_batch > 1 {
            store = store.with_group_commit(options.intake_batch);
        }
        let state = AppState {
            store,
            policy: Arc::new(ArcSwap::from_pointee(policy)),
            settings: Arc::new(settings),
            metrics,
            mail_nudge: Nudge::new(),
            deadline_nudge: Nudge::new(),
        };
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        spawn_workers(&state, transport, &shutdown, &mut tasks);

        let app = api::router(state.clone());
        let stop = shutdown.clone();
        tasks.spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "the HTTP server stopped with an error");
            }
        });
        tracing::info!(
            %address,
            backend = state.store.backend(),
            group_commit = state.store.groups_commits(),
            policy = %state.policy.load().hash(),
            "escalator is serving"
        );
        Ok(Server {
            address,
            state,
            shutdown,
            tasks,
        })
    }

    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until the server was told to stop and every task has finished:
    /// in-flight requests are answered, workers finish their current pass.
    pub async fn wait(mut self) {
        while let Some(result) = self.tasks.join_next().await {
            if let Err(error) = result {
                tracing::error!(%error, "a server task ended abnormally");
                self.shutdown.cancel();
            }
        }
        self.state.store.close().await;
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.wait().await;
    }
}

/// The background workers `serve` runs beside the API: the mail dispatcher
/// (woken by `state.mail_nudge` when a write enqueued emails) and the
/// deadline worker (woken by `state.deadline_nudge`).
fn spawn_workers(
    state: &AppState,
    transport: Transport,
    shutdown: &CancellationToken,
    tasks: &mut JoinSet<()>,
) {
    let dispatcher = Dispatcher::new(
        state.store.clone(),
        transport.clone(),
        &state.settings.mail,
        state.metrics.clone(),
    )
    .with_shutdown(shutdown.clone());
    tracing::info!(instance = dispatcher.instance(), destination = %transport.destination(), "mail dispatcher starting");
    tasks.spawn(worker::run(
        "mail",
        dispatcher,
        state.mail_nudge.clone(),
        // Rows committed without a nudge (another instance, the CLI) still
        // leave within the contract's 5 seconds.
        Pacing {
            max_sleep: Duration::from_secs(2),
            ..Pacing::default()
        },
        shutdown.clone(),
    ));

    let deadlines = DeadlineWorker::new(
        state.store.clone(),
        state.settings.clone(),
        state.metrics.clone(),
        state.mail_nudge.clone(),
        deadlines::instance_id(),
    );
    tracing::info!(
        instance = deadlines.instance(),
        "deadline worker claims as this instance"
    );
    tasks.spawn(worker::run(
        "deadlines",
        deadlines,
        state.deadline_nudge.clone(),
        Pacing {
            max_sleep: state.settings.deadlines.max_sleep,
            ..Pacing::default()
        },
        shutdown.clone(),
    ));
}

/// Loads the policy directory, recording the load time and result; errors
/// are rendered for people (start-up refuses to serve without a policy).
pub fn load_policy(settings: &Settings, metrics: &Metrics) -> Result<Policy, ServeError> {
    match read_policy(settings, metrics) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                tracing::warn!(warning = %warning.render(), "policy warning");
            }
            Ok(loaded.policy)
        }
        Err(error) => {
            let rendered = match error {
                LoadError::Diagnostics(diagnostics) => diagnostics.render(),
                LoadError::Io { path, source } => {
                    format!("cannot read {}: {source}", path.display())
                }
            };
            Err(ServeError::Policy {
                dir: settings.rules_dir.display().to_string(),
                rendered,
            })
        }
    }
}

/// Loads the policy directory with its warnings, recording the load time
/// and result; the errors stay data (the reload route answers them as JSON).
pub fn read_policy(settings: &Settings, metrics: &Metrics) -> Result<Loaded, LoadError> {
    let started = Instant::now();
    let result = Policy::load_dir(&settings.rules_dir);
    let label = if result.is_ok() {
        metrics
            .policy_load_seconds
            .set(started.elapsed().as_secs_f64());
        "ok"
    } else {
        "error"
    };
    metrics
        .policy_loads
        .get_or_create(&ResultLabel {
            result: label.to_owned(),
        })
        .inc();
    result
}
