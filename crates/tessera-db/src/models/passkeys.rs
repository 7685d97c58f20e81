use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::passkeys;

/// A registered passkey (issue 21).
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = passkeys, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: i64,
    /// The credential id, base64url without padding.
    pub credential_id: String,
    /// The WebAuthn user handle (a UUID) the authenticator keeps for this user.
    pub user_handle: String,
    pub name: String,
    /// webauthn-rs's serialised `Passkey`.
    pub credential: String,
    pub counter: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl PasskeyRow {
    pub fn insert(conn: &mut DbConnection, row: &PasskeyRow) -> Result<(), DbError> {
        diesel::insert_into(passkeys::table).values(row).execute(conn)?;
        Ok(())
    }

    /// A user's passkeys, oldest first.
    pub fn of_user(conn: &mut DbConnection, user_id: i64) -> Result<Vec<PasskeyRow>, DbError> {
        Ok(passkeys::table
            .filter(passkeys::user_id.eq(user_id))
            .order((passkeys::created_at.asc(), passkeys::id.asc()))
            .load(conn)?)
    }

    pub fn count_of_user(conn: &mut DbConnection, user_id: i64) -> Result<i64, DbError> {
        Ok(passkeys::table
            .filter(passkeys::user_id.eq(user_id))
            .count()
            .get_result(conn)?)
    }

    pub fn by_credential_id(
        conn: &mut DbConnection,
        credential_id: &str,
    ) -> Result<Option<PasskeyRow>, DbError> {
        Ok(passkeys::table
            .filter(passkeys::credential_id.eq(credential_id))
            .first(conn)
            .optional()?)
    }

    /// Renames one of the user's passkeys; false when the user has no such passkey.
    pub fn rename(conn: &mut DbConnection, user_id: i64, id: &str, name: &str) -> Result<bool, DbError> {
        let n = diesel::update(passkeys::table.find(id))
            .filter(passkeys::user_id.eq(user_id))
            .set(passkeys::name.eq(name))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Deletes one of the user's passkeys; false when the user has no such passkey.
    pub fn delete(conn: &mut DbConnection, user_id: i64, id: &str) -> Result<bool, DbError> {
        let n = diesel::delete(passkeys::table.find(id))
            .filter(passkeys::user_id.eq(user_id))
            .execute(conn)?;
        Ok(n == 1)
    }

    pub fn delete_all_of_user(conn: &mut DbConnection, user_id: i64) -> Result<usize, DbError> {
        Ok(diesel::delete(passkeys::table.filter(passkeys::user_id.eq(user_id))).execute(conn)?)
    }

    /// Records a sign-in: the counter only moves forward, and true for exactly one caller whose counter is
    /// above the stored one (or both are 0: an authenticator without a counter), so two replicas cannot
    /// both accept the same count.
    pub fn record_use(
        conn: &mut DbConnection,
        id: &str,
        seen_counter: i64,
        new_counter: i64,
        credential: &str,
        now: i64,
    ) -> Result<bool, DbError> {
        let n = diesel::update(passkeys::table.find(id))
            .filter(passkeys::counter.eq(seen_counter))
            .set((
                passkeys::counter.eq(new_counter),
                passkeys::credential.eq(credential),
                passkeys::last_used_at.eq(now),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }
}
