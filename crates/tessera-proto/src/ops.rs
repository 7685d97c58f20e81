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
    /// `ok`; `degraded` (still 200) when the store or the revocation listener is down; `unavailable` (503)
    /// when the database cannot be reached or the process is shutting down.
    pub status: String,
    pub database: String,
    /// `ok` or `degraded`.
    pub store: String,
    /// `ok`, or `degraded` while this replica cannot hear other replicas' revocations (its caches are
    /// bypassed meanwhile).
    pub revocation_listener: String,
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
    /// `serve --no-auth` (development): every request is an anonymous admin.
    pub no_auth: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Heartbeat {
    pub version: String,
    pub setup: SetupStatus,
    pub auth: AuthInfo,
}

/// One security event of `GET /api/audit`, newest first.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct AuditEventView {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// `login.failed`, `refresh.reuse`, `user.updated`, …
    pub kind: String,
    pub user_id: Option<i64>,
    /// Who did it: a user id, `service`, `cli`, or the credential path for failed logins.
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

/// Filters of `GET /api/audit`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events at or after this time (RFC 3339 or Unix seconds).
    pub since: Option<String>,
    /// Only events of this kind.
    pub kind: Option<String>,
    /// Only events about this user.
    pub user_id: Option<i64>,
    /// At most this many events (1–1000, default 100).
    pub limit: Option<i64>,
    /// Only events older than the one with this id: the next page is `before=<last id shown>`.
    pub before: Option<i64>,
}
