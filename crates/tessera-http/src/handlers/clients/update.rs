use actix_web::{web, HttpResponse};
use tessera_proto::oauth::{OAuthClientRequest, OAuthClientView};
use tessera_proto::problem::Problem;

use super::{spec, view};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// Updates name, grant types, scopes and introspection; the secret and confidentiality stay.
#[utoipa::path(put, path = "/api/oauth-clients/{client_id}", tag = "oauth-clients", security(("oauth2" = ["users.write"])), request_body = OAuthClientRequest,
    params(("client_id" = String, Path)),
    responses((status = 200, body = OAuthClientView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    web::Json(req): web::Json<OAuthClientRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require_admin(&state, &["users.write"])?;
    let row = state
        .services
        .update_client(&path, spec(req), &id.subject, id.scopes)
        .await?;
    Ok(HttpResponse::Ok().json(view(&row, None)))
}
