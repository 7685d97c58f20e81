use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::setup::SetupStatus;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Health {
    pub status: String,
}

/// `/readyz`: the database decides the status code; the store and listener are reported.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Readiness {
    /// `ok`, or `unavailable` when the database cannot be reached or the process is shutting down.
    pub status: String,
    pub database: String,
    /// `ok` or `degraded`.
    pub store: String,
    pub store_kind: String,
    pub shutting_down: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct OidcInfo {
    pub enabled: bool,
    pub provider: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct AuthInfo {
    pub password_login: bool,
    pub oidc: OidcInfo,
    pub kiosk: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Heartbeat {
    pub version: String,
    pub setup: SetupStatus,
    pub auth: AuthInfo,
}
