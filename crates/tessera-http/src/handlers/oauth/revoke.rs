use actix_web::{web, HttpRequest, HttpResponse};
use tessera_proto::oauth::{OAuthErrorBody, TokenParam};

use super::no_store;
use crate::error::OAuthError;
use crate::extract::client_auth::presented_client;
use crate::extract::OAuthParams;
use crate::AppState;

/// RFC 7009: 200 for unknown tokens; refresh tokens take their family (and its access tokens) along.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = TokenParam, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200), (status = 400, body = OAuthErrorBody), (status = 401, body = OAuthErrorBody)))]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let params = OAuthParams::read(&req, payload).await?;
    let client = state
        .services
        .authenticate_client(&presented_client(&state, &req, &params))
        .await?;
    let token = params.require("token")?;
    state.services.revoke(&client, token).await?;
    Ok(no_store(HttpResponse::Ok()).finish())
}
