use actix_web::HttpResponse;
use utoipa::OpenApi;

use crate::openapi::ApiDoc;

/// The OpenAPI document, generated from the handlers.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
