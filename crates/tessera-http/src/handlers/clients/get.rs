use actix_web::{web, HttpResponse};
use tessera_proto::oauth::OAuthClientView;
use tessera_proto::problem::Problem;

use super::view;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

#[utoipa::path(get, path = "/api/oauth-clients/{client_id}", tag = "oauth-clients", security(("oauth2" = ["users.write"])),
    params(("client_id" = String, Path)),
    responses((status = 200, body = OAuthClientView), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin(&state, &["users.write"])?;
    let row = state.services.get_client(&path).await?;
    Ok(HttpResponse::Ok().json(view(&row, None)))
}
