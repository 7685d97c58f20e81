use actix_web::{web, HttpResponse};
use tessera_proto::oauth::OAuthClientView;
use tessera_proto::problem::Problem;

use super::view;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

#[utoipa::path(get, path = "/api/oauth-clients", tag = "oauth-clients", security(("oauth2" = ["users.write"])),
    responses((status = 200, body = [OAuthClientView]), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require_admin(&state, &["users.write"])?;
    let rows = state.services.list_clients().await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|r| view(r, None)).collect::<Vec<_>>()))
}
