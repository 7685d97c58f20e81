use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::principal_of;
use crate::AppState;

/// Deletes one of my tokens (`me.write`); another user's is a 404.
#[utoipa::path(delete, path = "/api/client-tokens/{id}", tag = "client-tokens", security(("oauth2" = ["me.write"])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.write"])?;
    state
        .services
        .delete_client_token(Some(principal_of(id)?.user_id), path.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
