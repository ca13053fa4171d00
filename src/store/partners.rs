//! Partner desks, their capabilities, and API tokens. A token is shown once
//! at creation; only its SHA-256 is stored, and lookups go by that hash.

use chrono::{DateTime, Utc};
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::db::{args, violated_constraint, Constraint, Tx};
use super::error::{Context, StoreError};
use super::ids;
use super::records::{from_ms, rfc3339, to_ms};
use super::Store;
use crate::case::{Capabilities, EmailAddress, ItemSet};
use crate::workflow::{Actor, Role};

/// Longest accepted partner id.
const MAX_ID_CHARS: usize = 64;
/// Longest accepted partner or token name.
const MAX_NAME_CHARS: usize = 256;

/// A partner desk to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPartner {
    /// `[a-z0-9_-]`, 1 to 64 characters.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The desk's address.
    pub email: EmailAddress,
    /// What the desk knows.
    pub capabilities: Capabilities,
}

/// A registered partner desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// The partner's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The desk's address.
    pub email: String,
    /// What the desk knows (its `id` is the partner's id).
    pub capabilities: Capabilities,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Serialize for Partner {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(7))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("email", &self.email)?;
        map.serialize_entry("training", &self.capabilities.training)?;
        map.serialize_entry("documentation", &self.capabilities.documentation)?;
        map.serialize_entry("tooling", &self.capabilities.tooling)?;
        map.serialize_entry("created_at", &rfc3339(self.created_at))?;
        map.serialize_entry("updated_at", &rfc3339(self.updated_at))?;
        map.end()
    }
}

/// A freshly created token: the secret is only ever available here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The token's id (`t_…`), for listing and revoking.
    pub id: String,
    /// The secret to hand over (`esc_…`); not stored.
    pub token: String,
}

/// Who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The actor the token speaks for.
    pub actor: Actor,
    /// The token's id.
    pub token_id: String,
    /// The partner's capabilities, for partner tokens.
    pub capabilities: Option<Capabilities>,
}

#[derive(sqlx::FromRow)]
struct PartnerRow {
    id: String,
    name: String,
    email: String,
    training: String,
    documentation: String,
    tooling: String,
    created_at: i64,
    updated_at: i64,
}

impl PartnerRow {
    fn into_partner(self) -> Result<Partner, StoreError> {
        let capabilities =
            stored_capabilities(&self.id, &self.training, &self.documentation, &self.tooling)?;
        Ok(Partner {
            id: self.id,
            name: self.name,
            email: self.email,
            capabilities,
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    token_hash: String,
    role: String,
    partner_id: Option<String>,
    name: String,
    training: Option<String>,
    documentation: Option<String>,
    tooling: Option<String>,
}

/// Checks a partner id: `[a-z0-9_-]`, 1 to 64 characters.
pub fn check_partner_id(id: &str) -> Result<(), StoreError> {
    let invalid = |message: String| StoreError::Invalid {
        field: "id",
        message,
    };
    if id.is_empty() {
        return Err(invalid("must not be empty".to_owned()));
    }
    if id.chars().count() > MAX_ID_CHARS {
        return Err(invalid(format!("has more than {MAX_ID_CHARS} characters")));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-'))
    {
        return Err(invalid(format!(
            "`{id}` contains `{bad}`; use lowercase letters, digits, `_` and `-`"
        )));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(StoreError::Invalid {
            field: "name",
            message: "must not be empty".to_owned(),
        });
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Invalid {
            field: "name",
            message: format!("has more than {MAX_NAME_CHARS} characters"),
        });
    }
    Ok(())
}

/// A partner's capabilities from the JSON lists stored in its row.
fn stored_capabilities(
    id: &str,
    training: &str,
    documentation: &str,
    tooling: &str,
) -> Result<Capabilities, StoreError> {
    let list = |what: &'static str, text: &str| -> Result<ItemSet, StoreError> {
        serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
            what,
            case_id: format!("(partner {id})"),
            message: error.to_string(),
        })
    };
    Ok(Capabilities {
        id: id.to_owned(),
        training: list("partner training", training)?,
        documentation: list("partner documentation", documentation)?,
        tooling: list("partner tooling", tooling)?,
    })
}

fn json_list(items: &ItemSet) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

async fn insert_token(
    tx: &mut Tx,
    role: Role,
    partner_id: Option<&str>,
    name: &str,
    now: DateTime<Utc>,
) -> Result<IssuedToken, StoreError> {
    let issued = IssuedToken {
        id: ids::random_id("t_"),
        token: ids::token(),
    };
    tx.execute(
        "insert into tokens (id, token_hash, role, partner_id, name, created_at) values ($1, $2, $3, $4, $5, $6)",
        args![&issued.id, ids::token_hash(&issued.token), role.as_str(), partner_id, name.trim(), to_ms(now)],
    )
    .await
    .context("cannot store the token")?;
    Ok(issued)
}

impl Store {
    /// Registers a partner desk and issues its first API token, in one transaction.
    pub async fn add_partner(
        &self,
        partner: &NewPartner,
        now: DateTime<Utc>,
    ) -> Result<(Partner, IssuedToken), StoreError> {
        check_partner_id(&partner.id)?;
        check_name(&partner.name)?;
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin adding the partner")?;
        let inserted = tx
            .execute(
                "insert into partners (id, name, email, training, documentation, tooling, created_at, updated_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $7)",
                args![
                    &partner.id,
                    partner.name.trim(),
                    partner.email.as_str(),
                    json_list(&partner.capabilities.training),
                    json_list(&partner.capabilities.documentation),
                    json_list(&partner.capabilities.tooling),
                    to_ms(now),
                ],
            )
            .await;
        if let Err(error) = inserted {
            if violated_constraint(&error) == Some(Constraint::PartnerId) {
                return Err(StoreError::PartnerExists {
                    id: partner.id.clone(),
                });
            }
            return Err(StoreError::Database {
                context: "cannot store the partner",
                source: error,
            });
        }
        let token = insert_token(
            &mut tx,
            Role::Partner,
            Some(&partner.id),
            &partner.name,
            now,
        )
        .await?;
        tx.commit().await.context("cannot commit the new partner")?;
        Ok((self.partner(&partner.id).await?, token))
    }

    /// Replaces a partner's capabilities.
    pub async fn set_capabilities(
        &self,
        id: &str,
        capabilities: &Capabilities,
        now: DateTime<Utc>,
    ) -> Result<Partner, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin updating the partner")?;
        let changed = tx
            .execute(
                "update partners set training = $2, documentation = $3, tooling = $4, updated_at = $5 where id = $1",
                args![
                    id,
                    json_list(&capabilities.training),
                    json_list(&capabilities.documentation),
                    json_list(&capabilities.tooling),
                    to_ms(now),
                ],
            )
            .await
            .context("cannot update the partner's capabilities")?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                what: "partner",
                id: id.to_owned(),
            });
        }
        tx.commit()
            .await
            .context("cannot commit the partner's capabilities")?;
        self.partner(id).await
    }

    /// One partner.
    pub async fn partner(&self, id: &str) -> Result<Partner, StoreError> {
        let sql = "select id, name, email, training, documentation, tooling, created_at, updated_at from partners where id = $1";
        let row: Option<PartnerRow> = self
            .pool
            .fetch_optional(sql, args![id])
            .await
            .context("cannot read the partner")?;
        row.ok_or_else(|| StoreError::NotFound {
            what: "partner",
            id: id.to_owned(),
        })?
        .into_partner()
    }

    /// Every partner, by id.
    pub async fn list_partners(&self) -> Result<Vec<Partner>, StoreError> {
        let rows: Vec<PartnerRow> = self
            .pool
            .fetch_all(
                "select id, name, email, training, documentation, tooling, created_at, updated_at from partners order by id",
                Vec::new(),
            )
            .await
            .context("cannot list partners")?;
        rows.into_iter().map(PartnerRow::into_partner).collect()
    }

    /// Issues a token for 21Vianet's desk, an administrator, or (with
    /// `partner_id`) another token for a partner.
    pub async fn add_token(
        &self,
        role: Role,
        partner_id: Option<&str>,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, StoreError> {
        check_name(name)?;
        match (role, partner_id) {
            (Role::Partner, Some(id)) => {
                self.partner(id).await?;
            }
            (Role::Vianet | Role::Admin, None) => {}
            _ => {
                return Err(StoreError::Invalid {
                    field: "role",
                    message: format!(
                        "a token of role `{role}` {} a partner",
                        if partner_id.is_some() {
                            "cannot name"
                        } else {
                            "needs"
                        }
                    ),
                })
            }
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot begin adding the token")?;
        let token = insert_token(&mut tx, role, partner_id, name, now).await?;
        tx.commit().await.context("cannot commit the token")?;
        Ok(token)
    }

    /// Who `token` speaks for, or `None` for an unknown token. One query
    /// reads the token and, for a partner token, the partner's capabilities
    /// (every API request asks this).
    pub async fn actor_for_token(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let hash = ids::token_hash(token);
        let row: Option<TokenRow> = self
            .pool
            .fetch_optional(
                "select t.id, t.token_hash, t.role, t.partner_id, t.name, \
                 p.training, p.documentation, p.tooling \
                 from tokens t left join partners p on p.id = t.partner_id where t.token_hash = $1",
                args![&hash],
            )
            .await
            .context("cannot look up the token")?;
        let Some(row) = row else { return Ok(None) };
        // The index found the row; compare the whole hash in constant time anyway.
        if !bool::from(row.token_hash.as_bytes().ct_eq(hash.as_bytes())) {
            return Ok(None);
        }
        let principal = match (row.role.as_str(), row.partner_id) {
            ("partner", Some(partner_id)) => {
                // The token's partner row is joined; no lists means it is gone.
                let (Some(training), Some(documentation), Some(tooling)) = (
                    row.training.as_deref(),
                    row.documentation.as_deref(),
                    row.tooling.as_deref(),
                ) else {
                    return Err(StoreError::NotFound {
                        what: "partner",
                        id: partner_id,
                    });
                };
                let capabilities =
                    stored_capabilities(&partner_id, training, documentation, tooling)?;
                Principal {
                    actor: Actor::Partner { id: partner_id },
                    token_id: row.id,
                    capabilities: Some(capabilities),
                }
            }
            ("vianet", _) => Principal {
                actor: Actor::Vianet { id: row.name },
                token_id: row.id,
                capabilities: None,
            },
            ("admin", _) => Principal {
                actor: Actor::Admin { id: row.name },
                token_id: row.id,
                capabilities: None,
            },
            _ => return Ok(None),
        };
        Ok(Some(principal))
    }
}
