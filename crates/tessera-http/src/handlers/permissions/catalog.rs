use actix_web::{web, HttpResponse};
use tessera_core::rights::{ACTIONS, ENTITIES};
use tessera_proto::problem::Problem;
use tessera_proto::users::CatalogView;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// The scope catalog and the grantable entities and actions (any signed-in caller).
#[utoipa::path(get, path = "/api/permissions/catalog", tag = "permissions", security(("oauth2" = [])),
    responses((status = 200, body = CatalogView), (status = 401, body = Problem)))]
pub async fn catalog(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(&state, &[])?;
    let c = &state.services.catalog;
    Ok(HttpResponse::Ok().json(CatalogView {
        scopes: c.names(c.all()).into_iter().map(str::to_owned).collect(),
        entities: ENTITIES.iter().map(|e| (*e).to_owned()).collect(),
        actions: ACTIONS.iter().map(|a| (*a).to_owned()).collect(),
    }))
}
