use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::setup::UserView;
use tessera_proto::users::UserCreateRequest;
use tessera_service::accounts::UserCreate;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::user_view;
use crate::AppState;

/// Creates a user (`users.write`; only an admin credential creates an admin).
#[utoipa::path(post, path = "/api/users", tag = "users", security(("oauth2" = ["users.write"])), request_body = UserCreateRequest,
    responses((status = 201, body = UserView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<UserCreateRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(&state, &["users.write"])?;
    let user = state
        .services
        .create_user_api(
            actor,
            UserCreate {
                username: req.username,
                password: req.password,
                email: req.email,
                role: req.role,
                permission_group_id: req.permission_group_id,
                enabled: req.enabled,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(user_view(&user)))
}
