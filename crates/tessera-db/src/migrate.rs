//! Embedded migrations, one tree per backend with identical folder names.

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::connection::DbConnection;
use crate::error::DbError;

pub const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

fn merr(e: impl std::fmt::Display) -> DbError {
    DbError::Migration(e.to_string())
}

/// Applies pending migrations; returns how many ran.
pub fn run_pending(conn: &mut DbConnection) -> Result<usize, DbError> {
    match conn {
        DbConnection::Postgres(c) => {
            // Two replicas starting together must not both migrate: a session advisory lock, keyed by
            // schema so separate schemas (tests, tenants) do not wait on each other.
            c.batch_execute("SELECT pg_advisory_lock(hashtext(current_schema()))")?;
            let res = c.run_pending_migrations(POSTGRES).map(|v| v.len()).map_err(merr);
            c.batch_execute("SELECT pg_advisory_unlock(hashtext(current_schema()))")?;
            res
        }
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map(|v| v.len()).map_err(merr),
    }
}

/// Reverts every migration (tests check that up → down → up leaves the same schema).
pub fn revert_all(conn: &mut DbConnection) -> Result<usize, DbError> {
    match conn {
        DbConnection::Postgres(c) => c.revert_all_migrations(POSTGRES).map(|v| v.len()).map_err(merr),
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|v| v.len()).map_err(merr),
    }
}

/// The names of the migrations not applied yet (`tessera migrate --dry-run`, `tessera doctor`).
pub fn pending_names(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    Ok(match conn {
        DbConnection::Postgres(c) => c
            .pending_migrations(POSTGRES)
            .map_err(merr)?
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
        DbConnection::Sqlite(c) => c
            .pending_migrations(SQLITE)
            .map_err(merr)?
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
    })
}

/// The database server's clock, in Unix seconds (doctor compares it with ours).
pub fn database_now(conn: &mut DbConnection) -> Result<i64, DbError> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Now {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        now: i64,
    }
    let sql = match conn {
        DbConnection::Postgres(_) => "SELECT CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) AS now",
        DbConnection::Sqlite(_) => "SELECT CAST(strftime('%s','now') AS BIGINT) AS now",
    };
    Ok(diesel::sql_query(sql).get_result::<Now>(conn)?.now)
}

/// Whether migrations are still pending.
pub fn has_pending(conn: &mut DbConnection) -> Result<bool, DbError> {
    match conn {
        DbConnection::Postgres(c) => c.has_pending_migration(POSTGRES).map_err(merr),
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE).map_err(merr),
    }
}
