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

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct DeviceView {
    pub id: String,
    pub user_id: i64,
    pub client_device_identifier: String,
    pub name: String,
    pub client: String,
    pub platform: Option<String>,
    pub client_version: Option<String>,
    pub created_at: String,
    pub last_seen: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceUpdateRequest {
    pub name: String,
}
