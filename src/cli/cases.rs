//! `escalator cases list|show|events`: read stored cases as JSON, for
//! operators (every partner's cases; no token needed, the database is).

use std::process::ExitCode;

use chrono::Utc;
use serde_json::json;

use super::admin::{json_text, open_store};
use super::output::outln;
use super::{CasesCommand, CliError};
use crate::config::SettingsArgs;
use crate::store::{CaseQuery, Scope, MAX_PAGE};
use crate::workflow::Stage;

/// Runs one `cases` subcommand.
pub async fn run(settings: &SettingsArgs, command: CasesCommand) -> Result<ExitCode, CliError> {
    let now = Utc::now();
    let output = match command {
        CasesCommand::List {
            stage,
            partner,
            limit,
            cursor,
        } => {
            let stage = stage
                .map(|text| text.parse::<Stage>())
                .transpose()
                .map_err(|message| CliError::Usage(format!("--stage: {message}")))?;
            if limit == 0 || limit > MAX_PAGE {
                return Err(CliError::Usage(format!(
                    "--limit: must be between 1 and {MAX_PAGE}"
                )));
            }
            let store = open_store(settings).await?;
            let mut query = CaseQuery::new(Scope::All);
            query.stage = stage;
            query.partner_id = partner;
            query.limit = limit;
            query.cursor = cursor;
            let page = store.list_cases(&query).await?;
            store.close().await;
            let items: Vec<_> = page.items.iter().map(|case| case.view(now)).collect();
            json!({ "items": items, "next_cursor": page.next_cursor })
        }
        CasesCommand::Show { id } => {
            let store = open_store(settings).await?;
            let case = store.case(&id, &Scope::All).await?;
            store.close().await;
            case.to_json(now)
        }
        CasesCommand::Events { id } => {
            let store = open_store(settings).await?;
            let events = store.events(&id, &Scope::All).await?;
            store.close().await;
            json!({ "items": events })
        }
    };
    outln!("{}", json_text(&output))?;
    Ok(ExitCode::SUCCESS)
}
