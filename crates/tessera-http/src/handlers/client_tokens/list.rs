use actix_web::{web, HttpResponse};
use tessera_proto::client_tokens::ClientToken;
use tessera_proto::problem::Problem;

use super::view;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::principal_of;
use crate::AppState;

/// My tokens, newest first (`me.read`).
#[utoipa::path(get, path = "/api/client-tokens", tag = "client-tokens", security(("oauth2" = ["me.read"])),
    responses((status = 200, body = [ClientToken]), (status = 401, body = Problem)))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.read"])?;
    let s = &state.services;
    let rows = s.list_client_tokens(principal_of(id)?.user_id).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|r| view(r, &s.catalog)).collect::<Vec<_>>()))
}
