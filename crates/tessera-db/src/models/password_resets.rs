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

    pub fn find(conn: &mut DbConnection, key: &[u8]) -> Result<Option<PasswordReset>, DbError> {
        Ok(password_resets::table
            .filter(password_resets::digest.eq(key))
            .first(conn)
            .optional()?)
    }
}
