use actix_web::{web, HttpResponse};
use tessera_proto::client_tokens::{ClientTokenCreate, ClientTokenRequest};
use tessera_proto::problem::Problem;

use super::created;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// Creates a token (`me.write`). Its scopes must lie within the calling credential's; at most 25 live.
#[utoipa::path(post, path = "/api/client-tokens", tag = "client-tokens", security(("oauth2" = ["me.write"])), request_body = ClientTokenRequest,
    responses((status = 201, body = ClientTokenCreate), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<ClientTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    let s = &state.services;
    let c = s
        .create_client_token(id, &req.name, &req.scopes, req.expires_in.as_deref())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(created(c, &s.catalog)))
}
