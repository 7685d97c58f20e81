use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// Deletes a user (`users.write`); not oneself, not the last enabled admin.
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", security(("oauth2" = ["users.write"])), params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(&state, &["users.write"])?;
    state.services.delete_user(actor, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
