//! Users, sessions and permissions under `/api` (RomM's field names).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /api/users/me`: `oauth_scopes` are the calling credential's effective scopes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct UserMe {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub enabled: bool,
    pub role: String,
    pub permission_group_id: Option<i64>,
    pub oauth_scopes: Vec<String>,
    pub last_login: Option<String>,
    pub last_active: Option<String>,
    pub current_device_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// RomM's avatar location ("" when none; the image is at `/api/users/{id}/avatar`).
    pub avatar_path: String,
    pub ra_username: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub ra_progression: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub ui_settings: Option<serde_json::Value>,
    /// The account's second factors (issue 21).
    pub second_factor: SecondFactorView,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct SecondFactorView {
    pub totp: bool,
    /// Registered passkeys.
    pub passkeys: u32,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
}

/// `POST /api/users/me/totp`: the current password proves the owner is at the keyboard.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TotpBeginRequest {
    pub current_password: String,
}

/// A new TOTP enrolment: add it to an authenticator app, then confirm with a code.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrolmentView {
    /// Base32, for typing in.
    pub secret: String,
    pub otpauth_uri: String,
    /// The `otpauth_uri` as an SVG QR code.
    pub qr_svg: String,
}

/// A current code of the authenticator (or, to remove TOTP, a recovery code).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TotpCodeRequest {
    pub code: String,
}

/// Shown once: each works once, where a code is asked, when the authenticator is lost.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodesView {
    pub recovery_codes: Vec<String>,
}

/// `POST /api/users/me/passkeys/options`: the current password proves the owner is at the keyboard.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PasskeyOptionsRequest {
    pub current_password: String,
}

/// A started WebAuthn ceremony: pass `options.publicKey` (binary fields base64url) to
/// `navigator.credentials.create()` or `.get()`, and send the answer back with `challenge_id`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PasskeyCeremonyView {
    pub challenge_id: String,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// `POST /api/users/me/passkeys`: the authenticator's answer to the registration options.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PasskeyRegisterRequest {
    pub challenge_id: String,
    /// A name to tell this passkey from the others ("Phone", "YubiKey"), 1 to 64 characters.
    pub name: String,
    /// The `PublicKeyCredential` as JSON (id, rawId, type, response with clientDataJSON and
    /// attestationObject, base64url).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PasskeyRenameRequest {
    pub name: String,
}

/// A registered passkey (its key material never leaves the server).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct MeUpdateRequest {
    pub email: Option<String>,
    pub current_password: Option<String>,
    pub new_password: Option<String>,
    #[serde(default)]
    pub revoke_client_tokens: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UserCreateRequest {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    /// `user` or `admin` (`viewer`/`editor` are read as `user`).
    pub role: Option<String>,
    pub permission_group_id: Option<i64>,
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct UserUpdateRequest {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::double_option")]
    #[schema(value_type = Option<i64>)]
    pub permission_group_id: Option<Option<i64>>,
    pub enabled: Option<bool>,
    /// An admin may vouch for the email (needed to link upstream OIDC accounts by email).
    pub email_verified: Option<bool>,
    /// RomM's RetroAchievements user name.
    pub ra_username: Option<String>,
    /// RomM's web-app settings: a JSON object (or, as RomM's form sends it, its text), at most 16 KiB.
    #[schema(value_type = Option<Object>)]
    pub ui_settings: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The second factor of an account that has one: the authenticator's current code or a recovery code.
    #[serde(default)]
    pub otp: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct LoginResponse {
    pub msg: String,
    /// Also set as the CSRF cookie (`tessera_csrf`; `session.csrf_cookie_name`); send it as `X-CSRF-Token`
    /// (`session.csrf_header_names`) on cookie-authenticated writes.
    pub csrf_token: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct MessageResponse {
    pub msg: String,
    /// After an upstream-OIDC session: where to sign out at the provider too (RP-initiated logout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc_logout_url: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub current: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct GrantView {
    pub entity: String,
    pub action: String,
    #[serde(default)]
    pub own_only: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct OverrideView {
    pub entity: String,
    pub action: String,
    #[serde(default)]
    pub own_only: bool,
    /// `grant` or `revoke`.
    pub effect: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct GroupView {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub is_default: bool,
    pub grants: Vec<GrantView>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupRequest {
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub grants: Vec<GrantView>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct UserPermissionsView {
    pub permission_group_id: Option<i64>,
    pub overrides: Vec<OverrideView>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DefaultGroupRequest {
    pub group_id: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct CatalogView {
    pub scopes: Vec<String>,
    pub entities: Vec<String>,
    pub actions: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct MyPermissions {
    pub role: String,
    pub permission_group_id: Option<i64>,
    /// What the user may do at all.
    pub rights: Vec<String>,
    /// What this credential may do: its scopes ∩ the rights.
    pub effective: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessCheckRequest {
    pub user_id: Option<i64>,
    pub token: Option<String>,
    pub entity: String,
    pub action: String,
    pub owner_id: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct AccessCheckResponse {
    pub allowed: bool,
    pub reason: String,
}

/// `POST /api/users/invite-link`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct InviteLinkRequest {
    /// `user` (default) or `admin`; `viewer` and `editor` mean `user`.
    pub role: Option<String>,
    /// Seconds, 60 to 2,592,000 (30 days); default 7 days.
    pub expires_in: Option<i64>,
}

/// The invite, shown once: only its digest is stored.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InviteLink {
    pub token: String,
    pub url: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// `POST /api/users/register`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub username: String,
    pub email: Option<String>,
    pub password: String,
    pub token: String,
}

/// `POST /api/forgot-password`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ForgotPasswordRequest {
    pub username: String,
}

/// `POST /api/reset-password`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ResetPasswordRequest {
    pub token: String,
    pub new_password: String,
}
