use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::audit_events;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub user_id: Option<i64>,
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub at: i64,
    pub kind: &'a str,
    pub user_id: Option<i64>,
    pub actor: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub detail: Option<&'a str>,
}

impl AuditEvent {
    pub fn record(conn: &mut DbConnection, new: &NewAuditEvent<'_>) -> Result<AuditEvent, DbError> {
        Ok(diesel::insert_into(audit_events::table)
            .values(new)
            .returning(audit_events::all_columns)
            .get_result(conn)?)
    }

    /// Newest first, filtered by time (`at >= since`), kind and user.
    pub fn search(
        conn: &mut DbConnection,
        since: Option<i64>,
        kind: Option<&str>,
        user_id: Option<i64>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, DbError> {
        let mut q = audit_events::table.into_boxed::<<DbConnection as diesel::Connection>::Backend>();
        if let Some(t) = since {
            q = q.filter(audit_events::at.ge(t));
        }
        if let Some(k) = kind {
            q = q.filter(audit_events::kind.eq(k.to_owned()));
        }
        if let Some(u) = user_id {
            q = q.filter(audit_events::user_id.eq(u));
        }
        if let Some(b) = before {
            q = q.filter(audit_events::id.lt(b));
        }
        Ok(q.order(audit_events::id.desc()).limit(limit).load(conn)?)
    }

    pub fn recent(conn: &mut DbConnection, limit: i64) -> Result<Vec<AuditEvent>, DbError> {
        Ok(audit_events::table
            .order(audit_events::id.desc())
            .limit(limit)
            .load(conn)?)
    }
}
