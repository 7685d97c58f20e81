use actix_web::{web, HttpResponse};
use tessera_proto::setup::SetupStatus;

use crate::error::ApiError;
use crate::AppState;

#[utoipa::path(get, path = "/api/setup/status", tag = "setup", responses((status = 200, body = SetupStatus)))]
pub async fn status(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let needs_setup = state.services.needs_setup().await?;
    Ok(HttpResponse::Ok().json(SetupStatus { needs_setup }))
}
