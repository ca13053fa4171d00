//! `escalator outbox list|retry`: inspect and retry outgoing emails.

use std::process::ExitCode;

use super::{CliError, OutboxCommand};
use crate::config::SettingsArgs;

/// Runs one `outbox` subcommand.
pub async fn run(_settings: &SettingsArgs, _command: OutboxCommand) -> Result<ExitCode, CliError> {
    Err(CliError::Failure("`outbox` is not built yet".to_owned()))
}
