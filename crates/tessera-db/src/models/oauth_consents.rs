use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::oauth_consents;

/// What a user approved for an OAuth client: remembered until revoked.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_consents, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OAuthConsent {
    pub user_id: i64,
    pub client_id: String,
    /// Tessera's scopes and the OpenID scopes together, as space-separated names.
    pub scopes: String,
    pub created_at: i64,
}

impl OAuthConsent {
    pub fn find(
        conn: &mut DbConnection,
        user_id: i64,
        client_id: &str,
    ) -> Result<Option<OAuthConsent>, DbError> {
        Ok(oauth_consents::table
            .find((user_id, client_id))
            .first(conn)
            .optional()?)
    }

    /// Records or replaces the consent for (user, client).
    pub fn upsert(conn: &mut DbConnection, row: &OAuthConsent) -> Result<(), DbError> {
        diesel::delete(oauth_consents::table.find((row.user_id, row.client_id.as_str()))).execute(conn)?;
        diesel::insert_into(oauth_consents::table)
            .values(row)
            .execute(conn)?;
        Ok(())
    }

    pub fn list_for_user(conn: &mut DbConnection, user_id: i64) -> Result<Vec<OAuthConsent>, DbError> {
        Ok(oauth_consents::table
            .filter(oauth_consents::user_id.eq(user_id))
            .order(oauth_consents::client_id.asc())
            .load(conn)?)
    }

    /// Revokes one consent; `false` when there was none.
    pub fn delete(conn: &mut DbConnection, user_id: i64, client_id: &str) -> Result<bool, DbError> {
        Ok(diesel::delete(oauth_consents::table.find((user_id, client_id))).execute(conn)? == 1)
    }
}
