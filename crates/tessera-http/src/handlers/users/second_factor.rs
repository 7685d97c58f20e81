//! `/api/users/me/totp` (enrol, confirm, remove) and `DELETE /api/users/{id}/second-factor` (an admin's
//! reset). The rules live in `tessera_service::second_factor`.

use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::users::{RecoveryCodesView, TotpBeginRequest, TotpCodeRequest, TotpEnrolmentView};

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// Starts a TOTP enrolment (`me.write`, with `current_password`): the secret, its `otpauth://` URI and
/// a QR code of it. Nothing is asked at sign-in until it is confirmed.
#[utoipa::path(post, path = "/api/users/me/totp", tag = "users", security(("oauth2" = ["me.write"])),
    request_body = TotpBeginRequest,
    responses((status = 200, body = TotpEnrolmentView), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn begin(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<TotpBeginRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    let e = state.services.begin_totp(id, &req.current_password).await?;
    let qr = qrcode::QrCode::new(e.otpauth_uri.as_bytes()).map_err(|e| ApiError::internal(&e))?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(TotpEnrolmentView {
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
            qr_svg,
        }))
}

/// Confirms the enrolment with a current code (`me.write`); answers the ten recovery codes, shown once.
#[utoipa::path(post, path = "/api/users/me/totp/confirm", tag = "users", security(("oauth2" = ["me.write"])),
    request_body = TotpCodeRequest,
    responses((status = 200, body = RecoveryCodesView), (status = 401, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn confirm(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<TotpCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    let codes = state.services.confirm_totp(id, &req.code).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(RecoveryCodesView {
            recovery_codes: codes,
        }))
}

/// Turns TOTP off (`me.write`), proven with a current code or a recovery code.
#[utoipa::path(delete, path = "/api/users/me/totp", tag = "users", security(("oauth2" = ["me.write"])),
    request_body = TotpCodeRequest,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<TotpCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    state.services.remove_totp(id, &req.code).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An admin's reset of someone's second factors (`users.write`; audited): for a lost phone.
#[utoipa::path(delete, path = "/api/users/{id}/second-factor", tag = "users", security(("oauth2" = ["users.write"])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reset(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["users.write"])?;
    state.services.reset_second_factor(*path, Some(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
