use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::users::MessageResponse;

use crate::cookies::{logout_cookies, session_cookie};
use crate::error::ApiError;
use crate::AppState;

/// Ends the current session and clears its cookies (a cookie write: the CSRF token is required).
#[utoipa::path(post, path = "/api/logout", tag = "sessions",
    responses((status = 200, body = MessageResponse), (status = 403, body = Problem)))]
pub async fn logout(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let mut oidc_logout_url = None;
    if let Some(c) = session_cookie(&req, &state.services.settings.session) {
        if let Some(id_token) = s.end_session(c).await? {
            oidc_logout_url = s.oidc_logout_url(&id_token).await;
        }
    }
    let mut res = HttpResponse::Ok();
    for c in logout_cookies(&s.settings.session) {
        res.cookie(c);
    }
    Ok(res.json(MessageResponse {
        msg: "Successfully logged out".into(),
        oidc_logout_url,
    }))
}

/// The same as `/api/logout`.
#[utoipa::path(post, path = "/api/auth/logout", tag = "sessions",
    responses((status = 200, body = MessageResponse), (status = 403, body = Problem)))]
pub async fn auth_logout(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    logout(state, req).await
}
