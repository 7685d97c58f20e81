//! RFC 6749 §5.2 / RFC 8628 §3.5 error bodies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct OAuthErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// RomM's clients read `detail` on `/api/token` and `/api/auth/device/*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// RFC 6749 §5.1 token response. `/api/token` adds RomM's `expires` and `refresh_expires`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<i64>,
    pub scope: String,
    /// RomM's name for `expires_in` (on `/api/token` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    /// RomM's name for `refresh_expires_in` (on `/api/token` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_expires: Option<i64>,
    /// OpenID Connect ID token (authorization code grant with the `openid` scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The token endpoint's parameters (form or JSON).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenRequestBody {
    pub grant_type: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub device_code: Option<String>,
    /// The authorization_code grant: the code, the redirect URI it was issued for, the PKCE verifier.
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// The password grant's second factor, for a user who has one: a current code or a recovery code.
    pub otp: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// RFC 7662 request.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenParam {
    pub token: String,
    pub token_type_hint: Option<String>,
}

/// RFC 7662 response: `{"active": false}` alone for anything inactive.
///
/// Borrowed from the service's answer: introspection is on a main app's hot path, and copying every field
/// into a new string only to serialize it was a tenth of its profile.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, ToSchema)]
pub struct IntrospectionResponse<'a> {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'a str>,
    /// `access_token`, `refresh_token` or `client_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<&'a str>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct UserInfo {
    pub sub: String,
    pub preferred_username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub role: String,
    pub groups: Vec<String>,
}

/// RFC 8414 / OpenID discovery.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub device_authorization_endpoint: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub grant_types_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub end_session_endpoint: String,
    pub response_modes_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    pub prompt_values_supported: Vec<String>,
    /// RFC 9207: authorization responses carry `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
}

/// An OAuth client as the admin API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct OAuthClientView {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub confidential: bool,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub can_introspect: bool,
    pub builtin: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Where sign-in (authorization code) may return; matched exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return; matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// Receives an OpenID back-channel logout token when a user's session ends.
    pub backchannel_logout_uri: Option<String>,
    /// A trusted first-party app: its users are not asked to consent.
    pub skip_consent: bool,
    /// Shown on the consent page.
    pub logo_uri: Option<String>,
    /// Refresh tokens from the code grant without `offline_access` (a trusted first-party app).
    pub refresh_without_offline_access: bool,
    /// Shown once, right after creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OAuthClientRequest {
    pub client_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub confidential: bool,
    #[serde(default)]
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub can_introspect: bool,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default)]
    pub skip_consent: bool,
    #[serde(default)]
    pub logo_uri: Option<String>,
    #[serde(default)]
    pub refresh_without_offline_access: bool,
}

/// An app a person allowed to sign them in (OpenID Provider consent).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct ConsentView {
    pub client_id: String,
    /// The client's name, or None when the client has since been deleted.
    pub client_name: Option<String>,
    pub scopes: Vec<String>,
    pub created_at: String,
}
