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

    pub fn find(conn: &mut DbConnection, key: &[u8]) -> Result<Option<Invite>, DbError> {
        Ok(invites::table
            .filter(invites::digest.eq(key))
            .first(conn)
            .optional()?)
    }
}
