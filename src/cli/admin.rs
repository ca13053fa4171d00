//! `escalator migrate`, `partners …` and `tokens …`: database administration.

use std::process::ExitCode;

use super::{CliError, PartnersCommand, TokensCommand};
use crate::config::SettingsArgs;

/// Applies pending migrations.
pub async fn migrate(_settings: &SettingsArgs) -> Result<ExitCode, CliError> {
    Err(CliError::Failure("`migrate` is not built yet".to_owned()))
}

/// Runs one `partners` subcommand.
pub async fn partners(
    _settings: &SettingsArgs,
    _command: PartnersCommand,
) -> Result<ExitCode, CliError> {
    Err(CliError::Failure("`partners` is not built yet".to_owned()))
}

/// Runs one `tokens` subcommand.
pub async fn tokens(
    _settings: &SettingsArgs,
    _command: TokensCommand,
) -> Result<ExitCode, CliError> {
    Err(CliError::Failure("`tokens` is not built yet".to_owned()))
}
