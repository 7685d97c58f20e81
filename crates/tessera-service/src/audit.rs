//! Security events: written to `audit_events` and logged under the `tessera::security` target.

use tessera_core::UnixTime;
use tessera_db::models::audit_events::{AuditEvent, NewAuditEvent};
use tessera_db::{DbConnection, DbError};

use crate::{ServiceError, Services};

/// Filters of an audit search, already parsed.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub since: Option<UnixTime>,
    pub kind: Option<String>,
    pub user_id: Option<i64>,
    pub limit: i64,
    /// Only events older than this event id (paging newest first: the last id of the page before).
    pub before: Option<i64>,
}

impl AuditFilter {
    pub const DEFAULT_LIMIT: i64 = 100;
    pub const MAX_LIMIT: i64 = 1000;
    pub const MAX_KIND_LEN: usize = 64;

    /// Validates the raw query values; each bad one is a field error naming it.
    pub fn parse(
        since: Option<&str>,
        kind: Option<&str>,
        user_id: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Self, ServiceError> {
        let since = match since {
            None => None,
            Some(t) => Some(
                UnixTime::parse_rfc3339_or_secs(t)
                    .ok_or_else(|| ServiceError::field("since", "an RFC 3339 time or Unix seconds"))?,
            ),
        };
        // Event kinds are short dotted names (`user.login_failed`); a longer filter cannot match any.
        if kind.is_some_and(|k| k.len() > Self::MAX_KIND_LEN) {
            return Err(ServiceError::field(
                "kind",
                format!("at most {} characters", Self::MAX_KIND_LEN),
            ));
        }
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(ServiceError::field(
                "limit",
                format!("between 1 and {}", Self::MAX_LIMIT),
            ));
        }
        Ok(Self {
            since,
            kind: kind.filter(|k| !k.is_empty()).map(str::to_owned),
            user_id,
            limit,
            before: None,
        })
    }
}

impl Services {
    /// Security events, newest first (`GET /api/audit`).
    pub async fn audit_events(&self, filter: AuditFilter) -> Result<Vec<AuditEvent>, ServiceError> {
        self.db
            .run(move |c| {
                Ok(AuditEvent::search(
                    c,
                    filter.since.map(UnixTime::as_secs),
                    filter.kind.as_deref(),
                    filter.user_id,
                    filter.before,
                    filter.limit,
                )?)
            })
            .await
    }
}

pub fn record(
    conn: &mut DbConnection,
    now: UnixTime,
    kind: &str,
    user_id: Option<i64>,
    actor: Option<&str>,
    detail: Option<&str>,
) -> Result<(), DbError> {
    tracing::info!(target: "tessera::security", kind = kind, user.id = ?user_id, actor = ?actor, "security event");
    AuditEvent::record(
        conn,
        &NewAuditEvent {
            at: now.as_secs(),
            kind,
            user_id,
            actor,
            ip: None,
            detail,
        },
    )?;
    Ok(())
}
