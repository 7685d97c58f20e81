use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::sessions;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Session {
    pub id: String,
    pub digest: Vec<u8>,
    pub user_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub oidc_id_token: Option<String>,
}

impl Session {
    pub fn insert(conn: &mut DbConnection, row: &Session) -> Result<(), DbError> {
        diesel::insert_into(sessions::table).values(row).execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, key: &[u8]) -> Result<Option<Session>, DbError> {
        Ok(sessions::table
            .filter(sessions::digest.eq(key))
            .first(conn)
            .optional()?)
    }
}
