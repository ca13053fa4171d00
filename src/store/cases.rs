//! Reading cases and their history, scoped to the caller: a case outside the
//! caller's scope is answered exactly like one that does not exist.

use super::db::{args, Arg};
use super::error::{Context, StoreError};
use super::records::{case_select, CaseRecord, CaseRow, EventRecord, EventRow};
use super::{Scope, Store};
use crate::workflow::Stage;

/// Most cases one page holds.
pub const MAX_PAGE: u32 = 200;

/// Which cases to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseQuery {
    /// Whose cases.
    pub scope: Scope,
    /// Only cases in this stage.
    pub stage: Option<Stage>,
    /// Only this partner's cases (within the scope).
    pub partner_id: Option<String>,
    /// At most this many (1 to [`MAX_PAGE`]; larger values are capped).
    pub limit: u32,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl CaseQuery {
    /// The first page of 50 cases in `scope`.
    pub fn new(scope: Scope) -> CaseQuery {
        CaseQuery {
            scope,
            stage: None,
            partner_id: None,
            limit: 50,
            cursor: None,
        }
    }
}

/// One page of cases, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct CasePage {
    /// The cases.
    pub items: Vec<CaseRecord>,
    /// Pass this as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A cursor is the position of the last case of a page (its creation time
/// and id), hex-encoded so that clients treat it as opaque.
fn encode_cursor(created_at: i64, id: &str) -> String {
    hex::encode(format!("{created_at}:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(i64, String), StoreError> {
    let bytes = hex::decode(cursor).map_err(|_| StoreError::BadCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::BadCursor)?;
    let (created_at, id) = text.split_once(':').ok_or(StoreError::BadCursor)?;
    let created_at: i64 = created_at.parse().map_err(|_| StoreError::BadCursor)?;
    // A time before 1970 or anything but a case id (a NUL byte among them,
    // which PostgreSQL refuses) was not issued here.
    if created_at < 0 || !super::ids::is_case_id(id) {
        return Err(StoreError::BadCursor);
    }
    Ok((created_at, id.to_owned()))
}

impl Store {
    /// One case, if it exists and `scope` may see it.
    pub async fn case(&self, id: &str, scope: &Scope) -> Result<CaseRecord, StoreError> {
        let row: Option<CaseRow> = self
            .pool
            .fetch_optional(concat!(case_select!(), " where c.id = $1"), args![id])
            .await
            .context("cannot read the case")?;
        let not_found = || StoreError::NotFound {
            what: "case",
            id: id.to_owned(),
        };
        let record = row.ok_or_else(not_found)?.into_record()?;
        if scope.sees(&record) {
            Ok(record)
        } else {
            Err(not_found())
        }
    }

    /// A page of cases, newest first.
    pub async fn list_cases(&self, query: &CaseQuery) -> Result<CasePage, StoreError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let (after_created, after_id) = match query.cursor.as_deref() {
            None => (None, None),
            Some(cursor) => {
                let (created_at, id) = decode_cursor(cursor)?;
                (Some(created_at), Some(id))
            }
        };
        let scope_partner = match &query.scope {
            Scope::Partner(id) => Some(id.clone()),
            Scope::All | Scope::Vianet => None,
        };
        let escalated_only = query.scope == Scope::Vianet;
        let rows: Vec<CaseRow> = self
            .pool
            .fetch_all(
                concat!(
                    case_select!(),
                    " where ($1 is null or c.partner_id = $1)",
                    " and ($2 is null or c.partner_id = $2)",
                    " and ($3 = false or c.ever_escalated = true)",
                    " and ($4 is null or c.stage = $4)",
                    " and ($5 is null or c.created_at < $5 or (c.created_at = $5 and c.id < $6))",
                    " order by c.created_at desc, c.id desc limit $7"
                ),
                args![
                    scope_partner,
                    query.partner_id.clone(),
                    escalated_only,
                    query.stage.map(|stage| stage.as_str()),
                    after_created,
                    after_id,
                    i64::from(limit) + 1,
                ],
            )
            .await
            .context("cannot list cases")?;
        let more = rows.len() > limit as usize;
        let items = rows
            .into_iter()
            .take(limit as usize)
            .map(CaseRow::into_record)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = match items.last() {
            Some(last) if more => Some(encode_cursor(
                super::records::to_ms(last.created_at),
                &last.id,
            )),
            _ => None,
        };
        Ok(CasePage { items, next_cursor })
    }

    /// A case's history, oldest first.
    pub async fn events(
        &self,
        case_id: &str,
        scope: &Scope,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.case(case_id, scope).await?;
        let rows: Vec<EventRow> = self
            .pool
            .fetch_all(
                "select case_id, seq, at, actor_role, actor_id, kind, from_stage, to_stage, reason, action, data \
                 from events where case_id = $1 order by seq",
                args![case_id],
            )
            .await
            .context("cannot read the case's events")?;
        rows.into_iter().map(EventRow::into_record).collect()
    }

    /// How many escalations 21Vianet returned to each partner as not
    /// escalation-worthy, by partner id (partners without returns are absent).
    pub async fn returned_escalations(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.pool
            .fetch_all(
                "select c.partner_id, count(*) as returned from events e join cases c on c.id = e.case_id \
                 where e.action = 'return' group by c.partner_id order by c.partner_id",
                Vec::<Arg>::new(),
            )
            .await
            .context("cannot count returned escalations")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let cursor = encode_cursor(1_700_000_000_000, "c_abcdefghijklmnop");
        assert_eq!(
            decode_cursor(&cursor).unwrap(),
            (1_700_000_000_000, "c_abcdefghijklmnop".to_owned())
        );
        for forged in ["-1:c_abcdefghijklmnop", "12:c_a", "12:c_abcdefghijklmno1"] {
            assert!(
                matches!(
                    decode_cursor(&hex::encode(forged)),
                    Err(StoreError::BadCursor)
                ),
                "{forged}"
            );
        }
        assert!(matches!(decode_cursor("zz"), Err(StoreError::BadCursor)));
        assert!(matches!(
            decode_cursor(&hex::encode("12:x")),
            Err(StoreError::BadCursor)
        ));
        assert!(matches!(
            decode_cursor(&hex::encode("12:c_\0")),
            Err(StoreError::BadCursor)
        ));
    }
}
