//! `escalator cases list|show|events`: read stored cases.

use std::process::ExitCode;

use super::{CasesCommand, CliError};
use crate::config::SettingsArgs;

/// Runs one `cases` subcommand.
pub async fn run(_settings: &SettingsArgs, _command: CasesCommand) -> Result<ExitCode, CliError> {
    Err(CliError::Failure("`cases` is not built yet".to_owned()))
}
