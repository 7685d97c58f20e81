use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct SetupStatus {
    pub needs_setup: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SetupAdminRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// A user as `/api` shows it (RomM's field names).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    /// Confirmed by a mail link or set by an admin.
    pub email_verified: bool,
    pub enabled: bool,
    pub role: String,
    pub permission_group_id: Option<i64>,
    pub last_login: Option<String>,
    pub last_active: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// RomM's avatar location ("" when none; the image is at `/api/users/{id}/avatar`).
    pub avatar_path: String,
    pub ra_username: Option<String>,
    /// RomM computes it from RetroAchievements; Tessera has none to give.
    #[schema(value_type = Option<Object>)]
    pub ra_progression: Option<serde_json::Value>,
    /// RomM's web-app settings, as stored.
    #[schema(value_type = Option<Object>)]
    pub ui_settings: Option<serde_json::Value>,
}
