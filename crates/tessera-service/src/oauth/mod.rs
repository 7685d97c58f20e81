//! OAuth 2.0: client authentication, the token endpoint's grants, introspection, revocation, clients.

pub mod authorize;
pub mod backchannel;
pub mod clients;
mod code_grant;
pub mod end_session;
pub mod grants;
pub mod id_token;
pub mod introspect;
mod mint;
pub mod revoke;

use tessera_core::ScopeSet;

pub use clients::{AuthedClient, ClientAuth, ClientAuthMethod, PresentedClient};
pub use grants::{IssuedTokens, TokenRequest};

/// The built-in public client used when a request names none (RomM's clients do not).
pub const CLI_CLIENT_ID: &str = "tessera-cli";

/// OIDC scopes standard libraries add; accepted and ignored by the other grants (a refresh token is
/// always issued there). The authorization code grant gives them their meaning (`authorize::OIDC_SCOPES`).
pub const IGNORED_SCOPES: [&str; 5] = ["openid", "profile", "email", "groups", "offline_access"];

pub const GRANT_PASSWORD: &str = "password";
pub const GRANT_REFRESH: &str = "refresh_token";
pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_TYPES: [&str; 5] = [
    GRANT_AUTHORIZATION_CODE,
    GRANT_PASSWORD,
    GRANT_REFRESH,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_DEVICE_CODE,
];

/// RFC 6749 §5.2 outcomes; `tessera-http` renders them.
#[derive(Debug, thiserror::Error)]
pub enum OAuthFailure {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("client authentication failed")]
    InvalidClient,
    /// Client credentials that cannot be read (not Basic, not base64, not `id:secret`): `invalid_client`.
    #[error("{0}")]
    MalformedClient(&'static str),
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    /// The password grant while `auth.password_login = false`: `unauthorized_client`, a 400 on
    /// `/oauth/token` (RFC 6749) and a 403 on RomM's `/api/token` (API.md §9).
    #[error("password login is disabled")]
    PasswordLoginDisabled,
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    /// The password grant for a user with a second factor, without `otp` (as established servers answer).
    #[error("a second factor is required: send the authenticator's code as otp")]
    MfaRequired,
    #[error("{0}")]
    InvalidScope(String),
    #[error("the user has not yet approved the device")]
    AuthorizationPending,
    #[error("polling too fast; wait {0} s between polls")]
    SlowDown(i64),
    #[error("the user denied the request")]
    AccessDenied,
    #[error("the device code has expired")]
    ExpiredToken,
    #[error(transparent)]
    Service(#[from] crate::ServiceError),
}

impl From<tessera_db::DbError> for OAuthFailure {
    fn from(e: tessera_db::DbError) -> Self {
        OAuthFailure::Service(e.into())
    }
}

impl From<tessera_db::diesel_error::Error> for OAuthFailure {
    fn from(e: tessera_db::diesel_error::Error) -> Self {
        OAuthFailure::Service(e.into())
    }
}

impl From<tessera_crypto::PasswordError> for OAuthFailure {
    fn from(e: tessera_crypto::PasswordError) -> Self {
        OAuthFailure::Service(e.into())
    }
}

impl OAuthFailure {
    pub fn code(&self) -> &'static str {
        match self {
            OAuthFailure::InvalidRequest(_) => "invalid_request",
            OAuthFailure::InvalidClient | OAuthFailure::MalformedClient(_) => "invalid_client",
            OAuthFailure::InvalidGrant(_) => "invalid_grant",
            OAuthFailure::UnauthorizedClient(_) | OAuthFailure::PasswordLoginDisabled => {
                "unauthorized_client"
            }
            OAuthFailure::UnsupportedGrantType => "unsupported_grant_type",
            OAuthFailure::MfaRequired => "mfa_required",
            OAuthFailure::InvalidScope(_) => "invalid_scope",
            OAuthFailure::AuthorizationPending => "authorization_pending",
            OAuthFailure::SlowDown(_) => "slow_down",
            OAuthFailure::AccessDenied => "access_denied",
            OAuthFailure::ExpiredToken => "expired_token",
            OAuthFailure::Service(_) => "server_error",
        }
    }
}

/// Parses a `scope` parameter: unknown names are `invalid_scope`; OIDC scopes are dropped.
/// None means "not asked": the caller decides the default.
pub fn parse_requested_scope(
    catalog: &tessera_core::ScopeCatalog,
    scope: Option<&str>,
) -> Result<Option<ScopeSet>, OAuthFailure> {
    Ok(parse_named_scope(catalog, scope)?.map(|s| catalog.normalize(s)))
}

/// The scopes a request names, before implications are added (None when it names none).
pub fn parse_named_scope(
    catalog: &tessera_core::ScopeCatalog,
    scope: Option<&str>,
) -> Result<Option<ScopeSet>, OAuthFailure> {
    let Some(text) = scope else { return Ok(None) };
    let names: Vec<&str> = text
        .split([' ', '+'])
        .filter(|n| !n.is_empty() && !IGNORED_SCOPES.contains(n))
        .collect();
    if names.is_empty() {
        return Ok(None);
    }
    catalog
        .parse_names(names)
        .map(Some)
        .map_err(|e| OAuthFailure::InvalidScope(e.to_string()))
}
