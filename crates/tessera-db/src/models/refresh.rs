use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::{refresh_families, refresh_tokens};

/// Every refresh token (and, through `sid`, access token) from one login.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_families, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RefreshFamily {
    pub id: String,
    pub user_id: i64,
    pub client_id: String,
    pub device_id: Option<String>,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The OpenID scopes of a sign-in through `/oauth/authorize` (what `userinfo` answers); else None.
    pub oidc_scopes: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RefreshToken {
    pub digest: Vec<u8>,
    pub family_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl RefreshFamily {
    pub fn insert(conn: &mut DbConnection, row: &RefreshFamily) -> Result<(), DbError> {
        diesel::insert_into(refresh_families::table)
            .values(row)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<RefreshFamily>, DbError> {
        Ok(refresh_families::table.find(id).first(conn).optional()?)
    }
}

impl RefreshToken {
    pub fn insert(conn: &mut DbConnection, row: &RefreshToken) -> Result<(), DbError> {
        diesel::insert_into(refresh_tokens::table)
            .values(row)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, digest: &[u8]) -> Result<Option<RefreshToken>, DbError> {
        Ok(refresh_tokens::table.find(digest).first(conn).optional()?)
    }

    /// The live token that replaced one used at `used_at` in this family: the one issued in that same
    /// rotation and not used since (a family has at most one live token).
    pub fn live_successor(
        conn: &mut DbConnection,
        family_id: &str,
        used_at: i64,
    ) -> Result<Option<RefreshToken>, DbError> {
        Ok(refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::issued_at.eq(used_at))
            .first(conn)
            .optional()?)
    }

    /// Moves a used token's use to `now` (a retry within the reuse grace rotated it again), so the
    /// token issued now is its live successor.
    pub fn mark_reused(conn: &mut DbConnection, digest: &[u8], now: i64) -> Result<(), DbError> {
        diesel::update(refresh_tokens::table.find(digest))
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?;
        Ok(())
    }

    /// Marks the token used; exactly one of two racing calls sees `true`.
    pub fn mark_used(conn: &mut DbConnection, digest: &[u8], now: i64) -> Result<bool, DbError> {
        let n = diesel::update(refresh_tokens::table)
            .filter(refresh_tokens::digest.eq(digest))
            .filter(refresh_tokens::used_at.is_null())
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?;
        Ok(n == 1)
    }
}

impl RefreshFamily {
    /// Marks the family revoked; true when this call revoked it.
    pub fn revoke(conn: &mut DbConnection, id: &str, now: i64) -> Result<bool, DbError> {
        let n = diesel::update(refresh_families::table.find(id))
            .filter(refresh_families::revoked_at.is_null())
            .set(refresh_families::revoked_at.eq(now))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Live families of a user (for password changes and disabling).
    pub fn live_for_user(conn: &mut DbConnection, user_id: i64) -> Result<Vec<RefreshFamily>, DbError> {
        Ok(refresh_families::table
            .filter(refresh_families::user_id.eq(user_id))
            .filter(refresh_families::revoked_at.is_null())
            .load(conn)?)
    }
}

impl RefreshFamily {
    /// Revokes every live family of a user; returns their ids (for `sid` revocations).
    pub fn revoke_all_for_user(
        conn: &mut DbConnection,
        user_id: i64,
        now: i64,
    ) -> Result<Vec<String>, DbError> {
        let ids: Vec<String> = refresh_families::table
            .filter(refresh_families::user_id.eq(user_id))
            .filter(refresh_families::revoked_at.is_null())
            .select(refresh_families::id)
            .load(conn)?;
        diesel::update(
            refresh_families::table
                .filter(refresh_families::user_id.eq(user_id))
                .filter(refresh_families::revoked_at.is_null()),
        )
        .set(refresh_families::revoked_at.eq(now))
        .execute(conn)?;
        Ok(ids)
    }
}

impl RefreshFamily {
    /// Revokes every live family bound to a device; returns their ids (for `sid` revocations).
    pub fn revoke_for_device(
        conn: &mut DbConnection,
        device_id: &str,
        now: i64,
    ) -> Result<Vec<String>, DbError> {
        let ids: Vec<String> = refresh_families::table
            .filter(refresh_families::device_id.eq(device_id))
            .filter(refresh_families::revoked_at.is_null())
            .select(refresh_families::id)
            .load(conn)?;
        diesel::update(
            refresh_families::table
                .filter(refresh_families::device_id.eq(device_id))
                .filter(refresh_families::revoked_at.is_null()),
        )
        .set(refresh_families::revoked_at.eq(now))
        .execute(conn)?;
        Ok(ids)
    }
}
