use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::{oidc_session_clients, sessions};

/// An app a Tessera session signed in to: told by back-channel logout when the session ends.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oidc_session_clients, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OidcSessionClient {
    pub session_id: String,
    pub client_id: String,
    pub user_id: i64,
    pub created_at: i64,
}

impl OidcSessionClient {
    /// Records the pair once (a second sign-in to the same app from the same session changes nothing), and
    /// forgets pairs from before `forget_before`: sessions that old have ended on their own.
    pub fn record(
        conn: &mut DbConnection,
        row: &OidcSessionClient,
        forget_before: i64,
    ) -> Result<(), DbError> {
        diesel::delete(
            oidc_session_clients::table.filter(oidc_session_clients::created_at.lt(forget_before)),
        )
        .execute(conn)?;
        let exists = oidc_session_clients::table
            .find((row.session_id.as_str(), row.client_id.as_str()))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if !exists {
            diesel::insert_into(oidc_session_clients::table)
                .values(row)
                .execute(conn)?;
        }
        Ok(())
    }

    /// A user's pairs whose session has ended (deleted: a password change, disabling, a reset), forgotten
    /// as they are returned.
    pub fn take_ended_for_user(
        conn: &mut DbConnection,
        user_id: i64,
    ) -> Result<Vec<OidcSessionClient>, DbError> {
        let live = sessions::table
            .filter(sessions::user_id.eq(user_id))
            .select(sessions::id);
        let ended = oidc_session_clients::table
            .filter(oidc_session_clients::user_id.eq(user_id))
            .filter(diesel::dsl::not(oidc_session_clients::session_id.eq_any(live)));
        let rows: Vec<OidcSessionClient> = ended.load(conn)?;
        for r in &rows {
            diesel::delete(oidc_session_clients::table.find((r.session_id.as_str(), r.client_id.as_str())))
                .execute(conn)?;
        }
        Ok(rows)
    }

    /// The apps a session signed in to, forgotten as they are returned.
    pub fn take_for_session(
        conn: &mut DbConnection,
        session_id: &str,
    ) -> Result<Vec<OidcSessionClient>, DbError> {
        let rows = oidc_session_clients::table
            .filter(oidc_session_clients::session_id.eq(session_id))
            .load(conn)?;
        diesel::delete(oidc_session_clients::table.filter(oidc_session_clients::session_id.eq(session_id)))
            .execute(conn)?;
        Ok(rows)
    }
}
