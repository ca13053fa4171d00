//! `escalator migrate`, `partners …` and `tokens …`: database administration.
//! Tokens go alone to stdout (one line) so scripts can capture them;
//! everything else goes to stderr.

use std::process::ExitCode;

use chrono::Utc;
use serde_json::json;

use super::output::{self, eoutln, outln};
use super::{CapabilityArgs, CliError, PartnersCommand, TokenRole, TokensCommand};
use crate::case::{Capabilities, EmailAddress};
use crate::config::{Settings, SettingsArgs};
use crate::store::{check_partner_id, NewPartner, Store, StoreError};
use crate::workflow::Role;

/// Opens the configured database and applies pending migrations.
pub(super) async fn open_store(settings: &SettingsArgs) -> Result<Store, CliError> {
    Ok(open_store_at(settings).await?.0)
}

/// [`open_store`], with the database URL it opened.
async fn open_store_at(settings: &SettingsArgs) -> Result<(Store, String), CliError> {
    let url = Settings::resolve_offline(settings)?.database_url;
    Ok((Store::connect(&url).await?, url))
}

/// Applies pending migrations.
pub async fn migrate(settings: &SettingsArgs) -> Result<ExitCode, CliError> {
    let (store, url) = open_store_at(settings).await?;
    // Connecting applied whatever was pending, on a new database or an old one.
    eoutln!(
        "{} ({}): every migration is applied",
        crate::store::display_database_url(&url),
        store.backend()
    )?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Runs one `partners` subcommand.
pub async fn partners(
    settings: &SettingsArgs,
    command: PartnersCommand,
) -> Result<ExitCode, CliError> {
    match command {
        PartnersCommand::Add {
            id,
            name,
            email,
            capabilities,
        } => {
            check_partner_id(&id).map_err(flag_error)?;
            if name.trim().is_empty() {
                return Err(CliError::Failure("`--name`: must not be empty".to_owned()));
            }
            let email = EmailAddress::parse(&email, "--email")
                .map_err(|error| CliError::Failure(error.to_string()))?;
            let partner = NewPartner {
                id,
                name,
                email,
                capabilities: parse_capabilities(&capabilities)?,
            };
            let store = open_store(settings).await?;
            let added = store.add_partner(&partner, Utc::now()).await;
            store.close().await;
            let (partner, token) = added.map_err(flag_error)?;
            eoutln!(
                "registered partner `{}`; its API token (shown only once):",
                partner.id
            )?;
            output::secret(&token.token)?;
            Ok(ExitCode::SUCCESS)
        }
        PartnersCommand::Set { id, capabilities } => {
            let capabilities = parse_capabilities(&capabilities)?;
            let store = open_store(settings).await?;
            let partner = store
                .set_capabilities(&id, &capabilities, Utc::now())
                .await?;
            store.close().await;
            eoutln!("replaced the capabilities of partner `{}`", partner.id)?;
            outln!("{}", json_text(&partner))?;
            Ok(ExitCode::SUCCESS)
        }
        PartnersCommand::List => {
            let store = open_store(settings).await?;
            let partners = store.list_partners().await?;
            store.close().await;
            outln!("{}", json_text(&json!({ "items": partners })))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs one `tokens` subcommand.
pub async fn tokens(settings: &SettingsArgs, command: TokensCommand) -> Result<ExitCode, CliError> {
    match command {
        TokensCommand::Add { role, name } => {
            if name.trim().is_empty() {
                return Err(CliError::Failure("`--name`: must not be empty".to_owned()));
            }
            let role = match role {
                TokenRole::Vianet => Role::Vianet,
                TokenRole::Admin => Role::Admin,
            };
            let store = open_store(settings).await?;
            let token = store.add_token(role, None, &name, Utc::now()).await;
            store.close().await;
            let token = token.map_err(flag_error)?;
            eoutln!(
                "created a token of role `{role}` for `{}` (shown only once):",
                name.trim()
            )?;
            output::secret(&token.token)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A value the store refuses, named by the flag that gave it (`--name`).
fn flag_error(error: StoreError) -> CliError {
    match error {
        StoreError::Invalid { field, message } => {
            CliError::Failure(format!("`--{field}`: {message}"))
        }
        other => CliError::Store(other),
    }
}

/// Validates capability flags as the `partner` object of a case is validated.
fn parse_capabilities(args: &CapabilityArgs) -> Result<Capabilities, CliError> {
    let value = json!({
        "training": args.training,
        "documentation": args.documentation,
        "tooling": args.tooling,
    });
    Capabilities::from_json(&value, "").map_err(|error| {
        let flag = error.field.split('[').next().unwrap_or(&error.field);
        CliError::Failure(format!("`--{flag}`: {} (`{}`)", error.message, error.field))
    })
}

pub(super) fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}
