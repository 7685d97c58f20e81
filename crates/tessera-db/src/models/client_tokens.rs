use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::client_tokens;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = client_tokens, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ClientToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// None while a device approval waits for the poll that generates the secret.
    pub digest: Option<Vec<u8>>,
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub device_id: Option<String>,
    pub generation: i64,
    pub created_at: i64,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = client_tokens)]
pub struct NewClientToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub digest: Option<&'a [u8]>,
    pub scopes: &'a str,
    pub expires_at: Option<i64>,
    pub device_id: Option<&'a str>,
    pub created_at: i64,
}

impl ClientToken {
    pub fn insert(conn: &mut DbConnection, new: &NewClientToken<'_>) -> Result<ClientToken, DbError> {
        Ok(diesel::insert_into(client_tokens::table)
            .values(new)
            .returning(client_tokens::all_columns)
            .get_result(conn)?)
    }

    pub fn find_by_digest(conn: &mut DbConnection, digest: &[u8]) -> Result<Option<ClientToken>, DbError> {
        Ok(client_tokens::table
            .filter(client_tokens::digest.eq(digest))
            .first(conn)
            .optional()?)
    }
}

impl ClientToken {
    pub fn delete_all_for_user(conn: &mut DbConnection, user_id: i64) -> Result<usize, DbError> {
        Ok(diesel::delete(client_tokens::table.filter(client_tokens::user_id.eq(user_id))).execute(conn)?)
    }
}

impl ClientToken {
    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<ClientToken>, DbError> {
        Ok(client_tokens::table.find(id).first(conn).optional()?)
    }

    /// Newest first.
    pub fn for_user(conn: &mut DbConnection, user_id: i64) -> Result<Vec<ClientToken>, DbError> {
        Ok(client_tokens::table
            .filter(client_tokens::user_id.eq(user_id))
            .order(client_tokens::id.desc())
            .load(conn)?)
    }

    pub fn all_with_owner(conn: &mut DbConnection) -> Result<Vec<(ClientToken, String)>, DbError> {
        use crate::schema::users;
        Ok(client_tokens::table
            .inner_join(users::table)
            .select((client_tokens::all_columns, users::username))
            .order(client_tokens::id.desc())
            .load(conn)?)
    }

    /// Tokens that count toward the limit: not expired.
    pub fn count_live(conn: &mut DbConnection, user_id: i64, now: i64) -> Result<i64, DbError> {
        Ok(client_tokens::table
            .filter(client_tokens::user_id.eq(user_id))
            .filter(
                client_tokens::expires_at
                    .is_null()
                    .or(client_tokens::expires_at.gt(now)),
            )
            .count()
            .get_result(conn)?)
    }

    pub fn delete(conn: &mut DbConnection, id: i64) -> Result<bool, DbError> {
        Ok(diesel::delete(client_tokens::table.find(id)).execute(conn)? == 1)
    }

    pub fn set_digest(conn: &mut DbConnection, id: i64, digest: &[u8]) -> Result<(), DbError> {
        diesel::update(client_tokens::table.find(id))
            .set(client_tokens::digest.eq(digest))
            .execute(conn)?;
        Ok(())
    }

    /// Records use unless it was recorded after `not_after` (another request got there first).
    pub fn touch_used(conn: &mut DbConnection, id: i64, now: i64, not_after: i64) -> Result<(), DbError> {
        diesel::update(client_tokens::table.find(id))
            .filter(
                client_tokens::last_used_at
                    .is_null()
                    .or(client_tokens::last_used_at.le(not_after)),
            )
            .set(client_tokens::last_used_at.eq(now))
            .execute(conn)?;
        Ok(())
    }
}

impl ClientToken {
    /// Removes every token bound to a device (one live token per device).
    pub fn delete_for_device(conn: &mut DbConnection, device_id: &str) -> Result<usize, DbError> {
        Ok(
            diesel::delete(client_tokens::table.filter(client_tokens::device_id.eq(device_id)))
                .execute(conn)?,
        )
    }
}
