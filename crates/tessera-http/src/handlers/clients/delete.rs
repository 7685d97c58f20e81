use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

#[utoipa::path(delete, path = "/api/oauth-clients/{client_id}", tag = "oauth-clients", security(("oauth2" = ["users.write"])),
    params(("client_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require_admin(&state, &["users.write"])?;
    state.services.delete_client(&path, &id.subject).await?;
    Ok(HttpResponse::NoContent().finish())
}
