use actix_web::{web, HttpResponse};
use tessera_proto::client_tokens::ClientTokenCreate;
use tessera_proto::problem::Problem;

use super::created;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// A new secret for the same token; the old one stops working at once (`me.write`).
#[utoipa::path(put, path = "/api/client-tokens/{id}/regenerate", tag = "client-tokens", security(("oauth2" = ["me.write"])), params(("id" = i64, Path)),
    responses((status = 200, body = ClientTokenCreate), (status = 404, body = Problem)))]
pub async fn regenerate(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    let s = &state.services;
    let c = s.regenerate_client_token(id, path.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(created(c, &s.catalog)))
}
