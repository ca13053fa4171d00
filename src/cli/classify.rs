//! `escalator classify`: classify cases offline, storing nothing.

use std::process::ExitCode;

use super::{ClassifyArgs, CliError};
use crate::config::SettingsArgs;

/// Classifies the given cases and prints one outcome per case.
pub fn run(_settings: &SettingsArgs, _args: &ClassifyArgs) -> Result<ExitCode, CliError> {
    Err(CliError::Failure("`classify` is not built yet".to_owned()))
}
