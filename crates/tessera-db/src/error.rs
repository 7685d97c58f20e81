use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme: {0:?} (expected sqlite:// or postgres://)")]
    UnsupportedUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// Refused without trying: the breaker is open (see `breaker`).
    #[error("the database is unreachable (answering at once until a probe gets through)")]
    Unreachable,
    #[error("database query failed: {0}")]
    Query(#[from] DieselError),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl DbError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
        )
    }

    /// The database could not be reached or the connection broke mid-query: a 503 for the caller,
    /// never a 500, and the pool replaces the connection on its next checkout.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Connect(_) | DbError::Pool(_) | DbError::Unreachable => true,
            DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)) => true,
            DbError::Query(DieselError::BrokenTransactionManager) => true,
            // libpq reports a cut socket with these texts when it cannot classify it.
            DbError::Query(DieselError::DatabaseError(_, info)) => {
                let m = info.message();
                m.contains("server closed the connection")
                    || m.contains("connection to server")
                    || m.contains("no connection to the server")
                    || m.contains("terminating connection")
            }
            _ => false,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, DbError::Query(DieselError::NotFound))
    }
}
