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

impl Session {
    pub fn list_for_user(conn: &mut DbConnection, user_id: i64) -> Result<Vec<Session>, DbError> {
        Ok(sessions::table
            .filter(sessions::user_id.eq(user_id))
            .order(sessions::id.desc())
            .load(conn)?)
    }

    /// Ends one of a user's sessions; false when it is not theirs or does not exist.
    pub fn delete_for_user(conn: &mut DbConnection, id: &str, user_id: i64) -> Result<bool, DbError> {
        let n = diesel::delete(
            sessions::table
                .filter(sessions::id.eq(id))
                .filter(sessions::user_id.eq(user_id)),
        )
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Ends every session of a user except `keep` (the one changing the password).
    pub fn delete_all_for_user(
        conn: &mut DbConnection,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<usize, DbError> {
        let q = sessions::table.filter(sessions::user_id.eq(user_id));
        Ok(match keep {
            Some(k) => diesel::delete(q.filter(sessions::id.ne(k))).execute(conn)?,
            None => diesel::delete(q).execute(conn)?,
        })
    }

    /// Sessions within their absolute lifetime and seen since `idle_cutoff`.
    pub fn count_live(conn: &mut DbConnection, now: i64, idle_cutoff: i64) -> Result<i64, DbError> {
        Ok(sessions::table
            .filter(sessions::expires_at.gt(now))
            .filter(sessions::last_seen_at.gt(idle_cutoff))
            .count()
            .get_result(conn)?)
    }

    pub fn find_by_digest(conn: &mut DbConnection, digest: &[u8]) -> Result<Option<Session>, DbError> {
        Ok(sessions::table
            .filter(sessions::digest.eq(digest))
            .first(conn)
            .optional()?)
    }

    pub fn delete_by_digest(conn: &mut DbConnection, digest: &[u8]) -> Result<(), DbError> {
        diesel::delete(sessions::table.filter(sessions::digest.eq(digest))).execute(conn)?;
        Ok(())
    }

    pub fn touch(conn: &mut DbConnection, id: &str, now: i64) -> Result<(), DbError> {
        diesel::update(sessions::table.find(id))
            .set(sessions::last_seen_at.eq(now))
            .execute(conn)?;
        Ok(())
    }
}
