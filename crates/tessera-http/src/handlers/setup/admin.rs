use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::setup::{SetupAdminRequest, UserView};

use crate::error::ApiError;
use crate::handlers::views::user_view;
use crate::AppState;

/// Creates the first admin, only while none exists. Of racing calls exactly one wins.
#[utoipa::path(post, path = "/api/setup/admin", tag = "setup", request_body = SetupAdminRequest, responses(
    (status = 201, body = UserView),
    (status = 409, description = "setup_closed", body = Problem),
    (status = 403, description = "setup_disabled", body = Problem),
    (status = 422, body = Problem)))]
pub async fn admin(
    state: web::Data<AppState>,
    web::Json(req): web::Json<SetupAdminRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .services
        .create_first_admin(req.username, req.password, req.email)
        .await?;
    Ok(HttpResponse::Created().json(user_view(&user)))
}
