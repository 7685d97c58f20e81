use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::devices::{DeviceAuthorization, DeviceAuthorizationRequest};
use tessera_proto::oauth::OAuthErrorBody;
use tessera_service::device_flow::{DeviceInfo, Flavor};
use tessera_service::oauth::{parse_requested_scope, GRANT_DEVICE_CODE};
use tessera_service::ratelimit::LimitedAction;

use super::verification;
use crate::client_ip::client_ip;
use crate::error::OAuthError;
use crate::extract::client_auth::client_auth;
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
    let client = s.authenticate_client(&client_auth(&req, &params)?).await?;
    if !client.allows(GRANT_DEVICE_CODE) {
        return Err(OAuthError::new(
            "unauthorized_client",
            "this client may not use the device flow",
        ));
    }
    let ip = client_ip(&req, &s.settings.server.trusted_proxies);
    s.limits
        .charge(LimitedAction::DeviceInit, &ip, s.clock.now())
        .await?;
    let requested = parse_requested_scope(&s.catalog, params.get("scope").as_deref())?
        .unwrap_or(client.scopes)
        .and(client.scopes);
    if requested.is_empty() {
        return Err(OAuthError::new(
            "invalid_scope",
            "none of the requested scopes is allowed for this client",
        ));
    }
    let info = DeviceInfo {
        client_device_identifier: format!("rfc8628:{}", tessera_crypto::random::hex_secret(8)),
        name: client.client_id.clone(),
        client: client.client_id.clone(),
        platform: None,
        client_version: None,
    };
    let started = s.start_device_flow(Flavor::Rfc, &client, info, requested).await?;
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
