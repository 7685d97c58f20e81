//! Browser sessions: login, logout, and listing or ending one's sessions.

pub mod login;
pub mod logout;
pub mod sessions;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tessera_proto::users::LoginResponse;
use tessera_service::login::LoginFailure;

use crate::cookies::login_cookies;
use crate::error::ApiError;
use crate::AppState;

/// Signs in with a username and password and sets the session cookies (a new session every time).
pub async fn sign_in(
    state: &AppState,
    req: &HttpRequest,
    username: &str,
    password: &str,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let user = s
        .verify_login(username, password, "session")
        .await
        .map_err(login_error)?;
    let ua = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ip = req.peer_addr().map(|a| a.ip().to_string());
    let session = s.create_session(&user, ua, ip).await?;
    let mut res = HttpResponse::Ok();
    for c in login_cookies(
        session.secret,
        session.csrf.clone(),
        session.max_age_secs,
        &s.settings.session,
    ) {
        res.cookie(c);
    }
    Ok(res.json(LoginResponse {
        msg: "Successfully logged in".into(),
        csrf_token: session.csrf,
    }))
}

pub fn login_error(e: LoginFailure) -> ApiError {
    match e {
        LoginFailure::BadCredentials => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "invalid username or password",
        ),
        LoginFailure::PasswordLoginDisabled => ApiError::new(
            StatusCode::FORBIDDEN,
            "password_login_disabled",
            "password login is disabled",
        ),
        LoginFailure::Service(e) => e.into(),
    }
}
