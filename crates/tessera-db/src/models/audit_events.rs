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

    pub fn recent(conn: &mut DbConnection, limit: i64) -> Result<Vec<AuditEvent>, DbError> {
        Ok(audit_events::table
            .order(audit_events::id.desc())
            .limit(limit)
            .load(conn)?)
    }
}
