use actix_web::{web, HttpResponse};
use tessera_proto::oauth::{OAuthClientRequest, OAuthClientView};
use tessera_proto::problem::Problem;

use super::{spec, view};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// Creates a client; a confidential client's `client_secret` is in this response only.
#[utoipa::path(post, path = "/api/oauth-clients", tag = "oauth-clients", security(("oauth2" = ["users.write"])), request_body = OAuthClientRequest,
    responses((status = 201, body = OAuthClientView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<OAuthClientRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require_admin(&state, &["users.write"])?;
    let created = state
        .services
        .create_client(spec(req), &id.subject, id.scopes)
        .await?;
    Ok(HttpResponse::Created().json(view(&created.row, created.client_secret)))
}
