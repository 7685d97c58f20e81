//! Browser sessions: login, logout, and listing or ending one's sessions.

pub mod login;
pub mod logout;
pub mod reset;
pub mod sessions;

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use tessera_proto::users::LoginResponse;

use crate::cookies::login_cookies;
use crate::error::ApiError;
use crate::AppState;

/// Starts a session for `user` and adds its cookies to `res` (a new session id at every login).
pub async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    user_id: i64,
    res: &mut HttpResponseBuilder,
    oidc_id_token: Option<String>,
) -> Result<String, ApiError> {
    let s = &state.services;
    let ua = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ip = Some(crate::client_ip::client_ip(
        req,
        &s.settings.server.trusted_proxies,
    ));
    let session = s.create_session(user_id, ua, ip, oidc_id_token).await?;
    let csrf = session.csrf.clone();
    for c in login_cookies(
        session.secret,
        session.csrf,
        session.max_age_secs,
        &s.settings.session,
    ) {
        res.cookie(c);
    }
    Ok(csrf)
}

/// Signs in with a username and password and answers with the session cookies.
pub async fn sign_in(
    state: &AppState,
    req: &HttpRequest,
    username: &str,
    password: &str,
    otp: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .services
        .verify_login(
            username,
            password,
            tessera_service::login::SecondFactor::Code(otp),
            "session",
            &crate::client_ip::client_ip(req, &state.services.settings.server.trusted_proxies),
        )
        .await?;
    let mut res = HttpResponse::Ok();
    let csrf = start_session(state, req, user.id, &mut res, None).await?;
    Ok(res.json(LoginResponse {
        msg: "Successfully logged in".into(),
        csrf_token: csrf,
    }))
}
