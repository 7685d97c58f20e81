//! Security events: written to `audit_events` and logged under the `tessera::security` target.

use tessera_core::UnixTime;
use tessera_db::models::audit_events::{AuditEvent, NewAuditEvent};
use tessera_db::{DbConnection, DbError};

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
