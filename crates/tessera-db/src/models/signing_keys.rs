use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::signing_keys;

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct SigningKey {
    pub kid: String,
    pub alg: String,
    pub public_jwk: String,
    pub private_encrypted: Vec<u8>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub verify_until: Option<i64>,
}

impl SigningKey {
    pub fn insert(conn: &mut DbConnection, row: &SigningKey) -> Result<(), DbError> {
        diesel::insert_into(signing_keys::table)
            .values(row)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, key: &str) -> Result<Option<SigningKey>, DbError> {
        Ok(signing_keys::table
            .filter(signing_keys::kid.eq(key))
            .first(conn)
            .optional()?)
    }
}

impl SigningKey {
    /// Keys that can still verify a token at `now` (current ones and retired ones inside their window).
    pub fn live(conn: &mut DbConnection, now: i64) -> Result<Vec<SigningKey>, DbError> {
        Ok(signing_keys::table
            .filter(
                signing_keys::verify_until
                    .is_null()
                    .or(signing_keys::verify_until.ge(now)),
            )
            .order(signing_keys::created_at.asc())
            .load(conn)?)
    }

    pub fn all(conn: &mut DbConnection) -> Result<Vec<SigningKey>, DbError> {
        Ok(signing_keys::table
            .order(signing_keys::created_at.asc())
            .load(conn)?)
    }

    /// Retires every current key: it stops signing and verifies until `verify_until`.
    pub fn retire_current(conn: &mut DbConnection, now: i64, verify_until: i64) -> Result<usize, DbError> {
        Ok(
            diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_null()))
                .set((
                    signing_keys::retired_at.eq(now),
                    signing_keys::verify_until.eq(verify_until),
                ))
                .execute(conn)?,
        )
    }
}
