//! `escalator rules check|test|bench|fmt`.

use std::process::ExitCode;

use super::{CliError, RulesCommand};
use crate::config::SettingsArgs;

/// Runs one `rules` subcommand.
pub fn run(_settings: &SettingsArgs, _command: RulesCommand) -> Result<ExitCode, CliError> {
    Err(CliError::Failure("`rules` is not built yet".to_owned()))
}
