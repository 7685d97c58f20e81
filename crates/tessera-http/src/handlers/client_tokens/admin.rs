use actix_web::{web, HttpResponse};
use tessera_proto::client_tokens::ClientTokenAdmin;
use tessera_proto::problem::Problem;

use super::view;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// Every user's tokens (`users.read`).
#[utoipa::path(get, path = "/api/client-tokens/all", tag = "client-tokens", security(("oauth2" = ["users.read"])),
    responses((status = 200, body = [ClientTokenAdmin]), (status = 403, body = Problem)))]
pub async fn all(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &["users.read"])?;
    let s = &state.services;
    let rows = s.list_all_client_tokens().await?;
    Ok(HttpResponse::Ok().json(
        rows.iter()
            .map(|(r, username)| ClientTokenAdmin {
                token: view(r, &s.catalog),
                username: username.clone(),
            })
            .collect::<Vec<_>>(),
    ))
}

/// Deletes anyone's token (`users.write`).
#[utoipa::path(delete, path = "/api/client-tokens/{id}/admin", tag = "client-tokens", security(("oauth2" = ["users.write"])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &["users.write"])?;
    state
        .services
        .delete_client_token(None, path.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
