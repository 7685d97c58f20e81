use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::ops::{AuthInfo, Heartbeat, OidcInfo};
use tessera_proto::setup::SetupStatus;

use crate::error::ApiError;
use crate::AppState;

/// What a client needs before signing in (RomM's heartbeat shape). With a session cookie it also sets that
/// session's CSRF cookie again: RomM's web app deletes the cookie and calls the heartbeat to get it back
/// (`refetchCSRFToken`). The token is derived from the cookie presented, so it is worth nothing to anyone
/// who does not already hold that session.
#[utoipa::path(get, path = "/api/heartbeat", tag = "operations", responses((status = 200, body = Heartbeat)))]
pub async fn heartbeat(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let needs_setup = s.needs_setup().await?;
    let mut res = HttpResponse::Ok();
    if let Some(session) = crate::cookies::session_cookie(&req, &s.settings.session) {
        res.cookie(crate::cookies::csrf_cookie(
            s.csrf_token(session),
            &s.settings.session,
        ))
        // A per-session Set-Cookie must never be stored by a shared cache and handed to someone else.
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"));
    }
    Ok(res.json(Heartbeat {
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
