use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::{recovery_codes, user_totp};

/// A user's TOTP enrolment (issue 21): confirmed once a first code was right.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_totp, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct UserTotp {
    pub user_id: i64,
    /// The secret sealed with the key-encryption key.
    pub secret_sealed: Vec<u8>,
    pub confirmed_at: Option<i64>,
    /// The newest 30-second step a code was accepted for.
    pub last_step: Option<i64>,
    pub created_at: i64,
}

impl UserTotp {
    pub fn find(conn: &mut DbConnection, user_id: i64) -> Result<Option<UserTotp>, DbError> {
        Ok(user_totp::table.find(user_id).first(conn).optional()?)
    }

    /// Starts (or restarts) an enrolment: replaces an unconfirmed secret.
    pub fn replace(conn: &mut DbConnection, row: &UserTotp) -> Result<(), DbError> {
        diesel::delete(user_totp::table.find(row.user_id)).execute(conn)?;
        diesel::insert_into(user_totp::table).values(row).execute(conn)?;
        Ok(())
    }

    /// Accepts a code of `step`: true for exactly one caller, and only if no code of this or a later step
    /// was accepted before (no replay, also across replicas).
    pub fn accept_step(conn: &mut DbConnection, user_id: i64, step: i64) -> Result<bool, DbError> {
        let n = diesel::update(user_totp::table.find(user_id))
            .filter(user_totp::last_step.is_null().or(user_totp::last_step.lt(step)))
            .set(user_totp::last_step.eq(step))
            .execute(conn)?;
        Ok(n == 1)
    }

    pub fn confirm(conn: &mut DbConnection, user_id: i64, now: i64) -> Result<(), DbError> {
        diesel::update(user_totp::table.find(user_id))
            .set(user_totp::confirmed_at.eq(now))
            .execute(conn)?;
        Ok(())
    }

    /// Removes the enrolment and its recovery codes; true when there was one.
    pub fn remove(conn: &mut DbConnection, user_id: i64) -> Result<bool, DbError> {
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
        Ok(diesel::delete(user_totp::table.find(user_id)).execute(conn)? == 1)
    }
}

/// One recovery code, by digest; usable once.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = recovery_codes, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RecoveryCode {
    pub user_id: i64,
    pub digest: Vec<u8>,
    pub used_at: Option<i64>,
}

impl RecoveryCode {
    /// Replaces a user's recovery codes with new ones.
    pub fn replace_all(conn: &mut DbConnection, user_id: i64, digests: &[Vec<u8>]) -> Result<(), DbError> {
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
        for d in digests {
            diesel::insert_into(recovery_codes::table)
                .values(&RecoveryCode {
                    user_id,
                    digest: d.clone(),
                    used_at: None,
                })
                .execute(conn)?;
        }
        Ok(())
    }

    /// Uses a code: true for exactly one caller, and only for an unused code of this user.
    pub fn consume(conn: &mut DbConnection, user_id: i64, digest: &[u8], now: i64) -> Result<bool, DbError> {
        let n = diesel::update(recovery_codes::table.find((user_id, digest)))
            .filter(recovery_codes::used_at.is_null())
            .set(recovery_codes::used_at.eq(now))
            .execute(conn)?;
        Ok(n == 1)
    }

    pub fn unused_count(conn: &mut DbConnection, user_id: i64) -> Result<i64, DbError> {
        Ok(recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::used_at.is_null())
            .count()
            .get_result(conn)?)
    }
}
