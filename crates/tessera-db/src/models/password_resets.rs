use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::password_resets;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = password_resets, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct PasswordReset {
    pub digest: Vec<u8>,
    pub user_id: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl PasswordReset {
    pub fn insert(conn: &mut DbConnection, row: &PasswordReset) -> Result<(), DbError> {
        diesel::insert_into(password_resets::table)
            .values(row)
            .execute(conn)?;
        Ok(())
    }

    /// Uses a live, unused reset once; returns its user for the one call that consumed it.
    pub fn consume(conn: &mut DbConnection, key: &[u8], now: i64) -> Result<Option<i64>, DbError> {
        let n = diesel::update(
            password_resets::table
                .filter(password_resets::digest.eq(key))
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::expires_at.gt(now)),
        )
        .set(password_resets::used_at.eq(now))
        .execute(conn)?;
        if n != 1 {
            return Ok(None);
        }
        Ok(Self::find(conn, key)?.map(|r| r.user_id))
    }

    pub fn find(conn: &mut DbConnection, key: &[u8]) -> Result<Option<PasswordReset>, DbError> {
        Ok(password_resets::table
            .filter(password_resets::digest.eq(key))
            .first(conn)
            .optional()?)
    }
}
