//! The few statements that differ between backends, each arm commented with why.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::DbError;
use crate::schema::setup_state;

/// Runs `f` in a write transaction.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    E: From<DbError> + From<diesel::result::Error>,
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
{
    match conn {
        // PostgreSQL upgrades row locks itself; a plain transaction is enough.
        DbConnection::Postgres(_) => conn.transaction(f),
        // SQLite: BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait on
        // busy_timeout instead of failing with SQLITE_BUSY when a read lock is upgraded.
        DbConnection::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE").map_err(DbError::from)?;
            match f(conn) {
                Ok(v) => {
                    conn.batch_execute("COMMIT").map_err(DbError::from)?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(e)
                }
            }
        }
    }
}

/// Inserts the setup singleton unless it exists (an admin made by the CLI also closes setup).
/// Returns true when this call inserted it.
pub fn insert_setup_row_if_absent(
    conn: &mut DbConnection,
    admin: Option<i64>,
    now: i64,
) -> Result<bool, DbError> {
    let row = (
        setup_state::id.eq(1_i64),
        setup_state::admin_user_id.eq(admin),
        setup_state::completed_at.eq(now),
    );
    // Both arms are `ON CONFLICT DO NOTHING`; diesel cannot write it once against the enum.
    let n = match conn {
        DbConnection::Postgres(c) => diesel::insert_into(setup_state::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(setup_state::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(n == 1)
}

/// Inserts a revocation unless it is already recorded.
pub fn insert_ignoring_conflict(
    conn: &mut DbConnection,
    row: &crate::models::revoked_access_tokens::RevokedAccessToken,
) -> Result<(), DbError> {
    use crate::schema::revoked_access_tokens;
    // `ON CONFLICT DO NOTHING` in both arms; diesel cannot write it once against the enum.
    match conn {
        DbConnection::Postgres(c) => diesel::insert_into(revoked_access_tokens::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(revoked_access_tokens::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(())
}
