//! Row-to-wire conversions shared by handlers.

use tessera_core::UnixTime;
use tessera_db::models::users::User;
use tessera_proto::setup::UserView;

pub fn user_view(u: &User) -> UserView {
    UserView {
        id: u.id,
        username: u.username.clone(),
        email: u.email.clone(),
        email_verified: u.email_verified,
        enabled: u.enabled,
        role: u.role.clone(),
        permission_group_id: u.permission_group_id,
        last_login: u.last_login.map(|t| UnixTime(t).to_rfc3339()),
        last_active: u.last_active.map(|t| UnixTime(t).to_rfc3339()),
        created_at: UnixTime(u.created_at).to_rfc3339(),
        updated_at: UnixTime(u.updated_at).to_rfc3339(),
        avatar_path: u.avatar_path.clone(),
        ra_username: u.ra_username.clone(),
        ra_progression: None,
        ui_settings: ui_settings(u),
    }
}

/// The stored `ui_settings` text as JSON (None when unset or, impossibly, unreadable).
pub fn ui_settings(u: &User) -> Option<serde_json::Value> {
    u.ui_settings
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
}

/// The user behind a credential; the service key and machine tokens have none.
pub fn principal_of(
    id: &tessera_service::identity::Identity,
) -> Result<&tessera_service::identity::Principal, crate::error::ApiError> {
    id.principal.as_ref().ok_or_else(|| {
        crate::error::ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "forbidden",
            "this credential does not belong to a user",
        )
    })
}
