use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::authorization_codes;

/// An authorization code (OpenID Connect, RFC 6749 §4.1), stored by digest; one use.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AuthorizationCode {
    pub digest: Vec<u8>,
    pub client_id: String,
    pub user_id: i64,
    /// The Tessera session the user approved from: the ID token's `sid`, ended by RP-initiated logout.
    pub session_id: Option<String>,
    pub redirect_uri: String,
    /// The PKCE S256 challenge (base64url of SHA-256 of the verifier).
    pub code_challenge: Option<String>,
    /// Tessera's own scopes, as text.
    pub scopes: String,
    /// The OpenID scopes asked for (`openid profile email offline_access`), as text.
    pub oidc_scopes: String,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The refresh family the redemption started: revoked when the code is presented again.
    pub family_id: Option<String>,
}

impl AuthorizationCode {
    pub fn insert(conn: &mut DbConnection, row: &AuthorizationCode) -> Result<(), DbError> {
        diesel::insert_into(authorization_codes::table)
            .values(row)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, digest: &[u8]) -> Result<Option<AuthorizationCode>, DbError> {
        Ok(authorization_codes::table.find(digest).first(conn).optional()?)
    }

    /// Marks the code used by the family it started; exactly one of two racing redemptions sees `true`.
    pub fn redeem(
        conn: &mut DbConnection,
        digest: &[u8],
        family_id: &str,
        now: i64,
    ) -> Result<bool, DbError> {
        let n = diesel::update(authorization_codes::table)
            .filter(authorization_codes::digest.eq(digest))
            .filter(authorization_codes::used_at.is_null())
            .set((
                authorization_codes::used_at.eq(now),
                authorization_codes::family_id.eq(family_id),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Drops codes that expired before `cutoff` (used ones are kept that long to catch a replay).
    pub fn delete_expired(conn: &mut DbConnection, cutoff: i64) -> Result<usize, DbError> {
        Ok(
            diesel::delete(authorization_codes::table.filter(authorization_codes::expires_at.lt(cutoff)))
                .execute(conn)?,
        )
    }
}
