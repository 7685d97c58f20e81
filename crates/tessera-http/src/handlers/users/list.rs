use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::setup::UserView;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::user_view;
use crate::AppState;

/// All users (`users.read`).
#[utoipa::path(get, path = "/api/users", tag = "users", security(("oauth2" = ["users.read"])),
    responses((status = 200, body = [UserView]), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &["users.read"])?;
    let users = state.services.list_users().await?;
    Ok(HttpResponse::Ok().json(users.iter().map(user_view).collect::<Vec<_>>()))
}

/// Every user's id (`users.read`), as RomM's `GET /api/users/identifiers`.
#[utoipa::path(get, path = "/api/users/identifiers", tag = "users", security(("oauth2" = ["users.read"])),
    responses((status = 200, body = [i64]), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn identifiers(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &["users.read"])?;
    let users = state.services.list_users().await?;
    Ok(HttpResponse::Ok().json(users.iter().map(|u| u.id).collect::<Vec<_>>()))
}
