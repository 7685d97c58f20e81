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
