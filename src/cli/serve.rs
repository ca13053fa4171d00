//! `escalator serve`: the HTTP API and the background workers.

use std::process::ExitCode;

use crate::config::{ServeArgs, SettingsArgs};

use super::CliError;

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn run(_settings: &SettingsArgs, _serve: &ServeArgs) -> Result<ExitCode, CliError> {
    Err(CliError::Failure("`serve` is not built yet".to_owned()))
}
