use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::users::MyPermissions;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::handlers::views::principal_of;
use crate::AppState;

/// My rights and what this credential may do (`me.read`).
#[utoipa::path(get, path = "/api/permissions/me", tag = "permissions", security(("oauth2" = ["me.read"])),
    responses((status = 200, body = MyPermissions), (status = 401, body = Problem)))]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.require(&state, &["me.read"])?;
    let p = principal_of(id)?;
    let s = &state.services;
    let rights = s.rights_of(p.user_id).await?;
    let names = |set| s.catalog.names(set).into_iter().map(str::to_owned).collect();
    Ok(HttpResponse::Ok().json(MyPermissions {
        role: p.role.as_str().to_owned(),
        permission_group_id: p.permission_group_id,
        rights: names(rights),
        effective: names(id.scopes),
    }))
}
