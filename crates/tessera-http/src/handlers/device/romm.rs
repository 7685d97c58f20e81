//! RomM's device endpoints: the same state as RFC 8628, JSON bodies, errors with `detail`.

use actix_web::{web, HttpRequest, HttpResponse};
use tessera_core::UnixTime;
use tessera_proto::devices::{
    DeviceApproveRequest, DeviceApproveResponse, DeviceInitRequest, DeviceInitResponse, DevicePending,
    DeviceTokenRequest, DeviceTokenResponse, UserCodeRequest,
};
use tessera_proto::oauth::OAuthErrorBody;
use tessera_proto::problem::Problem;
use tessera_service::device_flow::{display_user_code, DeviceInfo, Flavor, Poll};

use super::verification;
use crate::client_ip::client_ip;
use crate::error::{ApiError, OAuthError};
use crate::extract::Caller;
use crate::handlers::oauth::no_store;
use crate::AppState;

fn check_len(field: &str, v: &str, max: usize) -> Result<(), ApiError> {
    if v.trim().is_empty() || v.len() > max {
        return Err(ApiError::validation(vec![tessera_proto::problem::FieldError {
            field: field.to_owned(),
            message: format!("must be 1-{max} characters"),
        }]));
    }
    Ok(())
}

/// Starts pairing a device (no credential; 10 per minute per client IP).
#[utoipa::path(post, path = "/api/auth/device/init", tag = "devices", request_body = DeviceInitRequest,
    responses((status = 201, body = DeviceInitResponse), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn init(
    state: web::Data<AppState>,
    req: HttpRequest,
    web::Json(body): web::Json<DeviceInitRequest>,
) -> Result<HttpResponse, ApiError> {
    let s = &state.services;
    check_len("client_device_identifier", &body.client_device_identifier, 255)?;
    check_len("name", &body.name, 255)?;
    check_len("client", &body.client, 255)?;
    let info = DeviceInfo {
        client_device_identifier: body.client_device_identifier,
        name: body.name,
        client: body.client,
        platform: body.platform,
        client_version: body.client_version,
    };
    let ip = client_ip(&req, &s.settings.server.trusted_proxies);
    let started = s
        .start_romm_device_flow(info, &body.requested_scopes, &ip)
        .await?;
    let (uri, complete) = verification(&state, &started.user_code);
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(DeviceInitResponse {
            device_code: started.device_code,
            verification_path: "/device".into(),
            verification_path_complete: format!(
                "/device?user_code={}",
                display_user_code(&started.user_code)
            ),
            user_code: started.user_code,
            verification_uri: uri,
            verification_uri_complete: complete,
            expires_in: started.expires_in,
            interval: started.interval,
        }))
}

/// What a pending code asks for, and what this credential may approve (`me.read`).
#[utoipa::path(get, path = "/api/auth/device/pending/{user_code}", tag = "devices", security(("oauth2" = ["me.read"])), params(("user_code" = String, Path)),
    responses((status = 200, body = DevicePending), (status = 404, body = Problem)))]
pub async fn pending(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.read"])?;
    let s = &state.services;
    let p = s.pending_device(id, &path).await?;
    let names = |set| s.catalog.names(set).into_iter().map(str::to_owned).collect();
    Ok(HttpResponse::Ok().json(DevicePending {
        client_device_identifier: p.info.client_device_identifier,
        name: p.info.name,
        client: p.info.client,
        platform: p.info.platform,
        client_version: p.info.client_version,
        requested_scopes: names(p.requested),
        allowed_scopes: names(p.allowed),
        expires_at: UnixTime(p.expires_at).to_rfc3339(),
    }))
}

/// Approves a code with some or all of the requested scopes (`me.write`).
#[utoipa::path(post, path = "/api/auth/device/approve", tag = "devices", security(("oauth2" = ["me.write"])), request_body = DeviceApproveRequest,
    responses((status = 200, body = DeviceApproveResponse), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn approve(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(body): web::Json<DeviceApproveRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    let (device_id, device_name) = state
        .services
        .approve_device(
            id,
            &body.user_code,
            &body.approved_scopes,
            body.device_name.as_deref(),
            body.expires_in.as_deref(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(DeviceApproveResponse {
        device_id,
        device_name,
    }))
}

/// Denies a code (`me.write`).
#[utoipa::path(post, path = "/api/auth/device/deny", tag = "devices", security(("oauth2" = ["me.write"])), request_body = UserCodeRequest,
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn deny(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(body): web::Json<UserCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    state.services.deny_device(id, &body.user_code).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn poll_error(code: &'static str) -> OAuthError {
    let mut e = OAuthError::new(code, code);
    e.detail = Some(code.to_owned());
    e
}

/// The device's poll: a client token bound to the device once approved, exactly once.
#[utoipa::path(post, path = "/api/auth/device/token", tag = "devices", request_body = DeviceTokenRequest,
    responses((status = 200, body = DeviceTokenResponse), (status = 400, body = OAuthErrorBody)))]
pub async fn token(
    state: web::Data<AppState>,
    web::Json(body): web::Json<DeviceTokenRequest>,
) -> Result<HttpResponse, OAuthError> {
    let s = &state.services;
    match s
        .poll_device(Flavor::Romm, &body.device_code, None)
        .await
        .map_err(|e| {
            let mut o = OAuthError::from(e);
            o.detail = Some(o.error.to_owned());
            o
        })? {
        Poll::Romm {
            raw_token,
            device_id,
            scopes,
            expires_at,
        } => Ok(no_store(HttpResponse::Ok()).json(DeviceTokenResponse {
            access_token: raw_token,
            token_type: "Bearer".into(),
            device_id,
            scopes: s.catalog.names(scopes).into_iter().map(str::to_owned).collect(),
            expires_at: expires_at.map(|t| UnixTime(t).to_rfc3339()),
        })),
        Poll::Pending => Err(poll_error("authorization_pending")),
        Poll::SlowDown { .. } => Err(poll_error("slow_down")),
        Poll::Denied => Err(poll_error("access_denied")),
        // RomM's launchers treat a used or unknown code as expired.
        Poll::Expired | Poll::Invalid | Poll::Rfc(_) => Err(poll_error("expired_token")),
    }
}
