//! `escalator serve`: the HTTP API and the background workers, until Ctrl-C
//! or SIGTERM; then in-flight requests finish and workers stop cleanly.

use std::process::ExitCode;

use tokio::net::TcpListener;

use super::CliError;
use crate::config::{ServeArgs, Settings, SettingsArgs};
use crate::server::Server;

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn run(common: &SettingsArgs, serve: &ServeArgs) -> Result<ExitCode, CliError> {
    let settings = Settings::resolve(common, serve)?;
    crate::telemetry::init_logging(settings.log_format);
    let listener = TcpListener::bind(settings.listen).await.map_err(|source| {
        CliError::Failure(format!("cannot listen on {}: {source}", settings.listen))
    })?;
    let server = Server::start(settings, listener)
        .await
        .map_err(|error| CliError::Failure(error.to_string()))?;
    let stop = server.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing in-flight requests and worker passes");
        stop.cancel();
    });
    server.wait().await;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn wait_for_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
