use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::user_overrides;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_overrides, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct UserOverride {
    pub user_id: i64,
    pub entity: String,
    pub action: String,
    pub own_only: bool,
    /// "grant" or "revoke".
    pub effect: String,
}

impl UserOverride {
    pub fn for_user(conn: &mut DbConnection, user_id: i64) -> Result<Vec<UserOverride>, DbError> {
        Ok(user_overrides::table
            .filter(user_overrides::user_id.eq(user_id))
            .load(conn)?)
    }

    pub fn insert(conn: &mut DbConnection, row: &UserOverride) -> Result<(), DbError> {
        diesel::insert_into(user_overrides::table)
            .values(row)
            .execute(conn)?;
        Ok(())
    }
}

impl UserOverride {
    pub fn replace_for_user(
        conn: &mut DbConnection,
        user_id: i64,
        rows: &[UserOverride],
    ) -> Result<(), DbError> {
        diesel::delete(user_overrides::table.filter(user_overrides::user_id.eq(user_id))).execute(conn)?;
        for r in rows {
            Self::insert(conn, r)?;
        }
        Ok(())
    }
}
