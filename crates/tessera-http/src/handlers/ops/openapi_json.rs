use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

use crate::openapi::{with_oauth2_scheme, ApiDoc};
use crate::AppState;

/// The OpenAPI document, generated from the handlers, with this deployment's scope catalog.
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    let catalog = &state.services.catalog;
    let names = catalog.names(catalog.all());
    HttpResponse::Ok().json(with_oauth2_scheme(ApiDoc::openapi(), &names))
}
