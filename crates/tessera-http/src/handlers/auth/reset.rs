use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::users::{ForgotPasswordRequest, ResetPasswordRequest};

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::principal_of;
use crate::AppState;

/// Always 204, for known and unknown usernames alike; the link is mailed when SMTP is configured.
#[utoipa::path(post, path = "/api/forgot-password", tag = "users", request_body = ForgotPasswordRequest,
    responses((status = 204, description = "accepted (whether or not the user exists)"), (status = 429, body = Problem)))]
pub async fn forgot_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Json(body): web::Json<ForgotPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    let ip = crate::client_ip::client_ip(&req, &s.settings.server.trusted_proxies);
    s.forgot_password(&body.username, &ip).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets a new password with a reset link's token (one use, 10 minutes); ends every session and
/// revokes every token of the user, client tokens included.
#[utoipa::path(post, path = "/api/reset-password", tag = "users", request_body = ResetPasswordRequest,
    responses((status = 204, description = "password changed"), (status = 410, body = Problem), (status = 422, body = Problem)))]
pub async fn reset_password(
    state: web::Data<AppState>,
    web::Json(body): web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .reset_password(&body.token, &body.new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mails me a link that confirms my email address (`me.write`).
#[utoipa::path(post, path = "/api/users/me/verify-email", tag = "users", security(("oauth2" = ["me.write"])),
    responses((status = 204, description = "mail sent"), (status = 401, body = Problem), (status = 409, body = Problem)))]
pub async fn verify_email(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let me = caller.require(&state, &["me.write"])?;
    principal_of(me)?;
    state.services.send_email_verification(me).await?;
    Ok(HttpResponse::NoContent().finish())
}
