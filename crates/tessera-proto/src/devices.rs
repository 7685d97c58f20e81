//! Device authorization (RFC 8628 and RomM's JSON) and device records.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// RFC 8628 §3.2.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceAuthorizationRequest {
    pub client_id: Option<String>,
    pub scope: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceInitRequest {
    pub client_device_identifier: String,
    pub name: String,
    pub client: String,
    pub platform: Option<String>,
    pub client_version: Option<String>,
    #[serde(default)]
    pub requested_scopes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct DeviceInitResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_path: String,
    pub verification_path_complete: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct DevicePending {
    pub client_device_identifier: String,
    pub name: String,
    pub client: String,
    pub platform: Option<String>,
    pub client_version: Option<String>,
    pub requested_scopes: Vec<String>,
    /// What the calling credential may approve: requested ∩ its scopes.
    pub allowed_scopes: Vec<String>,
    pub expires_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceApproveRequest {
    pub user_code: String,
    pub approved_scopes: Vec<String>,
    pub device_name: Option<String>,
    /// `30d`, `90d`, `1y`, `never` or null.
    pub expires_in: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct DeviceApproveResponse {
    pub device_id: String,
    pub device_name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UserCodeRequest {
    pub user_code: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceTokenRequest {
    pub device_code: String,
}

/// RomM's poll success: a client token bound to the device.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct DeviceTokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub device_id: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<String>,
}

/// A device record in RomM's `DeviceSchema`, plus Tessera's `client_device_identifier`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct DeviceView {
    pub id: String,
    pub user_id: i64,
    /// The identifier a device-flow client sent; a device registered through `POST /api/devices` carries its id.
    pub client_device_identifier: String,
    pub name: Option<String>,
    pub platform: Option<String>,
    pub client: Option<String>,
    pub client_version: Option<String>,
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    pub hostname: Option<String>,
    /// `api`, `file_transfer` or `push_pull`.
    pub sync_mode: String,
    pub sync_enabled: bool,
    /// As given, with `ssh_password` and `ssh_key_path` masked as RomM does.
    #[schema(value_type = Option<Object>)]
    pub sync_config: Option<serde_json::Value>,
    pub last_seen: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// RomM's `POST /api/devices` payload.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct DeviceCreateRequest {
    pub name: Option<String>,
    pub platform: Option<String>,
    pub client: Option<String>,
    pub client_version: Option<String>,
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    pub hostname: Option<String>,
    pub sync_mode: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub sync_config: Option<serde_json::Value>,
    /// Answer 200 with a device that matches this one's fingerprint (default true).
    #[serde(default = "yes")]
    pub allow_existing: bool,
    /// Always register a new device (turns `allow_existing` off).
    #[serde(default)]
    pub allow_duplicate: bool,
    /// Accepted for RomM's clients; Tessera keeps no save syncs, so there is nothing to reset.
    #[serde(default)]
    pub reset_syncs: bool,
}

fn yes() -> bool {
    true
}

/// RomM's `DeviceCreateResponse`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct DeviceCreateResponse {
    pub device_id: String,
    pub name: Option<String>,
    pub created_at: String,
}

/// A partial update: absent fields stay, `null` clears a nullable one.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct DeviceUpdateRequest {
    #[serde(default, deserialize_with = "crate::double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::double_option")]
    #[schema(value_type = Option<String>)]
    pub platform: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::double_option")]
    #[schema(value_type = Option<String>)]
    pub client: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::double_option")]
    #[schema(value_type = Option<String>)]
    pub client_version: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::double_option")]
    #[schema(value_type = Option<String>)]
    pub ip_address: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::double_option")]
    #[schema(value_type = Option<String>)]
    pub mac_address: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::double_option")]
    #[schema(value_type = Option<String>)]
    pub hostname: Option<Option<String>>,
    pub sync_enabled: Option<bool>,
    pub sync_mode: Option<String>,
    #[serde(default, deserialize_with = "crate::double_option")]
    #[schema(value_type = Option<Object>)]
    pub sync_config: Option<Option<serde_json::Value>>,
}
