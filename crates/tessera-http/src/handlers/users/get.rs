use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::setup::UserView;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::user_view;
use crate::AppState;

/// One user (`users.read`).
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", security(("oauth2" = ["users.read"])), params(("id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &["users.read"])?;
    let user = state.services.get_user(path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(user_view(&user)))
}
