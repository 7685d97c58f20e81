use actix_web::{web, HttpResponse};
use tessera_proto::problem::Problem;
use tessera_proto::users::{DefaultGroupRequest, GroupRequest, GroupView};
use tessera_service::permissions::GroupSpec;

use super::{grant_of, group_view};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

fn spec(req: GroupRequest) -> GroupSpec {
    GroupSpec {
        name: req.name,
        description: req.description,
        grants: req.grants.into_iter().map(grant_of).collect(),
    }
}

/// Permission groups with their grants (admin credential, `users.read`).
#[utoipa::path(get, path = "/api/permissions/groups", tag = "permissions", security(("oauth2" = ["users.read"])),
    responses((status = 200, body = [GroupView]), (status = 403, body = Problem)))]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require_admin(&state, &["users.read"])?;
    let groups = state.services.list_groups().await?;
    Ok(HttpResponse::Ok().json(groups.iter().map(group_view).collect::<Vec<_>>()))
}

/// Creates a group (admin credential, `users.write`).
#[utoipa::path(post, path = "/api/permissions/groups", tag = "permissions", security(("oauth2" = ["users.write"])), request_body = GroupRequest,
    responses((status = 201, body = GroupView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<GroupRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require_admin(&state, &["users.write"])?;
    let g = state.services.create_group(spec(req), id).await?;
    Ok(HttpResponse::Created().json(group_view(&g)))
}

/// Replaces a group's name, description and grants; members' tokens follow on their next request.
#[utoipa::path(put, path = "/api/permissions/groups/{id}", tag = "permissions", security(("oauth2" = ["users.write"])), params(("id" = i64, Path)), request_body = GroupRequest,
    responses((status = 200, body = GroupView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    web::Json(req): web::Json<GroupRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require_admin(&state, &["users.write"])?;
    let g = state
        .services
        .update_group(path.into_inner(), spec(req), id)
        .await?;
    Ok(HttpResponse::Ok().json(group_view(&g)))
}

/// Deletes a group (not the default one); its members are left without a group.
#[utoipa::path(delete, path = "/api/permissions/groups/{id}", tag = "permissions", security(("oauth2" = ["users.write"])), params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require_admin(&state, &["users.write"])?;
    state
        .services
        .delete_group(path.into_inner(), &id.subject)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Chooses the group new users join.
#[utoipa::path(put, path = "/api/permissions/default-group", tag = "permissions", security(("oauth2" = ["users.write"])), request_body = DefaultGroupRequest,
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn set_default(
    state: web::Data<AppState>,
    caller: Caller,
    web::Json(req): web::Json<DefaultGroupRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require_admin(&state, &["users.write"])?;
    state.services.set_default_group(req.group_id, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
