use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::oauth::{IntrospectionResponse, OAuthErrorBody, TokenParam};

use super::json_no_store;
use crate::error::OAuthError;
use crate::extract::client_auth::presented_client;
use crate::extract::OAuthParams;
use crate::AppState;
use tessera_service::oauth::introspect::Introspector;

/// RFC 7662. The caller is a confidential client allowed to introspect, or the service key.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content = TokenParam, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = IntrospectionResponse), (status = 401, body = OAuthErrorBody)))]
pub async fn introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let s = &state.services;
    let params = OAuthParams::read(&req, payload).await?;
    let token = params.require("token")?;
    let service_key = state.headers.service_key.as_ref();
    let who = match service_key.and_then(|name| req.headers().get(name)) {
        Some(v) => Introspector::ServiceKey(v.as_bytes()),
        None => Introspector::Client(presented_client(&state, &req, &params)),
    };
    let active = s.introspect_as(who, token, params.get("token_type_hint")).await?;
    let body = match &active {
        None => IntrospectionResponse::default(),
        Some(a) => IntrospectionResponse {
            active: true,
            token_type: Some(a.token_type),
            credential: Some(a.credential),
            scope: Some(&a.scope),
            client_id: a.client_id.as_deref(),
            sub: Some(&a.sub),
            username: a.owner.as_ref().map(|p| p.username.as_str()),
            role: a.owner.as_ref().map(|p| p.role.as_str()),
            device_id: a.device_id.as_deref(),
            exp: a.exp,
            iat: a.iat,
            iss: Some(&s.settings.server.public_url),
            jti: a.jti.as_deref(),
        },
    };
    // Sized for a whole answer at once: growing from serde_json's default buffer copied it twice.
    let mut json = Vec::with_capacity(768);
    serde_json::to_writer(&mut json, &body).map_err(|e| OAuthError::new("server_error", e.to_string()))?;
    Ok(json_no_store(json))
}
