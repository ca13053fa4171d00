//! `escalator outbox list|retry`: inspect outgoing emails and put a parked
//! (failed) one back in the queue. Operators hold the database, not a token,
//! so these read and write it directly, as JSON on stdout like `cases`.

use std::process::ExitCode;

use chrono::Utc;
use serde_json::json;

use super::admin::{json_text, open_store};
use super::output::{eoutln, outln};
use super::{CliError, OutboxCommand};
use crate::config::SettingsArgs;
use crate::store::{MAX_PAGE, OUTBOX_STATUSES};
use crate::workflow::Actor;

/// Runs one `outbox` subcommand.
pub async fn run(settings: &SettingsArgs, command: OutboxCommand) -> Result<ExitCode, CliError> {
    let output = match command {
        OutboxCommand::List { status, limit } => {
            if let Some(status) = status.as_deref() {
                if !OUTBOX_STATUSES.contains(&status) {
                    return Err(CliError::Usage(format!(
                        "--status: `{status}` is not a status; use `pending`, `sent` or `failed`"
                    )));
                }
            }
            if limit == 0 || limit > MAX_PAGE {
                return Err(CliError::Usage(format!(
                    "--limit: must be between 1 and {MAX_PAGE}"
                )));
            }
            let store = open_store(settings).await?;
            let items = store.list_emails(status.as_deref(), limit).await;
            store.close().await;
            json!({ "items": items? })
        }
        OutboxCommand::Retry { id } => {
            let store = open_store(settings).await?;
            let actor = Actor::Admin {
                id: "cli".to_owned(),
            };
            let entry = store.retry_email(&id, &actor, Utc::now()).await;
            store.close().await;
            let entry = entry?;
            eoutln!(
                "outbox row `{id}` is queued again; a running `escalator serve` sends it within seconds"
            )?;
            json!(entry)
        }
    };
    outln!("{}", json_text(&output))?;
    Ok(ExitCode::SUCCESS)
}
