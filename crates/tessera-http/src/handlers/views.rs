//! Row-to-wire conversions shared by handlers.

pub use tessera_service::wire::{ui_settings, user_view};

/// The user behind a credential; the service key and machine tokens have none.
pub fn principal_of(
    id: &tessera_service::identity::Identity,
) -> Result<&tessera_service::identity::Principal, crate::error::ApiError> {
    id.principal.as_deref().ok_or_else(|| {
        crate::error::ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "forbidden",
            "this credential does not belong to a user",
        )
    })
}
