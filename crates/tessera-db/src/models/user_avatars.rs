use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::user_avatars;

/// A user's avatar image, checked by content before it gets here.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_avatars, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct UserAvatar {
    pub user_id: i64,
    pub content_type: String,
    pub image: Vec<u8>,
    pub updated_at: i64,
}

impl UserAvatar {
    /// Replaces the user's avatar; run it inside the write transaction, so the delete and insert are one change.
    pub fn replace(conn: &mut DbConnection, row: &UserAvatar) -> Result<(), DbError> {
        diesel::delete(user_avatars::table.find(row.user_id)).execute(conn)?;
        diesel::insert_into(user_avatars::table)
            .values(row)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, user_id: i64) -> Result<Option<UserAvatar>, DbError> {
        Ok(user_avatars::table.find(user_id).first(conn).optional()?)
    }
}
