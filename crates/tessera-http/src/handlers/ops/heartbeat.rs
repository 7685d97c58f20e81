use actix_web::{web, HttpResponse};
use tessera_proto::ops::{AuthInfo, Heartbeat, OidcInfo};
use tessera_proto::setup::SetupStatus;

use crate::error::ApiError;
use crate::AppState;

/// What a client needs before signing in (RomM's heartbeat shape).
#[utoipa::path(get, path = "/api/heartbeat", tag = "operations", responses((status = 200, body = Heartbeat)))]
pub async fn heartbeat(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let needs_setup = s.needs_setup().await?;
    Ok(HttpResponse::Ok().json(Heartbeat {
        version: env!("CARGO_PKG_VERSION").into(),
        setup: SetupStatus { needs_setup },
        auth: AuthInfo {
            password_login: s.settings.auth.password_login,
            oidc: OidcInfo {
                enabled: s.settings.oidc.is_some(),
                provider: s.settings.oidc.as_ref().map(|o| o.provider_name.clone()),
            },
            kiosk: s.settings.auth.kiosk,
            no_auth: s.settings.auth.no_auth,
        },
    }))
}
