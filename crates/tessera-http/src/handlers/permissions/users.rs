use actix_web::{web, HttpResponse};
use tessera_core::rights::Effect;
use tessera_proto::problem::Problem;
use tessera_proto::users::UserPermissionsView;
use tessera_service::permissions::UserPermissions;

use super::{grant_of, override_view};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// A user's group and overrides (admin credential, `users.read`).
#[utoipa::path(get, path = "/api/permissions/users/{user_id}", tag = "permissions", security(("oauth2" = ["users.read"])), params(("user_id" = i64, Path)),
    responses((status = 200, body = UserPermissionsView), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin(&state, &["users.read"])?;
    let p = state.services.user_permissions(path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UserPermissionsView {
        permission_group_id: p.permission_group_id,
        overrides: p.overrides.iter().map(override_view).collect(),
    }))
}

/// Sets a user's group and overrides; their existing tokens follow on the next request.
#[utoipa::path(put, path = "/api/permissions/users/{user_id}", tag = "permissions", security(("oauth2" = ["users.write"])), params(("user_id" = i64, Path)),
    request_body = UserPermissionsView,
    responses((status = 200, body = UserPermissionsView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    web::Json(req): web::Json<UserPermissionsView>,
) -> Result<HttpResponse, ApiError> {
    let id = caller.require_admin(&state, &["users.write"])?;
    let mut overrides = Vec::new();
    for (i, o) in req.overrides.into_iter().enumerate() {
        let effect = match o.effect.as_str() {
            "grant" => Effect::Grant,
            "revoke" => Effect::Revoke,
            _ => {
                return Err(ApiError::validation(vec![tessera_proto::problem::FieldError {
                    field: format!("overrides[{i}].effect"),
                    message: "must be \"grant\" or \"revoke\"".into(),
                }]))
            }
        };
        overrides.push((
            grant_of(tessera_proto::users::GrantView {
                entity: o.entity,
                action: o.action,
                own_only: o.own_only,
            }),
            effect,
        ));
    }
    let user_id = path.into_inner();
    let s = &state.services;
    s.set_user_permissions(
        user_id,
        UserPermissions {
            permission_group_id: req.permission_group_id,
            overrides,
        },
        id,
    )
    .await?;
    let p = s.user_permissions(user_id).await?;
    Ok(HttpResponse::Ok().json(UserPermissionsView {
        permission_group_id: p.permission_group_id,
        overrides: p.overrides.iter().map(override_view).collect(),
    }))
}
