use actix_web::{web, HttpResponse};
use tessera_core::UnixTime;
use tessera_proto::problem::Problem;
use tessera_proto::users::{MeUpdateRequest, UserMe};
use tessera_service::accounts::MeUpdate;
use tessera_service::identity::{CredentialKind, Identity};

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::principal_of;
use crate::AppState;

async fn me_view(state: &AppState, id: &Identity) -> Result<UserMe, ApiError> {
    let p = principal_of(id)?;
    let oauth_scopes: Vec<String> = state
        .services
        .catalog
        .names(id.scopes)
        .into_iter()
        .map(str::to_owned)
        .collect();
    // The kiosk and no-auth identities have no row: they are described as RomM describes its kiosk user.
    if matches!(id.kind, CredentialKind::Kiosk | CredentialKind::NoAuth) {
        let epoch = UnixTime(0).to_rfc3339();
        return Ok(UserMe {
            id: p.user_id,
            username: p.username.clone(),
            email: None,
            email_verified: false,
            enabled: true,
            role: p.role.as_str().to_owned(),
            permission_group_id: None,
            oauth_scopes,
            last_login: None,
            last_active: None,
            current_device_id: None,
            created_at: epoch.clone(),
            updated_at: epoch,
            avatar_path: String::new(),
            ra_username: None,
            ra_progression: None,
            ui_settings: None,
            second_factor: Default::default(),
        });
    }
    let u = state.services.get_user(p.user_id).await?;
    let factors = state.services.second_factor_status(u.id).await?;
    let ui_settings = crate::handlers::views::ui_settings(&u);
    let t = |s: i64| UnixTime(s).to_rfc3339();
    Ok(UserMe {
        id: u.id,
        username: u.username,
        email: u.email,
        email_verified: u.email_verified,
        enabled: u.enabled,
        role: u.role,
        permission_group_id: u.permission_group_id,
        oauth_scopes,
        last_login: u.last_login.map(t),
        last_active: u.last_active.map(t),
        current_device_id: id.device_id.as_deref().map(str::to_owned),
        created_at: t(u.created_at),
        updated_at: t(u.updated_at),
        ui_settings,
        avatar_path: u.avatar_path,
        ra_username: u.ra_username,
        ra_progression: None,
        second_factor: tessera_proto::users::SecondFactorView {
            totp: factors.totp,
            passkeys: u32::try_from(factors.passkeys).unwrap_or(u32::MAX),
            recovery_codes_left: factors.recovery_codes_left,
        },
    })
}

/// Me, with `oauth_scopes` = this credential's effective scopes (`me.read`).
#[utoipa::path(get, path = "/api/users/me", tag = "users", security(("oauth2" = ["me.read"])),
    responses((status = 200, body = UserMe), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn get(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.read"])?;
    Ok(HttpResponse::Ok().json(me_view(&state, id).await?))
}

/// Changes my email or password (`me.write`; `current_password` required). A new password ends my other
/// sessions and revokes refresh families and earlier access tokens; client tokens only when asked.
#[utoipa::path(put, path = "/api/users/me", tag = "users", security(("oauth2" = ["me.write"])), request_body = MeUpdateRequest,
    responses((status = 200, body = UserMe), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<MeUpdateRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    state
        .services
        .update_me(
            id,
            MeUpdate {
                email: req.email,
                current_password: req.current_password,
                new_password: req.new_password,
                revoke_client_tokens: req.revoke_client_tokens,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(me_view(&state, id).await?))
}
