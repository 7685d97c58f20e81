use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::devices::{DeviceAuthorization, DeviceAuthorizationRequest};
use tessera_proto::oauth::OAuthErrorBody;

use super::verification;
use crate::client_ip::client_ip;
use crate::error::OAuthError;
use crate::extract::client_auth::presented_client;
use crate::extract::OAuthParams;
use crate::handlers::oauth::no_store;
use crate::AppState;

/// RFC 8628 §3.1–3.2: a device code to poll with and a user code to show.
#[utoipa::path(post, path = "/oauth/device_authorization", tag = "oauth",
    request_body(content = DeviceAuthorizationRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = DeviceAuthorization), (status = 400, body = OAuthErrorBody), (status = 429, body = OAuthErrorBody)))]
pub async fn authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let s = &state.services;
    let params = OAuthParams::read(&req, payload).await?;
    let client = s
        .authenticate_client(&presented_client(&state, &req, &params))
        .await?;
    let ip = client_ip(&req, &s.settings.server.trusted_proxies);
    let started = s.start_rfc_device_flow(&client, params.get("scope"), &ip).await?;
    let (uri, complete) = verification(&state, &started.user_code);
    Ok(no_store(HttpResponse::Ok()).json(DeviceAuthorization {
        device_code: started.device_code,
        user_code: started.user_code,
        verification_uri: uri,
        verification_uri_complete: complete,
        expires_in: started.expires_in,
        interval: started.interval,
    }))
}
