use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::invites;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = invites, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Invite {
    pub digest: Vec<u8>,
    pub role: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub used_by: Option<i64>,
}

impl Invite {
    pub fn insert(conn: &mut DbConnection, row: &Invite) -> Result<(), DbError> {
        diesel::insert_into(invites::table).values(row).execute(conn)?;
        Ok(())
    }

    /// Marks a live, unused invite used by `user_id`; true only for the one call that consumed it
    /// (a conditional update, so concurrent registrations cannot both win).
    pub fn consume(conn: &mut DbConnection, key: &[u8], now: i64, user_id: i64) -> Result<bool, DbError> {
        let n = diesel::update(
            invites::table
                .filter(invites::digest.eq(key))
                .filter(invites::used_at.is_null())
                .filter(invites::expires_at.gt(now)),
        )
        .set((invites::used_at.eq(now), invites::used_by.eq(user_id)))
        .execute(conn)?;
        Ok(n == 1)
    }

    pub fn find(conn: &mut DbConnection, key: &[u8]) -> Result<Option<Invite>, DbError> {
        Ok(invites::table
            .filter(invites::digest.eq(key))
            .first(conn)
            .optional()?)
    }
}
