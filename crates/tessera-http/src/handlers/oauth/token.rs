use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::oauth::{OAuthErrorBody, TokenRequestBody, TokenResponse};
use tessera_service::oauth::TokenRequest;

use super::no_store;
use crate::error::OAuthError;
use crate::extract::client_auth::presented_client;
use crate::extract::OAuthParams;
use crate::AppState;

/// Whether the response speaks plain RFC 6749 or adds RomM's fields.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Rfc,
    Romm,
}

async fn exchange(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    flavor: Flavor,
) -> Result<HttpResponse, OAuthError> {
    let params = OAuthParams::read(req, payload).await?;
    let client = state
        .services
        .authenticate_client(&presented_client(state, req, &params))
        .await?;
    let request = TokenRequest {
        grant_type: params.owned("grant_type"),
        username: params.owned("username"),
        password: params.owned("password"),
        refresh_token: params.owned("refresh_token"),
        scope: params.owned("scope"),
        device_code: params.owned("device_code"),
        code: params.owned("code"),
        redirect_uri: params.owned("redirect_uri"),
        code_verifier: params.owned("code_verifier"),
        otp: params.owned("otp"),
        client_ip: Some(crate::client_ip::client_ip(
            req,
            &state.services.settings.server.trusted_proxies,
        )),
        refresh_scope_intersects: flavor == Flavor::Romm,
    };
    let issued = state.services.exchange(&client, request).await?;
    let romm = flavor == Flavor::Romm;
    Ok(no_store(HttpResponse::Ok()).json(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer".into(),
        expires_in: issued.expires_in,
        refresh_token: issued.refresh_token,
        refresh_expires_in: issued.refresh_expires_in,
        scope: issued.scope,
        expires: romm.then_some(issued.expires_in),
        refresh_expires: if romm { issued.refresh_expires_in } else { None },
        id_token: issued.id_token,
    }))
}

/// RFC 6749 token endpoint: password, refresh_token and client_credentials grants.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenRequestBody, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenResponse), (status = 400, body = OAuthErrorBody), (status = 401, body = OAuthErrorBody)))]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    exchange(&state, &req, payload, Flavor::Rfc).await
}

/// RomM's token endpoint: the same grants, plus `expires`/`refresh_expires` and `detail` on errors.
#[utoipa::path(post, path = "/api/token", tag = "oauth",
    request_body(content = TokenRequestBody, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenResponse), (status = 400, body = OAuthErrorBody), (status = 401, body = OAuthErrorBody)))]
pub async fn romm_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    exchange(&state, &req, payload, Flavor::Romm)
        .await
        .map_err(|mut e| {
            e.detail = e.description.clone();
            if let Some(status) = e.romm_status {
                e.status = status;
            }
            e
        })
}
