use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::oauth::{IntrospectionResponse, OAuthErrorBody, TokenParam};

use super::no_store;
use crate::error::OAuthError;
use crate::extract::client_auth::client_auth;
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
    let hint = params.get("token_type_hint");
    let client;
    let who = match req.headers().get(s.settings.auth.service_key_header.as_str()) {
        Some(v) => Introspector::ServiceKey(v.as_bytes()),
        None => {
            client = client_auth(&req, &params)?;
            Introspector::Client(&client)
        }
    };
    let body = match s.introspect_as(who, &token, hint.as_deref()).await? {
        None => IntrospectionResponse::default(),
        Some(a) => IntrospectionResponse {
            active: true,
            token_type: Some(a.token_type),
            credential: Some(a.credential),
            scope: Some(a.scope),
            client_id: a.client_id,
            sub: Some(a.sub),
            username: a.username,
            role: a.role,
            device_id: a.device_id,
            exp: a.exp,
            iat: a.iat,
            iss: Some(s.settings.server.public_url.clone()),
            jti: a.jti,
        },
    };
    Ok(no_store(HttpResponse::Ok()).json(body))
}
