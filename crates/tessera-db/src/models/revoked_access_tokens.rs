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

impl RevokedAccessToken {
    /// Records a revocation; revoking twice is not an error.
    pub fn revoke(
        conn: &mut DbConnection,
        token_id: &str,
        kind: &str,
        expires_at: i64,
    ) -> Result<(), DbError> {
        let row = RevokedAccessToken {
            token_id: token_id.to_owned(),
            kind: kind.to_owned(),
            expires_at,
        };
        crate::dialect::insert_ignoring_conflict(conn, &row)
    }

    /// True when the access token `jti` or its family `sid` was revoked.
    pub fn is_revoked(conn: &mut DbConnection, jti: &str, sid: Option<&str>) -> Result<bool, DbError> {
        let mut ids = vec![format!("jti:{jti}")];
        if let Some(s) = sid {
            ids.push(format!("sid:{s}"));
        }
        let n: i64 = revoked_access_tokens::table
            .filter(revoked_access_tokens::token_id.eq_any(ids))
            .count()
            .get_result(conn)?;
        Ok(n > 0)
    }
}
