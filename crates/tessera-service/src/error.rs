use tessera_core::account::AccountRuleError;
use tessera_proto::problem::FieldError;

/// What a use case can refuse or fail with; `tessera-http/src/error.rs` alone turns it into HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid fields")]
    Validation(Vec<FieldError>),
    #[error("first-admin setup is closed: an administrator exists")]
    SetupClosed,
    #[error("first-admin setup is disabled by configuration")]
    SetupDisabled,
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// RomM's `POST /api/devices` with `allow_existing: false` found a device with the same fingerprint.
    #[error("a device with this fingerprint already exists")]
    DeviceExists { device_id: String },
    #[error("{0}")]
    Forbidden(String),
    /// A one-use link or code that was used, expired or never existed.
    #[error("{0}")]
    Gone(String),
    #[error("at most {0} live client tokens per user")]
    TokenLimit(i64),
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: i64 },
    /// The credential's scopes do not cover what it tries to grant.
    #[error("scopes beyond the calling credential: {}", excess.join(" "))]
    ScopeExcess { excess: Vec<String> },
    #[error("a dependency is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Db(#[from] tessera_db::DbError),
    #[error(transparent)]
    Password(#[from] tessera_crypto::PasswordError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<tessera_db::diesel_error::Error> for ServiceError {
    fn from(e: tessera_db::diesel_error::Error) -> Self {
        ServiceError::Db(tessera_db::DbError::Query(e))
    }
}

impl ServiceError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    pub fn account_rule(field: &str, e: &AccountRuleError) -> Self {
        Self::field(field, e.to_string())
    }

    /// Minting never widens: `ScopeExcess` naming what `handed` holds beyond `ceiling` (the acting
    /// credential's effective scopes), or Ok when it holds nothing more.
    pub fn unless_within(
        catalog: &tessera_core::ScopeCatalog,
        handed: tessera_core::ScopeSet,
        ceiling: tessera_core::ScopeSet,
    ) -> Result<(), Self> {
        let excess = handed.minus(ceiling);
        if excess.is_empty() {
            return Ok(());
        }
        Err(ServiceError::ScopeExcess {
            excess: catalog.names(excess).into_iter().map(str::to_owned).collect(),
        })
    }
}
