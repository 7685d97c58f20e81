use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::revoked_access_tokens;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = revoked_access_tokens, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RevokedAccessToken {
    /// `jti` of one access token, or `sid` of a whole refresh family.
    pub token_id: String,
    pub kind: String,
    /// Kept until the token could no longer verify (expiry plus leeway).
    pub expires_at: i64,
}

impl RevokedAccessToken {
    pub fn insert(conn: &mut DbConnection, row: &RevokedAccessToken) -> Result<(), DbError> {
        diesel::insert_into(revoked_access_tokens::table)
            .values(row)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, key: &str) -> Result<Option<RevokedAccessToken>, DbError> {
        Ok(revoked_access_tokens::table
            .filter(revoked_access_tokens::token_id.eq(key))
            .first(conn)
            .optional()?)
    }
}
